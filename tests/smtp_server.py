"""A real SMTP server for the tests and the benchmark (aiosmtpd), which keeps what it received.

It can refuse chosen recipients, hold every message once a number has arrived (to stop a
sender at a known point), and speak STARTTLS with a login.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import threading
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from tests.servers import free_port


@dataclass
class Mailbox:
    """What the server took: each message's recipients and bytes, counted per address."""

    keep_bytes: bool = True
    refuse: dict[str, str] = field(default_factory=dict)  # address -> "550 ..." or "451 ..."
    hold_after: int | None = None  # once this many arrived, hold the next until released
    received: Counter[str] = field(default_factory=Counter)
    messages: list[tuple[str, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)
    holding: int = 0

    @property
    def total(self) -> int:
        return sum(self.received.values())

    def parsed(self, address: str) -> list[EmailMessage]:
        return [message_from_bytes(data, policy=policy.default)  # type: ignore[misc]
                for to, data in self.messages if to == address]  # fmt: skip

    async def handle_RCPT(self, server, session, envelope: Envelope, address: str, options):
        refusal = self.refuse.get(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope: Envelope) -> str:
        # The end of data has arrived: like a real server, the message is ours from here.
        with self.lock:
            for to in envelope.rcpt_tos:
                self.received[to] += 1
                if self.keep_bytes:
                    self.messages.append((to, bytes(envelope.content or b"")))
            hold = self.hold_after is not None and self.total > self.hold_after
            self.holding += hold
        while hold and not self.released.is_set():
            await asyncio.sleep(0.02)
        return "250 Message accepted for delivery"


class _Logins:
    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user, password

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (self.user, self.password)
        return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    mailbox: Mailbox
    controller: Controller
    cafile: Path | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.controller.port}"

    def stop(self) -> None:
        self.mailbox.released.set()
        self.controller.stop()


def start_server(mailbox: Mailbox, *, tls_dir: Path | None = None, login=None) -> SmtpServer:
    """The server on a free port of 127.0.0.1; with `tls_dir`, STARTTLS on a certificate made
    there (its file is `cafile`), with `login` (user, password) required."""
    options: dict = {}
    cafile = None
    if tls_dir is not None:
        cafile, context = _certificate(tls_dir)
        options = {"tls_context": context, "require_starttls": True}
    if login is not None:
        options |= {"authenticator": _Logins(*login), "auth_required": True}
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), ready_timeout=60,
                            data_size_limit=10 << 20, **options)  # fmt: skip
    controller.start()
    return SmtpServer(mailbox, controller, cafile)


def _certificate(folder: Path) -> tuple[Path, ssl.SSLContext]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert, private = folder / "smtp.pem", folder / "smtp.key"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, private)
    return cert, context
