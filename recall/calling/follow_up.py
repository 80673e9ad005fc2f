"""What has to happen as days pass on a running recall (the hourly follow_up flow).

Moves caused by an event happen when the event is recorded (a returned letter joins the call
list in `recall letters returned`, a case past max_attempts leaves it when that call is
recorded). What is left for the clock: letters nobody answered, callbacks an agent missed,
loads to even out, and high-hazard customers not yet contacted within the recall's SLA.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Engine, and_, func, or_, select
from sqlalchemy.orm import Session

from recall.calling import assignment
from recall.calling.assignment import active_slots
from recall.calling.queue import on_call_list
from recall.campaign.definitions import definition_of
from recall.campaign.events import record_move
from recall.clock import Clock, utc_now
from recall.db.models import Case, Customer, Letter, LetterBatch
from recall.domain.assignment import AgentSlot, Item, plan_assignment
from recall.domain.calling import NOT_WORKED_YET
from recall.domain.cases import Status

log = logging.getLogger(__name__)
SYSTEM = "follow-up"
NOT_CONTACTED = [s.value for s in NOT_WORKED_YET]  # identified or notified


@dataclass(frozen=True)
class SlaBreach:
    cases: int  # high-hazard cases past the SLA and not contacted
    oldest_hours: float
    sla_hours: float
    case_refs: tuple[str, ...]  # the first few, oldest first (references carry no personal data)


@dataclass
class FollowUpReport:
    recall_id: str
    till_returns: int = 0  # cases closed by a return at the till (filled in by the flow)
    letters_to_calls: int = 0
    callbacks_overdue: int = 0
    callbacks_moved: int = 0
    assigned: int = 0
    moved: int = 0
    breach: SlaBreach | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def follow_up(
    *, engine: Engine, recall_id: str, home_language: str, clock: Clock = utc_now
) -> FollowUpReport:
    """One pass of the follow-up on a recall; running it twice in a row changes nothing more."""
    started, now = time.perf_counter(), clock()
    report = FollowUpReport(recall_id)
    with Session(engine) as session, session.begin():
        definition = definition_of(session, recall_id)
        policy = definition.follow_up
        if policy.call_letters_after is not None:
            report.letters_to_calls = _call_unanswered_letters(
                session, recall_id, now - policy.call_letters_after, now
            )
        report.callbacks_overdue, report.callbacks_moved = _missed_callbacks(
            session, recall_id, now - policy.callback_grace, now
        )
    balanced = assignment.assign_call_list(
        engine=engine, recall_id=recall_id, home_language=home_language, rebalance=True,
        clock=clock,
    )  # fmt: skip
    report.assigned, report.moved = balanced.assigned, balanced.moved
    if definition.hazard == "high":
        report.breach = sla_breach(engine=engine, recall_id=recall_id, sla=policy.contact_sla,
                                   now=now)  # fmt: skip
        if report.breach:
            log.warning(
                "recall %s: %d high-hazard case(s) not contacted within %.0f h (oldest %.0f h)",
                recall_id, report.breach.cases, report.breach.sla_hours,
                report.breach.oldest_hours,
            )  # fmt: skip
    report.seconds = time.perf_counter() - started
    return report


def _call_unanswered_letters(
    session: Session, recall_id: str, posted_before: dt.datetime, now: dt.datetime
) -> int:
    """Letters posted before `posted_before` whose customer never got in touch: phone them."""
    rows = session.scalars(
        select(Case)
        .join(Letter, Letter.case_id == Case.id)
        .join(
            LetterBatch,
            and_(
                LetterBatch.recall_id == Letter.recall_id, LetterBatch.batch_no == Letter.batch_no
            ),
        )
        .join(Customer, Customer.customer_id == Case.customer_id)
        .where(
            Case.recall_id == recall_id,
            Case.status == Status.NOTIFIED.value,
            Case.call.is_(False),
            Case.phone_e164.is_not(None),
            Customer.do_not_call.is_(False),
            Letter.returned_at.is_(None),
            LetterBatch.mailed_at <= posted_before,
        )
    ).all()
    for case in rows:
        case.call = True
        record_move(session, case, actor=SYSTEM, channel="phone", clock=lambda: now,
                    note="letter unanswered: on the call list")  # fmt: skip
    return len(rows)


def _missed_callbacks(
    session: Session, recall_id: str, due_before: dt.datetime, now: dt.datetime
) -> tuple[int, int]:
    """Callbacks promised for before `due_before` and not made: flagged, and handed to another
    agent when one can take them (the customer is waiting)."""
    missed = session.scalars(
        select(Case)
        .where(
            on_call_list(recall_id),
            Case.callback_at.is_not(None),
            Case.callback_at <= due_before,
            Case.callback_agent.is_not(None),
            _nobody_on_it(now),
        )
        .with_for_update()
    ).all()
    slots = active_slots(session)
    moved = 0
    for case in missed:
        late = now - case.callback_at  # type: ignore[operator]
        old = case.agent_id
        new = _another_agent(case, [s for s in slots if s.agent_id != old])
        case.callback_agent = None  # the promise is the centre's now, not one agent's
        if new is not None:
            case.agent_id = new
            moved += 1
        where = f"handed from agent {old} to agent {new}" if new else "no other agent to take it"
        record_move(session, case, actor=SYSTEM, channel="phone", clock=lambda: now,
                    note=f"callback overdue by {_hours(late)}: {where}")  # fmt: skip
    return len(missed), moved


def _nobody_on_it(now: dt.datetime) -> ColumnElement[bool]:
    """No desk holds the case: nobody is on the phone with the customer right now."""
    return or_(Case.claimed_until.is_(None), Case.claimed_until <= now)


def _another_agent(case: Case, slots: list[AgentSlot]) -> str | None:
    item = Item(case.id, case.priority or 0, case.language, None, False)
    return plan_assignment([item], slots, home_language=case.language).assigned.get(case.id)


def sla_breach(
    *, engine: Engine, recall_id: str, sla: dt.timedelta, now: dt.datetime, shown: int = 20
) -> SlaBreach | None:
    """High-hazard cases identified longer ago than the SLA and still not contacted."""
    late = and_(
        Case.recall_id == recall_id,
        Case.status.in_(NOT_CONTACTED),
        Case.created_at <= now - sla,
        Case.notice_only.is_(False),
    )
    with Session(engine) as session:
        query = select(func.count(), func.min(Case.created_at)).where(late)
        count, oldest = session.execute(query).one()
        if not count:
            return None
        refs = session.scalars(
            select(Case.case_ref).where(late).order_by(Case.created_at, Case.id).limit(shown)
        ).all()
    return SlaBreach(count, (now - oldest).total_seconds() / 3600, sla.total_seconds() / 3600,
                     tuple(refs))  # fmt: skip


def _hours(delta: dt.timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"
