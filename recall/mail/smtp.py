"""The SMTP adapter: smtplib, with the message's end held back until it is handed over.

`smtp://user:password@host:587` uses STARTTLS whenever the server offers it (add
`?starttls=required` to refuse a server that doesn't); `smtps://host:465` is TLS from the
start. The password may be percent-encoded in the URL.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from recall.domain.emails import hide_emails
from recall.mail.port import HandOver, MailConnection, Mailer, MailError, Outgoing

_LEADING_DOT = re.compile(rb"(?m)^\.")
TIMEOUT_S = 60


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: bool  # TLS from the start (smtps)
    starttls: str  # "if-offered" | "required"
    user: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """Read RECALL_SMTP_URL; ValueError naming what is wrong (never the password)."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("RECALL_SMTP_URL must look like smtp://user:password@host:587")
        starttls = parse_qs(parts.query).get("starttls", ["if-offered"])[0]
        if starttls not in ("if-offered", "required"):
            raise ValueError("RECALL_SMTP_URL: starttls is if-offered or required")
        tls = parts.scheme == "smtps"
        return cls(
            parts.hostname, parts.port or (465 if tls else 587), tls, starttls,
            unquote(parts.username or ""), unquote(parts.password or ""),
        )  # fmt: skip


class SmtpMailer(Mailer):
    name = "smtp"

    def __init__(self, server: SmtpServer, context: ssl.SSLContext | None = None) -> None:
        self.server = server
        self.context = context or ssl.create_default_context()

    def connect(self) -> MailConnection:
        server = self.server
        try:
            if server.tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    server.host, server.port, timeout=TIMEOUT_S, context=self.context
                )
            else:
                smtp = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_S)
            smtp.ehlo()
            if not server.tls and smtp.has_extn("starttls"):
                smtp.starttls(context=self.context)
                smtp.ehlo()
            elif not server.tls and server.starttls == "required":
                smtp.close()
                raise MailError("the mail server offers no STARTTLS", permanent=True)
            if server.user:
                smtp.login(server.user, server.password)
            # The end of data goes in a write of its own: without this, Nagle's algorithm holds
            # it until the server acknowledges the data, a delayed ACK of up to 40 ms a message.
            if smtp.sock is not None:
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except smtplib.SMTPAuthenticationError:
            raise MailError(
                "the mail server refused the user and password", permanent=True
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(
                f"mail server {server.host}:{server.port}: {exc}", permanent=False
            ) from None
        return _SmtpConnection(smtp)


def _plain(address: str) -> bool:
    """An address smtplib would send as `<address>`: printable ASCII, no name, no brackets."""
    return address.isascii() and address.isprintable() and not any(c in address for c in '<>" (')


class _SmtpConnection(MailConnection):
    def __init__(self, smtp: smtplib.SMTP) -> None:
        self.smtp = smtp

    def send(self, message: Outgoing, hand_over: HandOver) -> str | None:
        smtp = self.smtp
        try:
            self._envelope(message)
            data = _LEADING_DOT.sub(b"..", message.data)
            smtp.send(data if data.endswith(b"\r\n") else data + b"\r\n")
            if not hand_over():
                smtp.close()  # the server drops a message whose end never came
                return None
            smtp.send(b".\r\n")
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"the mail server connection broke: {exc}", permanent=False) from None
        if code != 250:
            raise MailError(f"the mail server refused the message: {code}", permanent=code >= 500)
        return f"{code} {reply.decode('utf-8', 'replace')}"

    def _envelope(self, message: Outgoing) -> None:
        """MAIL, RCPT and DATA. Plain addresses skip smtplib's parsing of each (a tenth of the
        sender's time per message); any other, such as an address in UTF-8, goes through it."""
        smtp = self.smtp
        if not all(_plain(a) for a in (message.sender, message.recipient)):
            options = ["SMTPUTF8"] if not message.recipient.isascii() else []
            self._expect(smtp.mail(message.sender, options), (250,))
            self._expect(smtp.rcpt(message.recipient), (250, 251))
            self._expect(smtp.docmd("data"), (354,))
            return
        for command, codes in (
            (f"mail FROM:<{message.sender}>", (250,)),
            (f"rcpt TO:<{message.recipient}>", (250, 251)),
            ("data", (354,)),
        ):
            smtp.putcmd(command)
            self._expect(smtp.getreply(), codes)

    def _expect(self, answer: tuple[int, bytes], codes: tuple[int, ...]) -> None:
        code, reply = answer
        if code not in codes:
            self.smtp.rset()
            text = hide_emails(reply.decode("utf-8", "replace"))
            raise MailError(f"the mail server answered {code} {text}", permanent=code >= 500)

    def close(self) -> None:
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            self.smtp.close()
