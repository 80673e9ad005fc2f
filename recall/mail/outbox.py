"""The mail adapter used when no SMTP server is configured: each message a .eml file."""

from __future__ import annotations

import os
from pathlib import Path

from recall.mail.port import WRITTEN_DOWN, HandOver, MailConnection, Mailer, Outgoing


class OutboxMailer(Mailer):
    """Writes every message to `folder` as `<n>.eml`, ready for any mail tool to send."""

    name = "outbox"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def connect(self) -> MailConnection:
        self.folder.mkdir(parents=True, exist_ok=True)
        return _OutboxConnection(self.folder)


class _OutboxConnection(MailConnection):
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: Outgoing, hand_over: HandOver) -> str | None:
        name = _file_name(message.data)
        partial = self.folder / f".{name}.part"
        partial.write_bytes(message.data)
        if not hand_over():
            partial.unlink(missing_ok=True)
            return None
        os.replace(partial, self.folder / name)
        return f"{WRITTEN_DOWN}written as {name}"

    def close(self) -> None:
        return None


def _file_name(data: bytes) -> str:
    """The file of a message: its Message-ID's left part (a case reference), made safe."""
    for line in data.split(b"\r\n", 40):
        if line.lower().startswith(b"message-id:"):
            left = line.split(b":", 1)[1].strip().strip(b"<>").split(b"@")[0]
            safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in left.decode())
            return f"{safe}.eml"
    raise ValueError("a message without a Message-ID")
