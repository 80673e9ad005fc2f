"""Why next-case handed out nothing, and when someone on the agent's list can be called."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Row, Select, func, or_, select
from sqlalchemy.orm import Session

from recall.calling.agent_queue import CALLBACK, NOTICE, OUTSIDE_HOURS, RETRY, when_text
from recall.calling.queue import held_by, listed_for, on_call_list
from recall.campaign.definitions import definition_of
from recall.clock import Clock, utc_now
from recall.db.models import Case, Customer
from recall.domain.calling import callable_from, calling_windows, holiday
from recall.domain.definition import CallPolicy, hours_text


@dataclass(frozen=True)
class NothingToCall:
    """Why next-case handed out nothing, and when someone on the list can first be called."""

    reason: str  # the sentence an agent reads
    next_at: dt.datetime | None = None  # None: the list is empty

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class _Wait:
    at: dt.datetime  # when the first of these cases can be called
    why: str  # one of the waits above
    zone: str
    policy: CallPolicy
    country: str | None


def nothing_to_call(*, engine: Engine, agent_id: str, clock: Clock = utc_now) -> NothingToCall:
    """Why no case of the agent's list may be called now, and when the first one can be: read
    once next-case found nothing, in one GROUP BY over the agent's list."""
    now = clock()
    with Session(engine) as session:
        groups = session.execute(_waits(agent_id, now)).all()
        policies = {r: definition_of(session, r).call for r in {g.recall_id for g in groups}}
    waits = [w for g in groups for w in _waits_of(g, policies[g.recall_id], now)]
    if not waits:
        return NothingToCall("Your list is empty: nobody is left to call.")
    first = min(waits, key=lambda w: w.at)
    return NothingToCall(_reason(first, now), first.at)


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


def _reason(wait: _Wait, now: dt.datetime) -> str:
    at = when_text(wait.at, wait.zone, now)
    if wait.at == now:  # callable, yet not handed out: held at another desk, or just freed
        return "The cases that can be called now are open at another desk; try again shortly."
    if wait.why == CALLBACK:
        return f"The next cases wait for their callback time: the first can be called at {at}."
    if wait.why == RETRY:
        return f"The next cases wait after an unanswered call: the first can be called at {at}."
    if wait.why == NOTICE:
        return f"Calls wait for customers to answer their e-mail or text until {at}."
    hours = hours_text(calling_windows(wait.policy))
    day_off = holiday(wait.policy, wait.country, now.astimezone(ZoneInfo(wait.zone)).date())
    today = f", and today is a public holiday for them ({day_off})" if day_off else ""
    return (
        f"Nobody can be called now: calling hours are {hours} on the customers' clocks{today}; "
        f"next call possible at {at}."
    )
