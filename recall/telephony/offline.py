"""The telephony adapter used when no provider is configured: it only records what it would do."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import asdict
from pathlib import Path

from recall.domain.contacts import mask_phone
from recall.telephony.port import CallRequest, MessageRequest, Telephony


class OfflineTelephony(Telephony):
    """Keeps every request in `sent`, and a line per request (numbers masked) in `outbox`."""

    name = "offline"

    def __init__(self, outbox: Path | None = None) -> None:
        self.outbox = outbox
        self.sent: list[CallRequest | MessageRequest] = []

    def place_call(self, request: CallRequest) -> str:
        return self._record("call", request, masked={"agent_phone": request.agent_phone})

    def send_message(self, request: MessageRequest) -> str:
        return self._record("message", request, masked={"to": request.to})

    def _record(
        self, kind: str, request: CallRequest | MessageRequest, masked: dict[str, str]
    ) -> str:
        self.sent.append(request)
        sid = f"OFFLINE-{kind}-{uuid.uuid4().hex[:16]}"
        if self.outbox is not None:
            line = asdict(request) | {k: mask_phone(v) for k, v in masked.items()}
            line |= {"kind": kind, "sid": sid, "at": dt.datetime.now(dt.UTC).isoformat()}
            self.outbox.parent.mkdir(parents=True, exist_ok=True)
            with self.outbox.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        return sid
