"""What an agent's desk shows: their queue for today, when each case can be called, and a
case's history (why nothing can be called right now: `idle.py`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Row, case, func, select
from sqlalchemy.orm import Session

from recall.calling.queue import held_by, listed_for, on_call_list
from recall.campaign.definitions import definition_of
from recall.clock import Clock, utc_now
from recall.db.models import CallAttempt, Case, CaseEvent, Customer
from recall.domain.calling import callable_from, holiday
from recall.domain.definition import CallPolicy

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
    when: str  # "now", else when next-case can hand it out on the customer's clock
    waiting: str = ""  # what it waits for, when not now: "outside calling hours", ...


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
                Case.attempts,
                Case.recall_id,
                Case.call_zone,
                Customer.country,
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
        policies = {r: definition_of(session, r).call for r in {row.recall_id for row in rows}}
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
                *_when(r, policies[r.recall_id], now),
            )
            for r in rows
        ],
        left=left,
        done_today=done or 0,
    )


CALLBACK = "callback asked for"
RETRY = "a retry after an unanswered call"
NOTICE = "waiting for an answer to the e-mail or text"
OUTSIDE_HOURS = "outside calling hours"


def _when(row: Row[Any], policy: CallPolicy, now: dt.datetime) -> tuple[str, str]:
    """("now", "") for a case next-case may hand out now (as it reads the calling hours and
    `next_call_at`), else its time on the customer's clock and what it waits for."""
    zone = row.call_zone or policy.timezone
    wait = row.next_call_at if row.next_call_at is not None and row.next_call_at > now else None
    at = callable_from(policy, zone, now, country=row.country, wait_until=wait)
    if at == now:
        return "now", ""
    if wait is not None:
        why = CALLBACK if row.callback_at else RETRY if row.attempts else NOTICE
    else:
        day_off = holiday(policy, row.country, now.astimezone(ZoneInfo(zone)).date())
        why = f"public holiday: {day_off}" if day_off else OUTSIDE_HOURS
    return when_text(at, zone, now), why


def when_text(at: dt.datetime, zone: str, now: dt.datetime) -> str:
    """An instant as the customer's clock shows it: `09:00 tomorrow (Europe/Paris)`."""
    tz = ZoneInfo(zone)
    local = at.astimezone(tz)
    days = (local.date() - now.astimezone(tz).date()).days
    day = "today" if days == 0 else "tomorrow" if days == 1 else f"{local:%a %d/%m}"
    return f"{local:%H:%M} {day} ({zone})"


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
