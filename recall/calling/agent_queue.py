"""What an agent's desk shows: their queue for today, a case's history, hotline look-ups."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, case, func, select
from sqlalchemy.orm import Session

from recall.calling.queue import held_by, listed_for, on_call_list
from recall.campaign.definitions import definition_of
from recall.clock import Clock, utc_now
from recall.db.models import CallAttempt, Case, CaseEvent, Customer, QueueEntry, Recall
from recall.domain.contacts import normalise_phone

SHOWN = 100  # queue rows on one page: an agent works from the top


@dataclass(frozen=True)
class QueueRow:
    case_id: int
    case_ref: str
    customer: str
    language: str
    status: str
    calls: int  # calls recorded on the case, answered or not
    callback_at: dt.datetime | None
    next_call_at: dt.datetime | None
    callback_due: bool


@dataclass(frozen=True)
class Queue:
    agent_id: str
    rows: list[QueueRow]
    left: int  # open cases on the list
    done_today: int  # cases the agent recorded a call on since midnight UTC


@dataclass(frozen=True)
class HistoryLine:
    at: dt.datetime
    who: str
    what: str
    note: str


@dataclass(frozen=True)
class Hit:
    case_id: int
    case_ref: str
    recall_id: str
    recall_title: str
    customer: str
    status: str
    agent_id: str | None


def my_queue(*, engine: Engine, agent_id: str, clock: Clock = utc_now) -> Queue:
    """The agent's open cases in the order they come up: due callbacks first, then priority."""
    now = clock()
    due = case((Case.callback_at <= now, 0), else_=1)
    mine = [on_call_list(), listed_for(agent_id)]
    with Session(engine) as session:
        rows = session.execute(
            select(
                Case.id,
                Case.case_ref,
                Customer.first_name,
                Customer.last_name,
                Case.language,
                Case.status,
                Case.callback_at,
                Case.next_call_at,
            )
            .join(Customer, Customer.customer_id == Case.customer_id)
            .join(*held_by())
            .where(*mine)
            .order_by(due, Case.priority, Case.id)
            .limit(SHOWN)
        ).all()
        calls = dict(  # every call recorded, answered or not: as the case's history shows them
            session.execute(
                select(CallAttempt.case_id, func.count())
                .where(
                    CallAttempt.case_id.in_([r.id for r in rows]),
                    CallAttempt.disposition.is_not(None),
                )
                .group_by(CallAttempt.case_id)
            )
            .tuples()
            .all()
        )
        left = session.scalar(select(func.count()).select_from(Case).join(*held_by()).where(*mine))
        left = left or 0
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        done = session.scalar(
            select(func.count(func.distinct(CallAttempt.case_id))).where(
                CallAttempt.agent_id == agent_id,
                CallAttempt.started_at >= midnight,
                CallAttempt.disposition.is_not(None),
            )
        )
    return Queue(
        agent_id=agent_id,
        rows=[
            QueueRow(
                r.id,
                r.case_ref,
                _name(r.first_name, r.last_name),
                r.language,
                r.status,
                calls.get(r.id, 0),
                r.callback_at,
                r.next_call_at,
                r.callback_at is not None and r.callback_at <= now,
            )
            for r in rows
        ],
        left=left,
        done_today=done or 0,
    )


def history(*, engine: Engine, case_id: int) -> list[HistoryLine]:
    """Everything that happened to the case, oldest first: status changes and calls."""
    with Session(engine) as session:
        events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id))
        lines = [
            HistoryLine(e.at, e.actor, _change(e.old_status, e.new_status, e.channel), e.note or "")
            for e in events
        ]
        attempts = session.scalars(select(CallAttempt).where(CallAttempt.case_id == case_id))
        lines += [HistoryLine(a.started_at, a.agent_id, _call(a), a.note or "") for a in attempts]
    return sorted(lines, key=lambda line: line.at)


def find_cases(*, engine: Engine, query: str, country: str = "FR") -> list[Hit]:
    """Cases, open or not, whose reference (printed on the letter) or phone number matches."""
    text = query.strip()
    if not text:
        return []
    phone = normalise_phone(text, country)
    matches = Case.case_ref == text.upper() if phone is None else Case.phone_e164 == phone
    with Session(engine) as session:
        rows = session.execute(
            select(
                Case.id,
                Case.case_ref,
                Case.recall_id,
                Recall.title,
                Customer.first_name,
                Customer.last_name,
                Case.status,
                QueueEntry.agent_id,
            )
            .outerjoin(*held_by())
            .join(Recall, Recall.id == Case.recall_id)
            .join(Customer, Customer.customer_id == Case.customer_id)
            .where(matches)
            .order_by(Case.id)
            .limit(20)
        ).all()
    return [
        Hit(
            r.id,
            r.case_ref,
            r.recall_id,
            r.title,
            _name(r.first_name, r.last_name),
            r.status,
            r.agent_id,
        )
        for r in rows
    ]


def _name(first: str | None, last: str | None) -> str:
    return " ".join(part for part in (first, last) if part) or "(no name)"


def _change(old: str | None, new: str, channel: str | None) -> str:
    step = new if old in (None, new) else f"{old} -> {new}"
    return f"{step} ({channel})" if channel else step


def _call(attempt: CallAttempt) -> str:
    what = f"call: {attempt.disposition or attempt.line_status or 'dialling'}"
    if attempt.duration_s:
        what += f", {attempt.duration_s} s"
    return what


def case_zone(*, engine: Engine, case_id: int) -> str | None:
    """The customer's time zone, to read a callback time typed in their clock: the case's,
    else its recall's calling clock; None for no such case."""
    with Session(engine) as session:
        found = session.execute(
            select(Case.call_zone, Case.recall_id).where(Case.id == case_id)
        ).first()
        if found is None:
            return None
        return found.call_zone or definition_of(session, found.recall_id).call.timezone
