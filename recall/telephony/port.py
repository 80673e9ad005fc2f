"""The telephony port: what the call list needs from a phone provider, whoever it is."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass

from recall.domain.contacts import mask_phone

_PHONE = re.compile(r"\+\d{3,15}")


class TelephonyError(Exception):
    """The provider refused or could not be reached; `permanent` when retrying won't help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(hide_phones(message))
        self.permanent = permanent


def hide_phones(text: str) -> str:
    """Providers quote the number in their errors; ours must never show it in clear."""
    return _PHONE.sub(lambda m: mask_phone(m.group()) if len(m.group()) > 8 else "+***", text)


@dataclass(frozen=True)
class CallRequest:
    """Click-to-call: ring the agent, then (when they answer) `answer_url` bridges the customer."""

    agent_phone: str
    caller_id: str
    answer_url: str
    status_url: str


@dataclass(frozen=True)
class MessageRequest:
    to: str
    sender: str
    body: str
    status_url: str


class Telephony(ABC):
    name: str

    @abstractmethod
    def place_call(self, request: CallRequest) -> str:
        """Start the call; return the provider's id for it."""

    @abstractmethod
    def send_message(self, request: MessageRequest) -> str:
        """Send a text message; return the provider's id for it."""
