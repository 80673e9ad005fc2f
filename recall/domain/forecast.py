"""When will the call list be done? From what is left and the pace measured so far."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from recall.domain.calling import calling_windows
from recall.domain.definition import CallPolicy

DEFAULT_CONTACT_RATE = 0.5  # until calls have been made: half the customers pick up
DEFAULT_HANDLE_MINUTES = 6.0  # until calls have been timed: dialling, talking, recording
HORIZON_DAYS = 366


@dataclass(frozen=True)
class Pace:
    cases_left: int  # open cases of the call list
    agents: int  # active agents
    calls: int  # calls recorded so far
    reached: int  # of which reached the customer
    handle_minutes: float | None  # measured mean time per call, None when not measured
    held_until: dt.datetime | None = None  # calls wait for digital answers until then


@dataclass(frozen=True)
class Forecast:
    cases_left: int
    calls_needed: float
    contact_rate: float
    handle_minutes: float
    agents: int
    agent_hours: float  # calling hours of work left, all agents together
    done_by: dt.datetime | None  # None: nobody to call with, or beyond a year
    measured: bool  # contact rate and handle time from calls made, else defaults
    held_until: dt.datetime | None = None  # no call before then: customers may answer online


def calls_per_case(contact_rate: float, max_attempts: int) -> float:
    """Expected calls until a customer is reached or max_attempts is spent."""
    missed = 1.0 - contact_rate
    return sum(missed**k for k in range(max_attempts))


def forecast(pace: Pace, policy: CallPolicy, now: dt.datetime) -> Forecast:
    """The expected end of the call list, working the recall's calling hours."""
    measured = pace.calls > 0
    rate = pace.reached / pace.calls if measured else DEFAULT_CONTACT_RATE
    rate = min(max(rate, 0.05), 1.0)  # a dreadful first hour does not make the end infinite
    minutes = pace.handle_minutes or DEFAULT_HANDLE_MINUTES
    calls = pace.cases_left * calls_per_case(rate, policy.max_attempts)
    hours = calls * minutes / 60
    done_by = None
    held = pace.held_until if pace.held_until and pace.held_until > now else None
    if pace.cases_left == 0:
        done_by = now
    elif pace.agents > 0:
        done_by = after_calling_hours(policy, hours / pace.agents, held or now)
    return Forecast(pace.cases_left, calls, rate, minutes, pace.agents, hours, done_by,
                    measured and pace.handle_minutes is not None, held)  # fmt: skip


def after_calling_hours(policy: CallPolicy, hours: float, start: dt.datetime) -> dt.datetime | None:
    """The moment `hours` of calling time have passed after `start`, on the recall's clock."""
    zone = ZoneInfo(policy.timezone)
    windows = calling_windows(policy)
    left = dt.timedelta(hours=hours)
    local = start.astimezone(zone)
    for offset in range(HORIZON_DAYS):
        day = local.date() + dt.timedelta(days=offset)
        for window in sorted((w for w in windows if w.weekday == day.weekday()),
                             key=lambda w: w.start):  # fmt: skip
            opens = dt.datetime.combine(day, window.start, zone)
            closes = dt.datetime.combine(day, window.end, zone)
            begin = max(opens, start)
            if begin >= closes:
                continue
            if closes - begin >= left:
                return (begin + left).astimezone(dt.UTC)
            left -= closes - begin
    return None
