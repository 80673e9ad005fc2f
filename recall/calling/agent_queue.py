"""What an agent's desk shows: their queue for today, when each case can be called, and a
case's history (why nothing can be called right now: `idle.py`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Row, bindparam, case, func, select
from sqlalchemy.orm import Session

from recall.calling.escalations import needed_skill
from recall.calling.queue import escalations_first, held_by, listed_for, on_call_list
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
    callable_at: dt.datetime | None  # None: now, else when next-case can hand it out
    zone: str  # the customer's clock, which callbacks and calling hours are on
    waiting: str = ""  # what it waits for, when not now: CALLBACK, RETRY, ... (below)
    holiday: str = ""  # HOLIDAY: the customer's public holiday today
    skill: str = ""  # an escalation: the specialist skill it needs (shown on the row)


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
    note: str
    new_status: str | None = None  # a status change (or a move with the same status)
    old_status: str | None = None
    channel: str | None = None
    call: str | None = None  # a call: its disposition, else its line's status
    duration_s: int | None = None


def my_queue(
    *, engine: Engine, agent_id: str, clock: Clock = utc_now, language: str = "en"
) -> Queue:
    """The agent's open cases in the order they come up: escalations first (injuries first),
    then due callbacks, then priority."""
    now = clock()
    due = case((Case.callback_at <= now, 0), else_=1)
    mine = [on_call_list(), listed_for(agent_id)]
    # The first rows in the queue's order, then their customers: a name is read for the rows
    # shown, not for each case of the list.
    first = (
        select(
            Case.id,
            escalations_first().label("tier"),
            due.label("due"),
            Case.priority,
            func.count().over().label("left"),
        )
        .join(*held_by())
        .where(*mine)
        .order_by(escalations_first(), due, Case.priority, Case.id)
        .limit(SHOWN)
        .subquery()
    )
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
                Case.escalation_reason,
                first.c.left,
            )
            .join(first, first.c.id == Case.id)
            .join(Customer, Customer.customer_id == Case.customer_id)
            .order_by(first.c.tier, first.c.due, first.c.priority, Case.id)
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
        left = rows[0].left if rows else 0  # the whole list, counted as the first rows were read
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
                *_when(r, policies[r.recall_id], now, language),
                skill=needed_skill(r.status, r.escalation_reason),
            )
            for r in rows
        ],
        left=left,
        done_today=done or 0,
    )


# What a case not callable now waits for (codes: the console and the command line word them).
CALLBACK = "callback"  # the time the customer asked to be called back
RETRY = "retry"  # a retry after an unanswered call
NOTICE = "notice"  # an answer to the e-mail or text
OUTSIDE_HOURS = "outside_hours"
HOLIDAY = "holiday"  # a public holiday for the customer


def _when(
    row: Row[Any], policy: CallPolicy, now: dt.datetime, language: str
) -> tuple[dt.datetime | None, str, str, str]:
    """(None, zone, "", "") for a case next-case may hand out now (as it reads the calling
    hours and `next_call_at`), else when, on the customer's clock, what it waits for and the
    holiday it is for them."""
    zone = row.call_zone or policy.timezone
    wait = row.next_call_at if row.next_call_at is not None and row.next_call_at > now else None
    at = callable_from(policy, zone, now, country=row.country, wait_until=wait)
    if at == now:
        return None, zone, "", ""
    if wait is not None:
        return at, zone, CALLBACK if row.callback_at else RETRY if row.attempts else NOTICE, ""
    day_off = holiday(policy, row.country, now.astimezone(ZoneInfo(zone)).date(), language)
    return at, zone, HOLIDAY if day_off else OUTSIDE_HOURS, day_off or ""


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
        return history_in(session, case_id)[0]


_EVENTS = select(CaseEvent).where(CaseEvent.case_id == bindparam("case_id"))
_ATTEMPTS = select(CallAttempt).where(CallAttempt.case_id == bindparam("case_id"))


def history_in(session: Session, case_id: int) -> tuple[list[HistoryLine], int]:
    """The case's history, oldest first, and how many of its calls were recorded."""
    events = session.scalars(_EVENTS, {"case_id": case_id})
    lines = [
        HistoryLine(e.at, e.actor, e.note or "", e.new_status, e.old_status, e.channel)
        for e in events
    ]
    attempts = list(session.scalars(_ATTEMPTS, {"case_id": case_id}))
    lines += [
        HistoryLine(
            a.started_at,
            a.agent_id,
            a.note or "",
            call=a.disposition or a.line_status or "dialling",
            duration_s=a.duration_s,
        )
        for a in attempts
    ]
    recorded = sum(a.disposition is not None for a in attempts)
    return sorted(lines, key=lambda line: line.at), recorded


def _name(first: str | None, last: str | None) -> str:
    return " ".join(part for part in (first, last) if part) or "(no name)"


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
