"""The telephony port: what the call list needs from a phone provider, whoever it is."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass

from recall.domain.contacts import mask_phone
from recall.domain.errors import Unavailable

_PHONE = re.compile(r"\+\d{3,15}")


class TelephonyError(Unavailable):
    """The provider refused or could not be reached; `permanent` when retrying won't help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(hide_phones(message))
        self.permanent = permanent


def hide_phones(text: str) -> str:
    """Providers quote the number in their errors; ours must never show it in clear."""
    return _PHONE.sub(lambda m: mask_phone(m.group()) if len(m.group()) > 8 else "+***", text)


# Our webhook routes, where the provider reports what happened (web/twilio_hooks.py serves them;
# their paths are part of what a provider's account is configured with, so they stay put).
VOICE = "/twilio/voice/{attempt_id}"
LEG_STATUS = "/twilio/leg-status/{attempt_id}"
AGENT_STATUS = "/twilio/agent-status/{attempt_id}"
MESSAGE_STATUS = "/twilio/message-status/{message_id}"


@dataclass(frozen=True)
class Callbacks:
    """The webhook addresses of one call attempt or message, under our public address."""

    public_url: str

    def voice(self, attempt_id: int) -> str:
        return self.public_url + VOICE.format(attempt_id=attempt_id)

    def leg_status(self, attempt_id: int) -> str:
        return self.public_url + LEG_STATUS.format(attempt_id=attempt_id)

    def agent_status(self, attempt_id: int) -> str:
        return self.public_url + AGENT_STATUS.format(attempt_id=attempt_id)

    def message_status(self, message_id: int) -> str:
        return self.public_url + MESSAGE_STATUS.format(message_id=message_id)


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
