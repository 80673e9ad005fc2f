"""Click-to-call and text messages through the telephony port, and the line events coming back.

Providers retry their status callbacks, and may send them out of order: each one is applied
once, keyed on the provider's call or message id, and a repeat changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recall.calling.claiming import WorkError, claimant, hold_case
from recall.calling.outcomes import apply_disposition
from recall.campaign.definitions import definition_of
from recall.clock import Clock, utc_now
from recall.db.models import Agent, CallAttempt, Case, Customer, Message
from recall.domain.calling import Disposition, may_call_at, next_opening
from recall.domain.contacts import normalise_phone
from recall.domain.message_status import moves_forward
from recall.telephony.port import Callbacks, CallRequest, MessageRequest, Telephony, TelephonyError

log = logging.getLogger(__name__)
TWILIO = "twilio"
# Line results that say what the call came to without the agent: nobody picked up.
LINE_DISPOSITIONS = {
    "no-answer": Disposition.NO_ANSWER,
    "busy": Disposition.BUSY,
    "failed": Disposition.NO_ANSWER,  # the network could not connect: try again later
}


@dataclass(frozen=True)
class DialSettings:
    public_url: str  # where the provider reaches our webhooks
    hotline: str  # the caller id customers see, when the recall names none
    home_country: str = "FR"
    templates_dir: Path | None = None  # templates/scripts, for the text message


@dataclass(frozen=True)
class Dialled:
    attempt_id: int
    call_sid: str
    message_sid: str | None = None


@dataclass(frozen=True)
class Bridge:
    customer_phone: str
    caller_id: str


def click_to_call(
    *,
    engine: Engine,
    telephony: Telephony,
    settings: DialSettings,
    agent_id: str,
    case_id: int,
    desk: str = "",
    text_first: bool = False,
    clock: Clock = utc_now,
) -> Dialled:
    """Ring the agent's phone, then bridge them to the customer with the hotline as caller id."""
    now = clock()
    with Session(engine) as session, session.begin():
        case = hold_case(session, case_id, agent_id, claimant(agent_id, desk), now)
        agent_phone = session.scalar(select(Agent.phone).where(Agent.agent_id == agent_id))
        caller_id = _caller_id(session, case, settings)
        _check_callable(session, case, agent_id, agent_phone, now)
        attempt = CallAttempt(
            case_id=case.id, agent_id=agent_id, started_at=now, line_status="dialling"
        )
        session.add(attempt)
        session.flush()
        attempt_id, customer_phone, language = attempt.id, case.phone_e164, case.language
        case_ref = case.case_ref
    message_sid = None
    if text_first:
        message_sid = send_text(
            engine=engine, telephony=telephony, settings=settings, case_id=case_id,
            to=customer_phone or "", sender=caller_id, language=language, clock=clock,
        )  # fmt: skip
    request = CallRequest(
        agent_phone=agent_phone or "",
        caller_id=caller_id,
        answer_url=Callbacks(settings.public_url).voice(attempt_id),
        status_url=Callbacks(settings.public_url).agent_status(attempt_id),
    )
    try:
        call_sid = telephony.place_call(request)
    except TelephonyError as exc:
        _not_placed(engine, attempt_id, str(exc), clock())
        then = "calling again will not help" if exc.permanent else "try again in a moment"
        raise WorkError(f"{exc}: {then}") from None
    with Session(engine) as session, session.begin():
        attempt = session.get_one(CallAttempt, attempt_id)
        attempt.call_sid, attempt.line_status = call_sid, attempt.line_status or "queued"
    log.info("case %s: call %s placed by agent %s", case_ref, call_sid, agent_id)
    return Dialled(attempt_id, call_sid, message_sid)


def _caller_id(session: Session, case: Case, settings: DialSettings) -> str:
    definition = definition_of(session, case.recall_id)
    number = normalise_phone(definition.hotline or settings.hotline, settings.home_country)
    if number is None:
        raise WorkError("the recall's hotline is not a phone number that can be shown to callers")
    return number


def _check_callable(
    session: Session, case: Case, agent_id: str, agent_phone: str | None, now: dt.datetime
) -> None:
    if not agent_phone:
        raise WorkError(f"agent {agent_id} has no phone number to ring: add it to the agents file")
    if not case.phone_e164 or not case.call:
        raise WorkError(f"case {case.case_ref} is not on the call list (no phone to call)")
    policy = definition_of(session, case.recall_id).call
    zone = case.call_zone or policy.timezone
    country = session.scalar(
        select(Customer.country).where(Customer.customer_id == case.customer_id)
    )
    promised = case.callback_at is not None and case.callback_at <= now + dt.timedelta(minutes=15)
    if not promised and not may_call_at(policy, zone, now, country=country):
        opens = next_opening(policy, zone, now, country=country).astimezone(ZoneInfo(zone))
        raise WorkError(
            f"outside calling hours for this customer: they open {opens:%a %H:%M} ({zone})"
        )


def _not_placed(engine: Engine, attempt_id: int, why: str, now: dt.datetime) -> None:
    with Session(engine) as session, session.begin():
        attempt = session.get_one(CallAttempt, attempt_id)
        attempt.line_status, attempt.note, attempt.ended_at = "not-placed", why, now


def send_text(
    *,
    engine: Engine,
    telephony: Telephony,
    settings: DialSettings,
    case_id: int,
    to: str,
    sender: str,
    language: str,
    clock: Clock = utc_now,
) -> str | None:
    """The text sent ahead of a call; a failure to send is recorded, and the call goes on."""
    now = clock()
    with Session(engine) as session, session.begin():
        message = Message(case_id=case_id, status="sending", sent_at=now, updated_at=now)
        session.add(message)
        session.flush()
        message_id = message.id
    request = MessageRequest(
        to=to,
        sender=sender,
        body=text_body(settings.templates_dir, language, hotline=sender),
        status_url=Callbacks(settings.public_url).message_status(message_id),
    )
    try:
        sid: str | None = telephony.send_message(request)
        status = "queued"
    except TelephonyError as exc:
        log.warning("text message for case id %s not sent: %s", case_id, exc)
        sid, status = None, "failed"
    with Session(engine) as session, session.begin():
        message = session.get_one(Message, message_id)
        message.sid = sid
        if message.status == "sending":  # a status callback may already have moved it on
            message.status = status
    return sid


def text_body(templates_dir: Path | None, language: str, *, hotline: str) -> str:
    """The pre-call text in the customer's language (else French), from templates/scripts."""
    if templates_dir is not None:
        for lang in (language, "fr"):
            path = templates_dir / f"sms.{lang}.txt"
            if path.is_file():
                return path.read_text(encoding="utf-8").strip().format(hotline=hotline)
    return f"Safety recall: we will call you shortly. Questions: {hotline}"


def bridge_for(*, engine: Engine, settings: DialSettings, attempt_id: int) -> Bridge | None:
    """Who to dial once the agent answered; None when the attempt is unknown or over."""
    with Session(engine) as session:
        found = session.execute(
            select(CallAttempt, Case).join(Case, Case.id == CallAttempt.case_id)
            .where(CallAttempt.id == attempt_id)
        ).first()  # fmt: skip
        if found is None:
            return None
        attempt, case = found
        if attempt.disposition is not None or not case.phone_e164:
            return None
        return Bridge(case.phone_e164, _caller_id(session, case, settings))


def record_leg_status(
    *,
    engine: Engine,
    attempt_id: int,
    leg_sid: str,
    status: str,
    duration: int | None,
    answered_by: str | None,
    clock: Clock = utc_now,
) -> str:
    """The customer's leg ended: record the line, and what it came to when nobody answered.

    Returns what was done: "recorded", "repeat" (already applied) or "unknown".
    """
    now = clock()
    try:
        with Session(engine) as session, session.begin():
            attempt = session.get(CallAttempt, attempt_id)
            if attempt is None:
                return "unknown"
            if attempt.leg_sid == leg_sid and attempt.line_status == status:
                return "repeat"
            attempt.leg_sid, attempt.line_status, attempt.ended_at = leg_sid, status, now
            attempt.duration_s, attempt.answered_by = duration, answered_by
            disposition = _line_disposition(status, answered_by)
            if disposition is not None and attempt.disposition is None:
                _apply_line_result(session, attempt, disposition, now)
    except IntegrityError:
        return "repeat"  # the same callback, delivered twice at once
    return "recorded"


def _line_disposition(status: str, answered_by: str | None) -> Disposition | None:
    if status == "completed":
        machine = (answered_by or "").startswith("machine") or answered_by == "fax"
        return Disposition.VOICEMAIL if machine else None  # a person: the agent records it
    return LINE_DISPOSITIONS.get(status)  # "canceled": the agent hung up first, not counted


def _apply_line_result(
    session: Session, attempt: CallAttempt, disposition: Disposition, now: dt.datetime
) -> None:
    case = session.get_one(Case, attempt.case_id)
    try:
        # A machine detected on the line is not a message left: never a notice by itself.
        apply_disposition(session, case, disposition, actor=TWILIO, attempt=attempt, now=now,
                          message_left=False)  # fmt: skip
    except WorkError as exc:  # the case moved on meanwhile (e.g. resolved): keep the line only
        attempt.note = f"line {attempt.line_status}: {exc}"


def record_agent_leg(
    *, engine: Engine, attempt_id: int, status: str, clock: Clock = utc_now
) -> str:
    """The agent's own leg ended; when it never connected, nobody was called: nothing counts."""
    with Session(engine) as session, session.begin():
        attempt = session.get(CallAttempt, attempt_id)
        if attempt is None:
            return "unknown"
        if status == "completed" or attempt.leg_sid is not None:
            return "recorded"
        line = f"agent-{status}"
        if attempt.line_status == line:
            return "repeat"
        attempt.line_status, attempt.ended_at = line, clock()
        attempt.note = "the agent's phone did not answer: the customer was not called"
    return "recorded"


def record_message_status(
    *, engine: Engine, message_id: int, sid: str, status: str, clock: Clock = utc_now
) -> str:
    """A text message's delivery status; never moves backwards when callbacks cross."""
    with Session(engine) as session, session.begin():
        message = session.get(Message, message_id)
        if message is None or (message.sid not in (None, sid)):
            return "unknown"
        if not moves_forward(message.status, status):
            return "repeat"
        message.sid, message.status, message.updated_at = sid, status, clock()
    return "recorded"
