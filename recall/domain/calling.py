"""Calling customers: who comes first, when they may be called, what each call outcome does."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

from recall.domain.cases import Status, to_contacted
from recall.domain.contacts import phone_zones
from recall.domain.definition import CallingWindow, CallPolicy, parse_days, parse_hours
from recall.domain.errors import Refused
from recall.domain.remedies import INCIDENT_SKILL

HAZARD_RANK = {"high": 0, "medium": 1, "low": 2}
# Cases an agent still has to call: not yet reached, reached without an outcome yet, or
# escalated and waiting for a specialist's call.
WORKABLE = (Status.IDENTIFIED, Status.NOTIFIED, Status.CONTACTED, Status.ESCALATED)
NOT_WORKED_YET = (Status.IDENTIFIED, Status.NOTIFIED)


class Disposition(StrEnum):
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    VOICEMAIL = "voicemail"
    WRONG_NUMBER = "wrong_number"
    CALLBACK_REQUESTED = "callback_requested"
    REACHED = "reached"
    DO_NOT_CALL = "do_not_call"


# Calls that reached nobody: they count towards the recall's max_attempts.
UNANSWERED = frozenset({Disposition.NO_ANSWER, Disposition.BUSY, Disposition.VOICEMAIL})
NOT_IN_POSSESSION = "not_in_possession"
DECLINED = "declined"
ESCALATED = "escalated"
DO_NOT_CALL = "do_not_call"  # an outcome of its own: reached, and asked never to be called
RETURNED_IN_STORE = "returned_in_store"  # the product brought back to a store's till
SPECIALIST_SKILL = "escalation"  # the skill an escalation needs when it names none


UNITS_CAP = 9_999  # more units than this rank the same
RECENCY_BASE = 999_999  # above any day's ordinal (datetime.date.max is 3,652,059)


def call_priority(hazard: str, quantity: int, last_purchase: dt.date) -> int:
    """Queue order, smaller first: the higher hazard, then more units, then the latest purchase."""
    units = UNITS_CAP - min(max(quantity, 0), UNITS_CAP)
    recency = RECENCY_BASE - last_purchase.toordinal()  # a product bought lately is likely in use
    return hazard_rank(hazard) * 10**10 + units * 10**6 + recency


def claim_tier(status: str, escalation_reason: str | None, callback_at: object) -> int:
    """The first key of an agent's queue order, smaller first: an escalation needing a health
    specialist (an injury), any other escalation, an ordinary case; in each, a case with a
    callback promised before one without (it is callable once the callback is due)."""
    if status != Status.ESCALATED:
        return 4 + (callback_at is None)
    return (0 if escalation_reason == INCIDENT_SKILL else 2) + (callback_at is None)


def hazard_rank(hazard: str) -> int:
    return HAZARD_RANK.get(hazard, 1)


def customer_zone(phone_e164: str | None, default: str) -> str:
    """The time zone of the phone being called, else `default`; of several zones for its
    prefix, `default` when it is one of them, else the main one: as good a guess as any."""
    zones = phone_zones(phone_e164)
    if not zones:
        return default
    return default if default in zones else zones[-1]


# The contract's sample hours, used when a recall names none: nobody is phoned at night.
DEFAULT_HOURS = tuple(
    CallingWindow(day, *parse_hours(hours))
    for days, hours in (("mon-fri", "09:00-20:00"), ("sat", "10:00-18:00"))
    for day in parse_days(days)
)


# More than a year of holidays back to back is a definition nobody can call with.
OPENING_HORIZON_DAYS = 366 + 7


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def calling_windows(policy: CallPolicy) -> tuple[CallingWindow, ...]:
    return policy.calling_hours or DEFAULT_HOURS


def may_call_at(
    policy: CallPolicy, zone: str, when: dt.datetime, country: str | None = None
) -> bool:
    """True when `when` (aware) falls in the recall's calling hours on the customer's clock and
    is no public holiday for them; `country`, the customer's ISO code (None: no holidays)."""
    local = when.astimezone(_zone(zone))
    day, time = local.weekday(), local.time().replace(tzinfo=None)
    hours = any(w.weekday == day and w.start <= time < w.end for w in calling_windows(policy))
    return hours and holiday(policy, country, local.date()) is None


def next_opening(
    policy: CallPolicy, zone: str, after: dt.datetime, country: str | None = None
) -> dt.datetime:
    """The first moment at or after `after` when the customer may be called (aware, UTC)."""
    if may_call_at(policy, zone, after, country):
        return after
    tz = _zone(zone)
    local_day = after.astimezone(tz).date()
    for offset in range(OPENING_HORIZON_DAYS):
        day = local_day + dt.timedelta(days=offset)
        if holiday(policy, country, day) is not None:
            continue
        for window in calling_windows(policy):
            if window.weekday != day.weekday():
                continue
            # Wall-clock opening; fold=0 picks the first of a repeated hour, and a time
            # skipped by a DST change still maps to a real instant just after it.
            opening = dt.datetime.combine(day, window.start, tzinfo=tz).astimezone(dt.UTC)
            if opening >= after:
                return opening
    raise ValueError("the recall's calling hours do not open in the coming year")


def callable_from(
    policy: CallPolicy,
    zone: str,
    now: dt.datetime,
    *,
    country: str | None = None,
    wait_until: dt.datetime | None = None,
) -> dt.datetime:
    """When next-case may hand a case out: `now`, else the first moment in the calling hours
    once its wait (`next_call_at`: a retry, a callback, an answer to its notice) is over."""
    start = max(now, wait_until) if wait_until is not None else now
    return next_opening(policy, zone, start, country)


def holiday(
    policy: CallPolicy, country: str | None, day: dt.date, language: str = "en"
) -> str | None:
    """The public holiday `day` is for a customer of `country` under the recall's policy, named
    in `language` when the calendar has it, with its country (`Noël (FR)`); None on a working
    day."""
    for code in holiday_countries(policy, country):
        name = _holidays(code, day.year, language).get(day)
        if name is not None:
            return f"{name} ({code})"
    return None


def holiday_countries(policy: CallPolicy, country: str | None) -> tuple[str, ...]:
    """The countries whose public holidays a customer of `country` is not called on."""
    if isinstance(policy.holidays, tuple):
        return policy.holidays
    return (country.upper(),) if policy.holidays and country else ()


def knows_holidays(country: str) -> bool:
    """True for an ISO 3166 country code (FR, BE) whose public holidays are known."""
    return len(country) == 2 and country.upper() in _countries()


@cache
def _countries() -> frozenset[str]:
    # Imported when first needed: loading every country's calendar takes 40 ms, which the
    # commands that never look at a holiday need not pay.
    from holidays import list_supported_countries

    return frozenset(list_supported_countries())


@cache
def _holidays(country: str, year: int, language: str = "en") -> dict[dt.date, str]:
    """One country's public holidays of one year (national ones: a region's own are not
    known), built once per process: about 1 ms each, 50 ms for the library's first."""
    if country not in _countries():  # a country the library lacks: no holidays known
        return {}
    from holidays import country_holidays

    named = country_holidays(country, years=year)
    wanted = {"en": "en_US"}.get(language, language)
    if wanted in named.supported_languages:  # else the calendar's own language
        named = country_holidays(country, years=year, language=wanted)
    return dict(named)


@dataclass(frozen=True)
class CallState:
    """What a disposition needs to know about the case being called."""

    status: Status
    attempts: int  # unanswered calls before this one
    has_address: bool
    letter_sent: bool  # a letter went out and did not come back
    letter_returned: bool


@dataclass(frozen=True)
class DispositionPlan:
    """What recording one call's disposition does to its case."""

    statuses: tuple[Status, ...]  # steps to take, in order
    counts: bool  # an unanswered call, towards max_attempts
    next_call_at: dt.datetime | None = None
    callback: bool = False  # keep the case with the agent who spoke to the customer
    leave_call_list: bool = False
    needs_letter: bool = False
    do_not_call: bool = False
    outcome: str | None = None  # the case's outcome the call itself settles (do-not-call)
    note: str = ""


CALLBACK_HORIZON = dt.timedelta(days=366)  # further ahead is a typo, not a customer's wish


def _instant(at: dt.datetime) -> dt.datetime:
    """A callback time as a UTC instant; ValueError when it has no zone or none exists."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise Refused("the callback time needs its time zone (or UTC offset)")
    try:
        return at.astimezone(dt.UTC)
    except OverflowError:  # 9999-12-31T23:59-12:00 is in year 10000 in UTC
        raise Refused(f"the callback time {at.isoformat()} is out of range") from None


def plan_disposition(
    state: CallState,
    disposition: Disposition,
    *,
    now: dt.datetime,
    policy: CallPolicy,
    callback_at: dt.datetime | None = None,
    message_left: bool = True,
) -> DispositionPlan:
    """The contract's rules for one call; raise Refused when the disposition can't apply.

    Only a call that reached the customer notifies them (a voicemail too, when the recall
    says a message left is a notice and one was left: `message_left`, False for a machine
    detected by the line); every other call is an attempt and nothing more.
    """
    if disposition in UNANSWERED:
        left = (
            (Status.NOTIFIED,)
            if disposition == Disposition.VOICEMAIL
            and policy.voicemail_notifies
            and message_left
            and state.status == Status.IDENTIFIED
            else ()
        )
        if state.attempts + 1 >= policy.max_attempts:
            return _give_up(state, left, f"{policy.max_attempts} calls without an answer")
        return DispositionPlan(left, counts=True, next_call_at=now + policy.retry_after)
    if disposition == Disposition.WRONG_NUMBER:
        return _give_up(state, (), "wrong number")
    wants_time = disposition in (Disposition.CALLBACK_REQUESTED, Disposition.REACHED)
    at = _callback_instant(callback_at, now) if callback_at is not None and wants_time else None
    if disposition == Disposition.CALLBACK_REQUESTED:
        if at is None:
            raise Refused("callback_requested needs the time the customer asked to be called")
        return DispositionPlan((), counts=False, next_call_at=at, callback=True)
    reached = to_contacted(state.status)  # reaching them is the notice reaching them
    if disposition == Disposition.REACHED:
        if at is not None:  # reached, and asked to talk it over at another time
            return DispositionPlan(reached, counts=False, next_call_at=at, callback=True)
        return DispositionPlan(reached, counts=False)
    # The customer answered and asked never to be called again: they heard of the recall;
    # the case leaves the call list with its own outcome, which is not a refusal of the remedy.
    # A customer who declined or is with a specialist keeps that outcome: its status says it.
    settled = state.status in (Status.DECLINED, Status.ESCALATED)
    return DispositionPlan(
        reached,
        counts=False,
        leave_call_list=True,
        do_not_call=True,
        outcome=None if settled else DO_NOT_CALL,
        note="asked not to be called: off the call list",
    )


def _callback_instant(callback_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    at = _instant(callback_at)
    if at <= now:
        raise Refused(f"the callback time {callback_at:%Y-%m-%d %H:%M} is not in the future")
    if at > now + CALLBACK_HORIZON:
        raise Refused(f"the callback time {callback_at:%Y-%m-%d} is more than a year ahead")
    return at


def _give_up(state: CallState, first: tuple[Status, ...], why: str) -> DispositionPlan:
    """The contract's channel move off the call list: a letter if one can go, else unreachable."""
    counts = why != "wrong number"
    if state.status not in NOT_WORKED_YET:
        return DispositionPlan((), counts, leave_call_list=True, note=f"{why}: off the call list")
    if state.letter_sent:
        note = f"{why}: off the call list, the letter already sent stands"
        return DispositionPlan(first, counts, leave_call_list=True, note=note)
    if state.has_address and not state.letter_returned:
        note = f"{why}: a letter will be sent"
        return DispositionPlan(first, counts, leave_call_list=True, needs_letter=True, note=note)
    return DispositionPlan(
        (*first, Status.UNREACHABLE), counts, leave_call_list=True, note=f"{why}: unreachable"
    )


def outcome_statuses(status: Status, outcome: str, remedies: tuple[str, ...]) -> tuple[Status, ...]:
    """Steps to the status an outcome leads to; ValueError for an outcome the recall lacks."""
    if outcome in remedies or outcome == NOT_IN_POSSESSION:
        target = Status.RESOLVED
    elif outcome == DECLINED:
        target = Status.DECLINED
    elif outcome == ESCALATED:
        target = Status.ESCALATED
    else:
        offered = ", ".join((*remedies, NOT_IN_POSSESSION, DECLINED, ESCALATED))
        raise Refused(f"{outcome!r} is not an outcome of this recall ({offered})")
    return () if status == target else (target,)
