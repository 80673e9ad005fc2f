"""A local stand-in for Twilio's Calls and Messages API, for tests that drive the real SDK.

Each call or message then plays out in a thread: TwiML fetched, one <Dial><Number> followed,
callbacks signed with the auth token, so our webhooks meet what Twilio really sends.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs

import httpx
from twilio.request_validator import RequestValidator

API_VERSION = "2010-04-01"
E164 = re.compile(r"\+[1-9]\d{7,14}")
# A text may also come from a short code or an alphanumeric sender ID ("RECALL"); a call may not.
SENDER = re.compile(r"\+[1-9]\d{7,14}|\d{5,6}|(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")
PATH = re.compile(r"/2010-04-01/Accounts/(?P<account>AC\w+)/(?P<kind>Calls|Messages)\.json")
# Characters of the GSM 03.38 alphabet: one outside it (é is in, ê is not) makes the whole
# text UCS-2, and a segment then holds 70 characters instead of 160.
GSM = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)
MESSAGE_ERRORS = {"undelivered": "30003", "failed": "30006"}
# The number a Messaging Service picks from its pool when a message names no From.
SERVICE_NUMBER = "+33757000000"


class Callback(NamedTuple):
    """One request the stand-in sent: where, what, and the status code it got back."""

    url: str
    params: dict[str, str]
    status: int


class TwilioStandIn:
    """Twilio's Calls and Messages API on 127.0.0.1, with scripted agents and customers."""

    account_sid = "AC" + "5ca1ab1e" * 4
    auth_token = "0ddba11" + "0" * 25

    def __init__(self) -> None:
        # Scripts keyed by phone number; a number not named answers, and a text is delivered.
        self.agent_behaviour: dict[str, str] = {}
        self.customer_behaviour: dict[str, str] = {}
        self.message_behaviour: dict[str, str] = {}
        self.talk_seconds = 95
        self.voicemail_seconds = 22
        self.calls: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.dials: list[dict[str, str]] = []
        self.callbacks: list[Callback] = []
        self.errors: list[BaseException] = []
        self._signatures: list[str] = []
        self._log = threading.Lock()
        self._busy = 0
        self._idle = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.standin = self  # type: ignore[attr-defined]
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> TwilioStandIn:
        # A short poll interval: shutdown() waits for it, and every test starts a stand-in.
        quick = {"poll_interval": 0.02}
        threading.Thread(target=self._server.serve_forever, kwargs=quick, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # Test helpers

    def wait_idle(self, timeout: float = 10) -> None:
        """Block until every call and message has played out; raise what went wrong in one."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._busy == 0, timeout):
                raise TimeoutError(f"the Twilio stand-in was still busy after {timeout} s")
        if self.errors:
            raise RuntimeError("a call or message scenario failed") from self.errors[0]

    def replay(self, index: int = -1) -> int:
        """Send an already sent callback again, byte for byte; return the status code."""
        sent = self.callbacks[index]
        return self._post(sent.url, sent.params, self._signatures[index]).status_code

    def post_forged(self, url: str, params: dict[str, str]) -> int:
        """Send a callback signed with the wrong token; return the status code."""
        forged = RequestValidator("not-" + self.auth_token).compute_signature(url, params)
        return self._post(url, params, forged).status_code

    def post_signed(self, url: str, params: dict[str, str]) -> int:
        """Send any callback, signed as Twilio signs; return the status code."""
        return self._post(url, params, self._sign(url, params)).status_code

    # Callbacks

    def _sign(self, url: str, params: dict[str, str]) -> str:
        return RequestValidator(self.auth_token).compute_signature(url, params)

    def _post(self, url: str, params: dict[str, str], signature: str) -> httpx.Response:
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
        return httpx.post(url, data=params, headers=headers, timeout=10)

    def _callback(self, url: str, params: dict[str, str]) -> httpx.Response:
        signature = self._sign(url, params)
        response = self._post(url, params, signature)
        with self._log:  # keeps callbacks and their signatures at the same index
            self.callbacks.append(Callback(url, params, response.status_code))
            self._signatures.append(signature)
        return response

    def _in_background(self, scenario: Callable[[], None]) -> Callable[[], None]:
        """Count a scenario as busy now, so that wait_idle never returns before it started."""
        with self._idle:
            self._busy += 1

        def run() -> None:
            try:
                scenario()
            except BaseException as error:  # reported by wait_idle, not lost in a thread
                self.errors.append(error)
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

        return lambda: threading.Thread(target=run, daemon=True).start()

    # Calls: Twilio rings the agent (To) first, then the agent's TwiML dials the customer.

    def _play_call(self, sid: str) -> None:
        call = self.calls[sid]
        agent = self.agent_behaviour.get(call["To"], "answer")
        if agent != "answer":
            return self._call_status(call, sid, agent, 0)
        params = _call_params(call, sid, self.account_sid, "in-progress")
        twiml = self._callback(call["Url"], params)
        dial = _parse_dial(twiml.text) if twiml.status_code == 200 else None
        seconds = self._play_dial(sid, call, dial) if dial else 0
        self._call_status(call, sid, "completed", seconds + 4)

    def _play_dial(self, parent_sid: str, call: dict[str, Any], dial: dict[str, str]) -> int:
        """Ring the customer and report the child leg; return the agent's seconds on it."""
        dial.setdefault("callerId", call["From"])
        self.dials.append(dial)
        behaviour = self.customer_behaviour.get(dial["number"], "answer")
        answered = {"answer": self.talk_seconds, "voicemail": self.voicemail_seconds}
        duration = answered.get(behaviour, 0)
        if dial.get("statusCallback"):
            status = "completed" if behaviour in answered else behaviour
            leg = {"From": dial["callerId"], "To": dial["number"]}
            params = _call_params(leg, _sid("CA"), self.account_sid, status, duration)
            params |= {"ParentCallSid": parent_sid, "Direction": "outbound-dial"}
            if dial.get("machineDetection") and behaviour in answered:
                params["AnsweredBy"] = "human" if behaviour == "answer" else "machine_end_beep"
            self._callback(dial["statusCallback"], params)
        ringing = int(dial.get("timeout", "30")) if behaviour == "no-answer" else 5
        return ringing + duration

    def _call_status(self, call: dict[str, Any], sid: str, status: str, seconds: int) -> None:
        if call.get("StatusCallback"):
            params = _call_params(call, sid, self.account_sid, status, seconds)
            self._callback(call["StatusCallback"], params)

    # Messages

    def _play_message(self, sid: str) -> None:
        message = self.messages[sid]
        final = self.message_behaviour.get(message["To"], "delivered")
        # A failed message never left Twilio; an undelivered one was sent, then lost.
        for status in ["failed"] if final == "failed" else ["sent", final]:
            if message.get("StatusCallback"):
                self._callback(message["StatusCallback"], self._message_params(sid, status))

    def _message_params(self, sid: str, status: str) -> dict[str, str]:
        message = self.messages[sid]
        params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status}
        params |= {"To": message["To"], "From": message.get("From") or SERVICE_NUMBER}
        params |= {"AccountSid": self.account_sid, "ApiVersion": API_VERSION}
        if message.get("MessagingServiceSid"):
            params["MessagingServiceSid"] = message["MessagingServiceSid"]
        if status in MESSAGE_ERRORS:
            params["ErrorCode"] = MESSAGE_ERRORS[status]
        return params


class _Handler(BaseHTTPRequestHandler):
    """Twilio's REST API: Basic auth, form-encoded bodies, JSON answers and error codes."""

    server: Any

    def do_POST(self) -> None:
        standin: TwilioStandIn = self.server.standin
        path = PATH.fullmatch(self.path)
        if path is None:
            return self.do_GET()
        if not self._authenticated(standin, path["account"]):
            return self._error(401, 20003, "Authenticate")
        length = int(self.headers.get("Content-Length") or 0)
        form = _form(self.rfile.read(length).decode())
        problem = _invalid(path["kind"], form)
        if problem:
            return self._error(400, *problem)
        sid = _sid("CA" if path["kind"] == "Calls" else "SM")
        if path["kind"] == "Calls":
            standin.calls[sid] = form
            start = standin._in_background(lambda: standin._play_call(sid))
        else:
            standin.messages[sid] = form
            start = standin._in_background(lambda: standin._play_message(sid))
        self._json(201, _resource(path["kind"], sid, standin.account_sid, form))
        start()

    def do_GET(self) -> None:
        """Only creating calls and messages is stood in for; Twilio would find nothing else."""
        self._error(404, 20404, f"The requested resource {self.path} was not found")

    do_DELETE = do_GET

    def _authenticated(self, standin: TwilioStandIn, account: str) -> bool:
        expected = f"{standin.account_sid}:{standin.auth_token}".encode()
        given = self.headers.get("Authorization", "")
        basic = "Basic " + base64.b64encode(expected).decode()
        return account == standin.account_sid and given == basic

    def _error(self, status: int, code: int, message: str) -> None:
        info = f"https://www.twilio.com/docs/errors/{code}"
        self._json(status, {"code": code, "message": message, "more_info": info, "status": status})

    def _json(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows failures, not every request."""


def _form(body: str) -> dict[str, Any]:
    """The form's fields; StatusCallbackEvent is the one that repeats, so it stays a list."""
    fields = parse_qs(body, keep_blank_values=True)
    form: dict[str, Any] = {name: values[-1] for name, values in fields.items()}
    if "StatusCallbackEvent" in fields:
        form["StatusCallbackEvent"] = [e for v in fields["StatusCallbackEvent"] for e in v.split()]
    return form


def _invalid(kind: str, form: dict[str, Any]) -> tuple[int, str] | None:
    """Twilio's error code and message for a request it would refuse, or None."""
    to, sender = form.get("To", ""), form.get("From", "")
    if not E164.fullmatch(to):
        return 21211, f"Invalid 'To' Phone Number: {to}"
    if kind == "Messages" and not sender and not form.get("MessagingServiceSid"):
        return 21603, "A 'From' phone number is required."
    allowed = E164 if kind == "Calls" else SENDER
    if (kind == "Calls" or sender) and not allowed.fullmatch(sender):
        return 21212, f"Invalid 'From' Phone Number: {sender}"
    if kind == "Calls" and not form.get("Url"):
        return 21205, "Url parameter is required."
    if kind == "Messages" and not form.get("Body"):
        return 21602, "Message body is required."
    return None


def _resource(kind: str, sid: str, account_sid: str, form: dict[str, Any]) -> dict[str, Any]:
    """The JSON Twilio answers a create with, fields it has no value for yet as null."""
    uri = f"/{API_VERSION}/Accounts/{account_sid}/{kind}/{sid}"
    common = dict.fromkeys(["price", "date_sent", "start_time", "end_time", "duration"])
    common |= {"sid": sid, "account_sid": account_sid, "to": form["To"], "from": form.get("From")}
    common |= {"date_created": _now(), "date_updated": _now(), "uri": uri + ".json"}
    common |= {"direction": "outbound-api", "api_version": API_VERSION, "price_unit": "USD"}
    if kind == "Calls":
        nulls = dict.fromkeys(["parent_call_sid", "answered_by", "caller_name", "group_sid"])
        formatted = {"to_formatted": form["To"], "from_formatted": form["From"]}
        return common | nulls | formatted | {"status": "queued", "queue_time": "0"}
    body, service = form["Body"], form.get("MessagingServiceSid")
    fields = {"body": body, "num_segments": str(_segments(body)), "num_media": "0"}
    fields |= {"messaging_service_sid": service, "status": "accepted" if service else "queued"}
    return common | dict.fromkeys(["error_code", "error_message"]) | fields


def _segments(body: str) -> int:
    """How many SMS a text costs: 160 GSM characters for one, 70 when it must go as UCS-2."""
    single, multi = (160, 153) if set(body) <= GSM else (70, 67)
    return 1 if len(body) <= single else -(-len(body) // multi)


def _call_params(
    call: dict[str, Any], sid: str, account_sid: str, status: str, seconds: int | None = None
) -> dict[str, str]:
    """What Twilio posts about a call: to fetch its TwiML, or with its duration once it ended."""
    params = {"CallSid": sid, "AccountSid": account_sid, "From": call["From"], "To": call["To"]}
    params |= {"CallStatus": status, "Direction": "outbound-api", "ApiVersion": API_VERSION}
    if seconds is None:
        return params
    progress = {"CallbackSource": "call-progress-events", "SequenceNumber": "0"}
    return params | progress | {"CallDuration": str(seconds), "Timestamp": _now()}


def _parse_dial(twiml: str) -> dict[str, str] | None:
    """The first <Dial> of a TwiML document, flattened with its <Number>; <Say> is ignored."""
    dial = ET.fromstring(twiml).find("Dial")
    if dial is None:
        return None
    number = dial.find("Number")
    target = number if number is not None else dial
    found = {k: v for k, v in dial.attrib.items() if k in ("callerId", "timeout")}
    if number is not None:
        found |= number.attrib
    return found | {"number": (target.text or "").strip()}


def _sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def _now() -> str:
    return format_datetime(datetime.now(UTC))
