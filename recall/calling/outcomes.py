"""Recording what a call came to: the disposition, then the case's outcome once reached."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from recall.calling.assignment import active_slots
from recall.calling.case_card import recorded_calls
from recall.calling.claiming import (
    AlreadyRecorded,
    WorkError,
    claim_next,
    claimant,
    hold_case,
    take_over,
)
from recall.calling.post_state import post_state
from recall.campaign.definitions import definition_of
from recall.campaign.events import change_status, record_move
from recall.clock import Clock, utc_now
from recall.db.models import CallAttempt, Case, Customer
from recall.domain.assignment import Item, plan_assignment
from recall.domain.calling import (
    ESCALATED,
    SPECIALIST_SKILL,
    WORKABLE,
    CallState,
    Disposition,
    outcome_statuses,
    plan_disposition,
)
from recall.domain.cases import Status
from recall.domain.errors import Refused

PHONE, HOTLINE, VOICEMAIL = "phone", "hotline", "voicemail"  # the events' channels of a call
# What only a call the agent makes can come to: a customer calling the hotline is on the line.
OUTBOUND_ONLY = frozenset(
    {Disposition.NO_ANSWER, Disposition.BUSY, Disposition.VOICEMAIL, Disposition.WRONG_NUMBER}
)


@dataclass(frozen=True)
class CallResult:
    case_ref: str
    status: str
    attempt_id: int | None
    on_call_list: bool
    next_call_at: dt.datetime | None
    agent_id: str | None  # who has the case now (a specialist after an escalation)
    note: str = ""
    next_case: int | None = None  # the case claimed next for the desk, when asked for


def record_disposition(
    *,
    engine: Engine,
    agent_id: str,
    case_id: int,
    disposition: Disposition | str,
    desk: str = "",
    callback_at: dt.datetime | None = None,
    outcome: str | None = None,
    skill: str | None = None,
    note: str | None = None,
    attempt_id: int | None = None,
    inbound: bool = False,
    recorded: int | None = None,
    then_next: bool = False,
    clock: Clock = utc_now,
) -> CallResult:
    """Record one call to the case's customer and, once reached, the outcome if given;
    `then_next`: claim the desk's next case in the same transaction (`next_case`).

    `recorded` is how many calls the case had recorded when the agent opened it (the case
    card's): if another save came first, AlreadyRecorded is raised and nothing is written.

    `attempt_id` names the call placed through the telephony port, when there was one;
    `inbound` is a customer calling the hotline: the agent who answers takes the case over,
    and what only a call the agent makes can come to (OUTBOUND_ONLY) is refused.
    """
    try:
        disposition = Disposition(disposition)
    except ValueError:
        choices = ", ".join(d.value for d in Disposition)
        raise WorkError(f"{disposition!r} is not a call disposition ({choices})") from None
    if inbound and disposition in OUTBOUND_ONLY:
        raise WorkError(
            f"a hotline call can't be recorded as {disposition.value.replace('_', ' ')}: the "
            "customer called in; record what they chose, or the callback they asked for"
        )
    if outcome and disposition != Disposition.REACHED:
        raise WorkError("an outcome can only follow a call where the customer was reached")
    if disposition == Disposition.REACHED and not outcome and callback_at is None:
        raise WorkError(
            "a reached call needs its outcome, or the time the customer asked to be called back"
        )
    now = clock()
    # Written once, at the end: a flush before each read would update the rows twice.
    with Session(engine, autoflush=False) as session, session.begin():
        case = hold_case(session, case_id, agent_id, claimant(agent_id, desk), now)
        if recorded is not None and recorded_calls(session, case.id) != recorded:
            raise AlreadyRecorded(
                f"{case.case_ref}: this call was saved already (a repeated click, a retry or "
                "another tab); nothing more was recorded"
            )
        if inbound:
            take_over(session, case, agent_id, now)
        attempt = _attempt(session, case, attempt_id, agent_id, now)
        channel = HOTLINE if inbound else PHONE
        result = apply_disposition(
            session, case, disposition, actor=agent_id, attempt=attempt, now=now,
            callback_at=callback_at, note=note, channel=channel,
        )  # fmt: skip
        if outcome:
            result = apply_outcome(
                session, case, outcome, actor=agent_id, skill=skill, note=note, now=now,
                channel=channel,
            )  # fmt: skip
        attempt.outcome = case.outcome
        session.flush()
        who = claimant(agent_id, desk)  # checked active as the case was held
        following = claim_next(session, agent_id, who, now, checked=True) if then_next else None
        return dataclasses.replace(result, attempt_id=attempt.id, next_case=following)


def _attempt(
    session: Session, case: Case, attempt_id: int | None, agent_id: str, now: dt.datetime
) -> CallAttempt:
    """The dialled call being recorded, or a new attempt for a call made by other means."""
    if attempt_id is None:
        attempt = CallAttempt(case_id=case.id, agent_id=agent_id, started_at=now, ended_at=now)
        session.add(attempt)
        return attempt
    found = session.get(CallAttempt, attempt_id)
    if found is None or found.case_id != case.id:
        raise WorkError(f"call {attempt_id} was not made to case {case.case_ref}")
    if found.disposition is not None:
        raise WorkError(f"this call was already recorded as {found.disposition}")
    found.ended_at = found.ended_at or now
    return found


def record_outcome(
    *,
    engine: Engine,
    agent_id: str,
    case_id: int,
    outcome: str,
    desk: str = "",
    skill: str | None = None,
    note: str | None = None,
    inbound: bool = False,
    clock: Clock = utc_now,
) -> CallResult:
    """The outcome of a case already reached (a specialist's answer, a customer calling back)."""
    now = clock()
    with Session(engine) as session, session.begin():
        case = hold_case(session, case_id, agent_id, claimant(agent_id, desk), now)
        if inbound:
            take_over(session, case, agent_id, now)
        return apply_outcome(
            session, case, outcome, actor=agent_id, skill=skill, note=note, now=now,
            channel=HOTLINE if inbound else PHONE,
        )  # fmt: skip


def apply_disposition(
    session: Session,
    case: Case,
    disposition: Disposition,
    *,
    actor: str,
    attempt: CallAttempt,
    now: dt.datetime,
    callback_at: dt.datetime | None = None,
    note: str | None = None,
    channel: str = "phone",
    message_left: bool = True,
) -> CallResult:
    """The contract's consequences of one call, on a case this transaction holds.

    `channel` is the events' channel: `phone` for a call the agent made, `hotline` for the
    customer calling in; a voicemail the recall counts as a notice is written `voicemail`.
    """
    status = Status(case.status)
    if status not in WORKABLE:
        raise WorkError(f"case {case.case_ref} is {status}: there is nobody left to call")
    definition = definition_of(session, case.recall_id)
    addressed, sent, returned = post_state(session, case)
    state = CallState(status, case.attempts, addressed, sent, returned)
    try:
        plan = plan_disposition(
            state, disposition, now=now, policy=definition.call, callback_at=callback_at,
            message_left=message_left,
        )  # fmt: skip
    except Refused as exc:
        raise WorkError(str(exc)) from None
    step_note = plan.note or f"call: {disposition.value}"
    if disposition == Disposition.VOICEMAIL:
        channel = VOICEMAIL
    for target in plan.statuses:
        change_status(session, case, target, actor=actor, channel=channel, note=step_note,
                      clock=lambda: now)  # fmt: skip
    if not plan.statuses:  # an attempt: in the history, never a step
        record_move(session, case, actor=actor, channel=channel, note=step_note,
                    clock=lambda: now)  # fmt: skip
    if plan.outcome:
        case.outcome = plan.outcome
    attempt.disposition, attempt.note = disposition.value, note
    case.attempts += 1 if plan.counts else 0
    case.next_call_at = plan.next_call_at
    case.callback_at = callback_at if plan.callback else None
    case.callback_agent = case.agent_id if plan.callback else None
    case.claimed_by = case.claimed_until = None
    if plan.leave_call_list:
        case.call = False
        if plan.needs_letter:
            case.letter = True
        case.notice_only = not case.letter or returned  # a letter back reaches nobody
        if plan.statuses and plan.statuses[-1] != Status.UNREACHABLE:
            record_move(session, case, actor=actor, channel=channel, note=plan.note,
                        clock=lambda: now)  # fmt: skip
    if plan.do_not_call:
        _never_call_again(session, case.customer_id, actor, now)
    return _result(case, attempt.id, plan.note)


def apply_outcome(
    session: Session,
    case: Case,
    outcome: str,
    *,
    actor: str,
    now: dt.datetime,
    skill: str | None = None,
    note: str | None = None,
    channel: str = "phone",
) -> CallResult:
    """Move a reached case to the status its outcome leads to; an escalation finds a specialist."""
    definition = definition_of(session, case.recall_id)
    status = Status(case.status)
    if status not in (Status.CONTACTED, Status.ESCALATED, Status.DECLINED):
        raise WorkError(
            f"case {case.case_ref} is {status}: record that the customer was reached first"
        )
    try:
        steps = outcome_statuses(status, outcome, definition.remedies)
    except Refused as exc:
        raise WorkError(str(exc)) from None
    if outcome == ESCALATED and not (note or "").strip():
        raise WorkError("an escalation needs a reason for the specialist")
    text = f"outcome: {outcome}" + (f" - {note}" if note else "")
    for target in steps:
        change_status(session, case, target, actor=actor, channel=channel, note=text,
                      clock=lambda: now)  # fmt: skip
    if not steps:
        record_move(session, case, actor=actor, channel=channel, note=text, clock=lambda: now)
    case.outcome = outcome
    if outcome in definition.remedies:
        case.agreed_at = case.agreed_at or now
    case.claimed_by = case.claimed_until = None
    result_note = ""
    if outcome == ESCALATED:
        case.escalation_reason = (skill or SPECIALIST_SKILL).strip().lower()
        result_note = _to_specialist(session, case, definition.hazard, actor, now)
    else:
        case.next_call_at = case.callback_at = case.callback_agent = None
    return _result(case, None, result_note)


def _to_specialist(session: Session, case: Case, hazard: str, actor: str, now: dt.datetime) -> str:
    item = Item(
        case.id, case.priority or 0, case.language, case.escalation_reason, hazard == "high"
    )
    plan = plan_assignment([item], active_slots(session), home_language=case.language)
    specialist = plan.assigned.get(case.id)
    previous = case.agent_id
    case.call = True
    if specialist is None:
        case.holder = None  # waits for a specialist: the next assignment finds one
    else:
        case.agent_id = specialist
    case.next_call_at = case.callback_at = case.callback_agent = None
    if specialist is None:
        why = next(iter(plan.unplaced), "no specialist")
        note = f"escalated: waiting for a specialist ({why})"
    else:
        note = f"escalated: handed from agent {previous} to specialist {specialist}"
    record_move(session, case, actor=actor, channel="phone", note=note, clock=lambda: now)
    return note


def _never_call_again(session: Session, customer_id: str, actor: str, now: dt.datetime) -> None:
    """The customer's wish holds for every recall: off every call list."""
    customer = session.get(Customer, customer_id)
    if customer is not None:
        customer.do_not_call = True
    others = session.scalars(
        select(Case).where(
            Case.customer_id == customer_id,
            Case.call.is_(True),
            Case.status.in_([s.value for s in WORKABLE]),
        )
    )
    for other in others:
        other.call = False
        note = "customer asked not to be called: off the call list"
        record_move(session, other, actor=actor, channel="phone", note=note, clock=lambda: now)


def _result(case: Case, attempt_id: int | None, note: str) -> CallResult:
    return CallResult(
        case_ref=case.case_ref,
        status=case.status,
        attempt_id=attempt_id,
        on_call_list=bool(case.call) and Status(case.status) in WORKABLE,
        next_call_at=case.next_call_at,
        agent_id=case.agent_id,
        note=note,
    )
