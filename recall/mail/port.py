"""The mail port: what the e-mail notices need of a mail server, whoever it is."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from recall.domain.errors import Unavailable


class MailError(Unavailable):
    """The server refused the message or could not be reached; `permanent`: never retry it."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Outgoing:
    """One message, ready to go: its envelope and its bytes (headers and body)."""

    sender: str  # the envelope's MAIL FROM, a bare address
    recipient: str
    data: bytes


# The start of the reply of an adapter that only wrote the message down (the outbox): the
# message reached nobody yet, and the case is not notified by it.
WRITTEN_DOWN = "outbox: "

# Called once the message's data is with the server and only its end is left to send. It
# returns False to abandon the message (the server then drops it); True to send its end.
HandOver = Callable[[], bool]


class MailConnection(ABC):
    """One open connection to the server, used by one sender at a time."""

    @abstractmethod
    def send(self, message: Outgoing, hand_over: HandOver) -> str | None:
        """Send `message`; the server's reply, or None when `hand_over` abandoned it."""

    @abstractmethod
    def close(self) -> None:
        """Say goodbye to the server."""


class Mailer(ABC):
    name: str

    @abstractmethod
    def connect(self) -> MailConnection:
        """A new connection; MailError when the server can't be reached."""
