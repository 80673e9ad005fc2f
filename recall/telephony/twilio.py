"""The telephony adapter on Twilio's SDK: click-to-call, text messages, and the bridge TwiML."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client
from twilio.twiml.voice_response import Dial, VoiceResponse

from recall.telephony.port import CallRequest, MessageRequest, Telephony, TelephonyError
from recall.telephony.twilio_http import RedirectingHttpClient

RING_AGENT_SECONDS = 30
RING_CUSTOMER_SECONDS = 40  # about eight rings: enough for an older customer to reach the phone


class TwilioTelephony(Telephony):
    name = "twilio"

    def __init__(self, *, account_sid: str, auth_token: str, api_base: str | None = None) -> None:
        http = RedirectingHttpClient(api_base) if api_base else None
        self.client = Client(account_sid, auth_token, http_client=http)

    def place_call(self, request: CallRequest) -> str:
        """Twilio rings the agent; once they answer it fetches `answer_url` for the bridge."""
        with _translated("call"):
            call = self.client.calls.create(
                to=request.agent_phone,
                from_=request.caller_id,
                url=request.answer_url,
                status_callback=request.status_url,
                status_callback_event=["completed"],
                timeout=RING_AGENT_SECONDS,
            )
        return str(call.sid)

    def send_message(self, request: MessageRequest) -> str:
        with _translated("text message"):
            message = self.client.messages.create(
                to=request.to,
                from_=request.sender,
                body=request.body,
                status_callback=request.status_url,
            )
        return str(message.sid)


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """No Twilio exception leaves the adapter: each becomes one TelephonyError."""
    try:
        yield
    except TwilioRestException as error:
        permanent = 400 <= (error.status or 500) < 500 and error.status != 429
        raise TelephonyError(
            f"Twilio refused the {what} (error {error.code}: {error.msg})", permanent=permanent
        ) from None
    except (TwilioException, OSError) as error:  # TwilioServiceException, network errors
        raise TelephonyError(
            f"Twilio could not be reached for the {what}: {error}", permanent=False
        ) from None


def bridge_twiml(*, customer_phone: str, caller_id: str, leg_status_url: str) -> str:
    """What Twilio plays to the agent who answered: dial the customer, the hotline as caller id.

    Answering-machine detection on the customer's leg tells a voicemail from a person.
    """
    response = VoiceResponse()
    dial = Dial(caller_id=caller_id, timeout=RING_CUSTOMER_SECONDS)
    dial.number(
        customer_phone,
        status_callback=leg_status_url,
        status_callback_event="completed",
        machine_detection="Enable",
    )
    response.append(dial)
    return str(response)


def signature_is_valid(
    *, auth_token: str, url: str, form: dict[str, str], signature: str, settings_header: str | None
) -> bool:
    """Whether Twilio signed this request: its signature over the URL it called and the form
    it posted, with the algorithm the account's webhook settings name."""
    from twilio.request_validator import RequestValidator, get_signature_algorithm

    if not auth_token:
        return False
    algorithm = get_signature_algorithm(settings_header)
    return RequestValidator(auth_token).validate(url, form, signature, algorithm)
