"""Recording what a customer says on their self-service page: one transaction, events on the
`web` channel, the case off the call list at once when the answer settles it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from recall.calling.outcomes import apply_outcome
from recall.campaign.definitions import definition_of
from recall.campaign.events import change_status, record_move
from recall.clock import Clock, utc_now
from recall.db.models import Case, Customer, WebAnswer
from recall.domain.calling import NOT_IN_POSSESSION, RETURNED_IN_STORE, WORKABLE, customer_zone
from recall.domain.cases import Status, to_contacted
from recall.domain.contacts import normalise_phone
from recall.selfservice.checks import Answer, Checked, Possession, check_answer, check_contacts
from recall.selfservice.page import PageUnavailable, RecordedAnswer, latest_answer, open_case

CUSTOMER, WEB = "customer", "web"  # the actor and the channel of what the page records
ANSWERED = "answered on the self-service page"


@dataclass(frozen=True)
class AnswerResult:
    status: str
    outcome: str | None
    recorded: bool  # False: the case was settled before, nothing was written
    on_call_list: bool
    corrected: tuple[str, ...] = ()  # "phone number", "e-mail address": never the values


def record_web_answer(
    *, engine: Engine, case_id: int, answer: Answer, clock: Clock = utc_now
) -> AnswerResult:
    """Record the customer's answer and move their case; AnswerRefused names a field to fix.

    The same answer sent twice (a double click, a reload) is recorded once; a case settled
    already (by an agent, a till, an earlier answer) is left as it is.
    """
    now, answer = clock(), answer.cleaned()
    with Session(engine) as session, session.begin():
        case = _hold(session, case_id)
        _, _, customer = open_case(session, case_id)
        if _repeated(session, case.id, answer):
            check_contacts(answer, customer)
            return _result(case, True, _correct(session, case, customer, answer, now))
        if case.status == Status.RESOLVED:
            return _result(case, False)
        definition = definition_of(session, case.recall_id)
        zone = case.call_zone or definition.call.timezone
        checked = check_answer(session, answer, definition, customer, zone, now)
        corrected = _correct(session, case, customer, answer, now)
        session.add(_row(case.id, checked, now))
        _settle(session, case, checked, now)
        return _result(case, True, corrected)


def recorded_answer(*, engine: Engine, case_id: int) -> RecordedAnswer | None:
    """The case's latest web answer, for the agent's view of the case."""
    with Session(engine) as session:
        return latest_answer(session, case_id)


def _hold(session: Session, case_id: int) -> Case:
    """The case, locked for this transaction by its first statement (a write: SQLite's lock)."""
    session.execute(
        update(Case)
        .where(Case.id == case_id)
        .values(updated_at=Case.updated_at)
        .execution_options(synchronize_session=False)
    )
    case = session.get(Case, case_id, populate_existing=True)
    if case is None:
        raise PageUnavailable()
    return case


def _repeated(session: Session, case_id: int, answer: Answer) -> bool:
    last = session.scalars(
        select(WebAnswer).where(WebAnswer.case_id == case_id).order_by(WebAnswer.id.desc())
    ).first()
    if last is None:
        return False
    said = (last.possession, last.remedy, last.store_id, last.delivery_address, last.callback_slot)
    return said == answer.key()


def _row(case_id: int, checked: Checked, now: dt.datetime) -> WebAnswer:
    answer = checked.answer
    return WebAnswer(
        case_id=case_id, answered_at=now, possession=answer.possession,
        remedy=answer.remedy or None, store_id=answer.store_id or None,
        delivery_address=answer.delivery_address or None,
        callback_slot=answer.callback_slot or None, language=answer.language,
    )  # fmt: skip


def _settle(session: Session, case: Case, checked: Checked, now: dt.datetime) -> None:
    """The answer's consequence for the case: in touch, then settled or a callback booked."""
    answer, status = checked.answer, Status(case.status)
    if status == Status.ESCALATED:  # a specialist's case (harm reported): theirs to settle
        note = f"{ANSWERED} ({answer.possession}): left with the specialist"
        record_move(session, case, actor=CUSTOMER, channel=WEB, note=note, clock=lambda: now)
        return
    for target in to_contacted(status):
        change_status(session, case, target, actor=CUSTOMER, channel=WEB, note=ANSWERED,
                      clock=lambda: now)  # fmt: skip
    if answer.possession == Possession.HAS_IT:
        apply_outcome(session, case, answer.remedy, actor=CUSTOMER, now=now, channel=WEB,
                      note=_where(answer))  # fmt: skip
    elif answer.possession == Possession.NOT_ANYMORE:
        apply_outcome(session, case, NOT_IN_POSSESSION, actor=CUSTOMER, now=now, channel=WEB)
    elif answer.possession == Possession.RETURNED:
        _returned(session, case, now)
    else:
        _call_back(session, case, checked, now)


def _where(answer: Answer) -> str:
    if answer.store_id:
        return f"at store {answer.store_id}"
    return "at the address the customer gave on the page"


def _returned(session: Session, case: Case, now: dt.datetime) -> None:
    """The customer says the product went back to a store: settled as a till return is (the
    till's own lines, when they come, count the units)."""
    note = f"{ANSWERED}: returned to a store"
    change_status(session, case, Status.RESOLVED, actor=CUSTOMER, channel=WEB, note=note,
                  clock=lambda: now)  # fmt: skip
    case.outcome, case.agreed_at = RETURNED_IN_STORE, case.agreed_at or now
    case.next_call_at = case.callback_at = case.callback_agent = None
    case.claimed_by = case.claimed_until = None


def _call_back(session: Session, case: Case, checked: Checked, now: dt.datetime) -> None:
    """A call booked: the case stays on (or comes onto) its agent's list, due at the slot."""
    assert checked.slot is not None
    case.call = True
    case.callback_at = case.next_call_at = checked.slot.starts_at
    case.callback_agent = case.agent_id
    note = f"{ANSWERED}: asks to be called back ({checked.slot.code})"
    record_move(session, case, actor=CUSTOMER, channel=WEB, note=note, clock=lambda: now)


def _correct(
    session: Session, case: Case, customer: Customer, answer: Answer, now: dt.datetime
) -> tuple[str, ...]:
    """The customer's new phone or e-mail, kept; the event says what changed, never the value."""
    done = []
    phone = normalise_phone(answer.phone, customer.country) if answer.phone else None
    if phone and phone != customer.phone_e164:
        customer.phone, case.phone_e164, case.phone_invalid = answer.phone.strip(), phone, False
        case.call_zone = customer_zone(phone, definition_of(session, case.recall_id).call.timezone)
        done.append("phone number")
    email = answer.email.strip()
    if email and email.casefold() != (customer.email or "").strip().casefold():
        customer.email = email
        done.append("e-mail address")
    if done:
        note = f"the customer corrected their {' and '.join(done)} on the self-service page"
        record_move(session, case, actor=CUSTOMER, channel=WEB, note=note, clock=lambda: now)
    return tuple(done)


def _result(case: Case, recorded: bool, corrected: tuple[str, ...] = ()) -> AnswerResult:
    on_list = bool(case.call) and Status(case.status) in WORKABLE
    return AnswerResult(case.status, case.outcome, recorded, on_list, corrected)
