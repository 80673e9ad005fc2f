"""Twilio's webhooks: the bridge TwiML and the status callbacks, each checked for its signature.

Twilio signs every request with the account's auth token over the URL it called and the
form it posted. A request whose signature does not verify is refused with 403 before
anything is read from the database, let alone written.
"""

# No `from __future__ import annotations` here: FastAPI must see the route annotations
# as objects, and they refer to a dependency built inside twilio_router().

import logging
import re
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from sqlalchemy import Engine

from recall.calling import dialing
from recall.calling.dialing import DialSettings
from recall.reach import sms
from recall.telephony import port
from recall.telephony.twilio import bridge_twiml, signature_is_valid
from recall.web.security import RowId

log = logging.getLogger(__name__)
XML = "application/xml"


def _signed_form(auth_token: str, public_url: str):  # a FastAPI dependency
    """The posted form, once its Twilio signature verifies; else 403 before anything is read."""

    async def signed_form(request: Request) -> dict[str, str]:
        body = (await request.body()).decode("utf-8", errors="replace")
        form = dict(parse_qsl(body, keep_blank_values=True))
        # Twilio signs the URL as it called it: the path as sent, escapes and all.
        path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
        url = public_url + path
        if request.url.query:
            url += "?" + request.url.query
        valid = signature_is_valid(
            auth_token=auth_token, url=url, form=form,
            signature=request.headers.get("X-Twilio-Signature", ""),
            settings_header=request.headers.get("X-Twilio-Webhooks-Signature-Settings"),
        )  # fmt: skip
        if not valid:
            log.warning("refused a Twilio webhook with a bad signature on %s", request.url.path)
            raise HTTPException(status_code=403, detail="signature does not verify")
        return form

    return signed_form


def twilio_router(*, engine: Engine, auth_token: str, settings: DialSettings) -> APIRouter:
    """The routes Twilio calls back, bound to one database and one account."""

    Form = Annotated[dict[str, str], Depends(_signed_form(auth_token, settings.public_url))]
    router = APIRouter(tags=["twilio"])
    callbacks = port.Callbacks(settings.public_url)

    @router.post(port.VOICE, openapi_extra=_posted("CallSid", "CallStatus"))
    def voice(attempt_id: RowId, form: Form) -> Response:
        bridge = dialing.bridge_for(engine=engine, settings=settings, attempt_id=attempt_id)
        if bridge is None:  # the call is over or unknown: hang up politely
            return Response("<Response><Hangup/></Response>", media_type=XML)
        leg_url = callbacks.leg_status(attempt_id)
        twiml = bridge_twiml(
            customer_phone=bridge.customer_phone, caller_id=bridge.caller_id, leg_status_url=leg_url
        )
        return Response(twiml, media_type=XML)

    @router.post(
        port.LEG_STATUS,
        openapi_extra=_posted("CallSid", "CallStatus", "CallDuration", "AnsweredBy"),
    )
    def leg_status(attempt_id: RowId, form: Form) -> dict[str, str]:
        done = dialing.record_leg_status(
            engine=engine,
            attempt_id=attempt_id,
            leg_sid=form.get("CallSid", ""),
            status=form.get("CallStatus", ""),
            duration=_seconds(form.get("CallDuration")),
            answered_by=form.get("AnsweredBy") or None,
        )
        log.info("call leg %s: %s (%s)", form.get("CallSid"), form.get("CallStatus"), done)
        return {"result": done}

    @router.post(port.AGENT_STATUS, openapi_extra=_posted("CallSid", "CallStatus"))
    def agent_status(attempt_id: RowId, form: Form) -> dict[str, str]:
        done = dialing.record_agent_leg(
            engine=engine, attempt_id=attempt_id, status=form.get("CallStatus", "")
        )
        return {"result": done}

    @router.post(
        port.MESSAGE_STATUS, openapi_extra=_posted("MessageSid", "MessageStatus", "ErrorCode")
    )
    def message_status(message_id: RowId, form: Form) -> dict[str, str]:
        sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
        if sms.message_purpose(engine=engine, message_id=message_id) == sms.NOTICE:
            done = sms.record_notice_status(
                engine=engine, message_id=message_id, sid=sid, status=status,
                error_code=form.get("ErrorCode"),
            )  # fmt: skip
        else:  # the text ahead of a call
            done = dialing.record_message_status(
                engine=engine, message_id=message_id, sid=sid, status=status
            )
        return {"result": done}

    return router


# The values Twilio documents for the fields we read; anything else must be survived too.
_TWILIO_VALUES = {
    "CallStatus": ["queued", "ringing", "in-progress", "completed", "busy", "failed",
                   "no-answer", "canceled"],
    "AnsweredBy": ["human", "machine_start", "machine_end_beep", "machine_end_silence",
                   "machine_end_other", "fax", "unknown"],
    "MessageStatus": ["queued", "sending", "sent", "failed", "delivered", "undelivered",
                      "accepted", "scheduled", "read", "canceled"],
    "CallDuration": ["0", "17", "3600"],
    "ErrorCode": ["30003", "30005", "30006", "30007", "30008"],
}  # fmt: skip


def _posted(*fields: str) -> dict:
    """The form Twilio posts, for the OpenAPI description: the route reads the body itself,
    since its signature must be checked over the form exactly as sent."""
    properties: dict[str, dict] = {}
    for name in ("AccountSid", *fields):
        known = _TWILIO_VALUES.get(name)
        properties[name] = (
            {"anyOf": [{"enum": known}, {"type": "string"}]} if known else {"type": "string"}
        )
    form = {"schema": {"type": "object", "properties": properties}}
    return {"requestBody": {"content": {"application/x-www-form-urlencoded": form}}}


def webhook_schema() -> dict:
    """The OpenAPI description of the webhooks (not served)."""
    from fastapi.openapi.utils import get_openapi
    from sqlalchemy import create_engine

    router = twilio_router(
        engine=create_engine("sqlite://"), auth_token="", settings=DialSettings("", "")
    )
    return get_openapi(title="recall Twilio webhooks", version="1", routes=router.routes)


def _seconds(text: str | None) -> int | None:
    """Twilio's CallDuration: ASCII digits, under a year of seconds; anything else unknown."""
    return int(text) if text and re.fullmatch(r"[0-9]{1,7}", text) else None
