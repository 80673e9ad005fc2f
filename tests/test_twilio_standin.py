"""The Twilio stand-in answers the real twilio SDK, and posts the callbacks Twilio would."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from recall.telephony.twilio_http import RedirectingHttpClient
from tests.twilio_standin import TwilioStandIn

AGENT = "+33612000001"  # Amélie, on the recall desk
CUSTOMER = "+33612345678"  # Élodie Lefèvre, who bought the drill
DESK = "+33970000000"  # the number customers see


class Received(NamedTuple):
    path: str
    params: dict[str, str]
    signature: str
    valid: bool


class Receiver:
    """Our side of the webhooks: TwiML on /twiml, 204 elsewhere, 403 for a bad signature."""

    def __init__(self, auth_token: str) -> None:
        self.twiml = "<Response/>"
        self.requests: list[Received] = []
        validator = RequestValidator(auth_token)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                params = dict(parse_qsl(body, keep_blank_values=True))
                signature = self.headers.get("X-Twilio-Signature", "")
                valid = validator.validate(receiver.url(self.path), params, signature)
                receiver.requests.append(Received(self.path, params, signature, valid))
                answer = receiver.twiml.encode() if self.path == "/twiml" else b""
                self.send_response(200 if answer else 204 if valid else 403)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def on(self, path: str) -> list[dict[str, str]]:
        return [request.params for request in self.requests if request.path == path]


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    with TwilioStandIn() as standin:
        yield standin


@pytest.fixture
def client(twilio: TwilioStandIn) -> Client:
    http_client = RedirectingHttpClient(twilio.base_url)
    return Client(twilio.account_sid, twilio.auth_token, http_client=http_client)


@pytest.fixture
def receiver(twilio: TwilioStandIn) -> Iterator[Receiver]:
    receiver = Receiver(twilio.auth_token)
    serve, quick = receiver.server.serve_forever, {"poll_interval": 0.02}
    threading.Thread(target=serve, kwargs=quick, daemon=True).start()
    receiver.twiml = click_to_call(receiver, machine_detection=True)
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def click_to_call(receiver: Receiver, *, machine_detection: bool) -> str:
    """The TwiML our app answers the agent's leg with: a word, then dial the customer."""
    response = VoiceResponse()
    response.say("Rappel produit : nous appelons le client.", language="fr-FR")
    dial = response.dial(caller_id=DESK, timeout=25)
    extra = {"machine_detection": "Enable"} if machine_detection else {}
    dial.number(
        CUSTOMER,
        status_callback=receiver.url("/dial-status"),
        status_callback_event="initiated ringing answered completed",
        **extra,
    )
    return str(response)


def call_agent(client: Client, receiver: Receiver) -> Any:
    return client.calls.create(
        to=AGENT,
        from_=DESK,
        url=receiver.url("/twiml"),
        status_callback=receiver.url("/call-status"),
        status_callback_event=["initiated", "completed"],
        machine_detection="Enable",
        timeout=20,
    )


def test_a_created_call_comes_back_from_the_sdk_as_a_queued_call(twilio, client, receiver):
    call = call_agent(client, receiver)
    twilio.wait_idle()
    assert call.sid.startswith("CA") and len(call.sid) == 34
    assert (call.status, call.to, call._from) == ("queued", AGENT, DESK)
    assert (call.direction, call.api_version) == ("outbound-api", "2010-04-01")
    assert call.account_sid == twilio.account_sid
    assert call.date_created.tzinfo is not None
    sent = twilio.calls[call.sid]
    assert sent["StatusCallbackEvent"] == ["initiated", "completed"]
    assert (sent["MachineDetection"], sent["Timeout"]) == ("Enable", "20")


def test_a_created_message_comes_back_queued_with_its_segments_counted(twilio, client):
    plain = client.messages.create(to=CUSTOMER, from_=DESK, body="Rappel : perceuse, lot L4415.")
    # ê is outside the GSM alphabet: the text goes as UCS-2, 70 characters a segment.
    accented = client.messages.create(to=CUSTOMER, from_="RECALL", body="ê" + "x" * 70)
    twilio.wait_idle()
    assert plain.sid.startswith("SM") and len(plain.sid) == 34
    assert (plain.status, plain.to, plain.from_) == ("queued", CUSTOMER, DESK)
    assert (plain.num_segments, accented.num_segments) == ("1", "2")
    assert twilio.messages[plain.sid]["Body"] == "Rappel : perceuse, lot L4415."


def test_wrong_credentials_raise_twilio_authenticate_error(twilio):
    http_client = RedirectingHttpClient(twilio.base_url)
    client = Client(twilio.account_sid, "not-the-token", http_client=http_client)
    with pytest.raises(TwilioRestException) as raised:
        client.calls.create(to=AGENT, from_=DESK, url="http://127.0.0.1:9/twiml")
    assert (raised.value.status, raised.value.code) == (401, 20003)
    assert twilio.calls == {}


@pytest.mark.parametrize(
    ("to", "from_", "code"), [("0612345678", DESK, 21211), (CUSTOMER, "0970000000", 21212)]
)
def test_a_number_not_in_e164_raises_twilios_invalid_number_error(twilio, client, to, from_, code):
    with pytest.raises(TwilioRestException) as raised:
        client.calls.create(to=to, from_=from_, url="http://127.0.0.1:9/twiml")
    assert (raised.value.status, raised.value.code) == (400, code)
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=to, from_=from_, body="Rappel")
    assert raised.value.code == code


def test_an_answering_agent_fetches_twiml_signed_and_in_progress(twilio, client, receiver):
    call = call_agent(client, receiver)
    twilio.wait_idle()
    [fetch] = receiver.on("/twiml")
    assert fetch["CallSid"] == call.sid
    assert (fetch["To"], fetch["From"], fetch["CallStatus"]) == (AGENT, DESK, "in-progress")
    assert (fetch["Direction"], fetch["ApiVersion"]) == ("outbound-api", "2010-04-01")
    assert all(request.valid for request in receiver.requests)
    assert twilio.dials[0]["callerId"] == DESK
    assert twilio.dials[0]["number"] == CUSTOMER
    assert twilio.dials[0]["statusCallback"] == receiver.url("/dial-status")


@pytest.mark.parametrize(
    ("behaviour", "status", "duration", "answered_by"),
    [
        ("answer", "completed", "95", "human"),
        ("voicemail", "completed", "22", "machine_end_beep"),
        ("no-answer", "no-answer", "0", None),
        ("busy", "busy", "0", None),
        ("failed", "failed", "0", None),
        ("canceled", "canceled", "0", None),
    ],
)
def test_the_customer_leg_reports_what_happened_on_the_numbers_status_callback(
    twilio, client, receiver, behaviour, status, duration, answered_by
):
    twilio.customer_behaviour[CUSTOMER] = behaviour
    call = call_agent(client, receiver)
    twilio.wait_idle()
    [leg] = receiver.on("/dial-status")
    assert (leg["CallStatus"], leg["CallDuration"], leg.get("AnsweredBy")) == (
        status,
        duration,
        answered_by,
    )
    assert leg["ParentCallSid"] == call.sid and leg["CallSid"] != call.sid
    assert (leg["To"], leg["From"], leg["Direction"]) == (CUSTOMER, DESK, "outbound-dial")
    [parent] = receiver.on("/call-status")
    assert (parent["CallSid"], parent["CallStatus"]) == (call.sid, "completed")
    assert int(parent["CallDuration"]) > int(duration)


def test_without_machine_detection_the_customer_leg_says_nothing_of_who_answered(
    twilio, client, receiver
):
    receiver.twiml = click_to_call(receiver, machine_detection=False)
    twilio.customer_behaviour[CUSTOMER] = "voicemail"
    call_agent(client, receiver)
    twilio.wait_idle()
    [leg] = receiver.on("/dial-status")
    assert leg["CallStatus"] == "completed" and "AnsweredBy" not in leg


@pytest.mark.parametrize("behaviour", ["no-answer", "busy"])
def test_an_agent_who_does_not_pick_up_ends_the_call_before_any_dial(
    twilio, client, receiver, behaviour
):
    twilio.agent_behaviour[AGENT] = behaviour
    call = call_agent(client, receiver)
    twilio.wait_idle()
    assert receiver.on("/twiml") == [] and twilio.dials == []
    [parent] = receiver.on("/call-status")
    assert (parent["CallSid"], parent["CallStatus"], parent["CallDuration"]) == (
        call.sid,
        behaviour,
        "0",
    )


@pytest.mark.parametrize(
    ("behaviour", "statuses", "error"),
    [
        (None, ["sent", "delivered"], None),
        ("undelivered", ["sent", "undelivered"], "30003"),
        ("failed", ["failed"], "30006"),
    ],
)
def test_a_message_reports_its_delivery_on_its_status_callback(
    twilio, client, receiver, behaviour, statuses, error
):
    if behaviour:
        twilio.message_behaviour[CUSTOMER] = behaviour
    message = client.messages.create(
        to=CUSTOMER, from_=DESK, body="Rappel produit", status_callback=receiver.url("/sms")
    )
    twilio.wait_idle()
    received = receiver.on("/sms")
    assert [params["MessageStatus"] for params in received] == statuses
    assert {params["MessageSid"] for params in received} == {message.sid}
    assert {params["SmsSid"] for params in received} == {message.sid}
    assert received[-1].get("ErrorCode") == error
    assert all(request.valid for request in receiver.requests)


def test_sent_callbacks_validate_and_a_forged_one_does_not(twilio, client, receiver):
    call_agent(client, receiver)
    twilio.wait_idle()
    validator = RequestValidator(twilio.auth_token)
    assert [request.path for request in receiver.requests] == [
        "/twiml",
        "/dial-status",
        "/call-status",
    ]
    for request in receiver.requests:
        assert validator.validate(receiver.url(request.path), request.params, request.signature)
    assert [status for _, _, status in twilio.callbacks] == [200, 204, 204]
    url, params, _ = twilio.callbacks[-1]
    assert twilio.post_forged(url, params) == 403
    assert not validator.validate(url, params, receiver.requests[-1].signature)
    assert twilio.post_signed(url, params | {"CallStatus": "busy"}) == 204


def test_a_replayed_callback_is_the_same_request_again(twilio, client, receiver):
    call_agent(client, receiver)
    twilio.wait_idle()
    original = receiver.requests[-1]
    assert twilio.replay() == 204
    again = receiver.requests[-1]
    assert again is not original and again == original


def test_twiml_that_is_not_xml_is_reported_by_wait_idle(twilio, client, receiver):
    receiver.twiml = "Rappel produit"
    call_agent(client, receiver)
    with pytest.raises(RuntimeError) as raised:
        twilio.wait_idle()
    assert "syntax error" in str(raised.value.__cause__)
    assert twilio.dials == [] and receiver.on("/dial-status") == []


def test_the_http_client_sends_twilio_hosts_to_the_stand_in_and_leaves_others_alone():
    redirecting = RedirectingHttpClient("http://127.0.0.1:8099/")
    assert (
        redirecting.redirect("https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json?Page=2")
        == "http://127.0.0.1:8099/2010-04-01/Accounts/AC1/Calls.json?Page=2"
    )
    assert (
        redirecting.redirect("https://api.dublin.ie1.twilio.com/2010-04-01/Accounts.json")
        == "http://127.0.0.1:8099/2010-04-01/Accounts.json"
    )
    assert (
        redirecting.redirect("https://example.org/twilio.com") == "https://example.org/twilio.com"
    )
