"""Why next-case handed out nothing, and when someone on the agent's list can be called: the
reason as a code with its instant and clock, for the console and the command line to word."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Row, Select, func, or_, select
from sqlalchemy.orm import Session

from recall.calling.agent_queue import CALLBACK, HOLIDAY, NOTICE, OUTSIDE_HOURS, RETRY
from recall.calling.queue import held_by, listed_for, on_call_list
from recall.campaign.definitions import definition_of
from recall.clock import Clock, utc_now
from recall.db.models import Case, Customer
from recall.domain.calling import callable_from, calling_windows, holiday
from recall.domain.definition import CallingWindow, CallPolicy

EMPTY = "empty"  # nobody is left on the list
ELSEWHERE = "elsewhere"  # callable now, yet open at another desk (or just freed)


@dataclass(frozen=True)
class NothingToCall:
    """Why next-case handed out nothing, and when someone on the list can first be called."""

    reason: str  # EMPTY, ELSEWHERE, CALLBACK, RETRY, NOTICE, OUTSIDE_HOURS or HOLIDAY
    next_at: dt.datetime | None = None  # None: the list is empty
    zone: str | None = None  # the clock of the customer who can be called first
    hours: tuple[CallingWindow, ...] = ()  # their recall's calling hours
    holiday: str | None = None  # HOLIDAY: the public holiday it is for them today


@dataclass(frozen=True)
class _Wait:
    at: dt.datetime  # when the first of these cases can be called
    why: str  # one of the waits above
    zone: str
    policy: CallPolicy
    country: str | None


def nothing_to_call(
    *, engine: Engine, agent_id: str, clock: Clock = utc_now, language: str = "en"
) -> NothingToCall:
    """Why no case of the agent's list may be called now, and when the first one can be: read
    once next-case found nothing, in one GROUP BY over the agent's list."""
    now = clock()
    with Session(engine) as session:
        groups = session.execute(_waits(agent_id, now)).all()
        policies = {r: definition_of(session, r).call for r in {g.recall_id for g in groups}}
    waits = [w for g in groups for w in _waits_of(g, policies[g.recall_id], now)]
    if not waits:
        return NothingToCall(EMPTY)
    return _reason(min(waits, key=lambda w: w.at), now, language)


def _waits(agent_id: str, now: dt.datetime) -> Select[Any]:
    """By recall, time zone and country: the cases ready but for the calling hours, and the
    end of the first wait of each kind."""
    later = Case.next_call_at > now
    asked = Case.callback_at.is_not(None)
    return (
        select(
            Case.recall_id,
            Case.call_zone,
            Customer.country,
            func.count().filter(or_(Case.next_call_at.is_(None), ~later)).label("ready"),
            func.min(Case.next_call_at).filter(later, asked).label("callback"),
            func.min(Case.next_call_at).filter(later, ~asked, Case.attempts > 0).label("retry"),
            func.min(Case.next_call_at).filter(later, ~asked, Case.attempts == 0).label("notice"),
        )
        .join(*held_by())
        .outerjoin(Customer, Customer.customer_id == Case.customer_id)
        .where(listed_for(agent_id), on_call_list())
        .group_by(Case.recall_id, Case.call_zone, Customer.country)
    )


def _waits_of(group: Row[Any], policy: CallPolicy, now: dt.datetime) -> list[_Wait]:
    """The first case of each kind of wait in one group, with when it can be called."""
    zone, country = group.call_zone or policy.timezone, group.country
    ends = {OUTSIDE_HOURS: now if group.ready else None, CALLBACK: group.callback,
            RETRY: group.retry, NOTICE: group.notice}  # fmt: skip
    return [
        _Wait(callable_from(policy, zone, now, country=country, wait_until=end), why, zone,
              policy, country)
        for why, end in ends.items()
        if end is not None
    ]  # fmt: skip


def _reason(wait: _Wait, now: dt.datetime, language: str) -> NothingToCall:
    if wait.at == now:  # callable, yet not handed out: held at another desk, or just freed
        return NothingToCall(ELSEWHERE, now, wait.zone)
    if wait.why != OUTSIDE_HOURS:
        return NothingToCall(wait.why, wait.at, wait.zone)
    local_day = now.astimezone(ZoneInfo(wait.zone)).date()
    day_off = holiday(wait.policy, wait.country, local_day, language)
    why = HOLIDAY if day_off else OUTSIDE_HOURS
    return NothingToCall(why, wait.at, wait.zone, calling_windows(wait.policy), day_off)
