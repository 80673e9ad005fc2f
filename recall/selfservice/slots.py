"""The times a customer may ask to be called back from their page: half-days within the
recall's calling hours, on the customer's clock, over the next few days but for the public
holidays of their country (nobody calls them then: the slot would be a promise broken).

A slot is written `2026-12-07 morning` (its code, kept with the answer); the callback is due
at the first minute of the slot that the calling hours open.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from recall.domain.calling import calling_windows, holiday
from recall.domain.definition import CallPolicy

# Half-days as a customer says them; the afternoon starts after lunch.
PARTS = {"morning": (dt.time(0, 0), dt.time(12, 0)), "afternoon": (dt.time(14, 0), dt.time.max)}
DAYS_OFFERED = 6  # days with calling hours, from tomorrow on


@dataclass(frozen=True)
class Slot:
    code: str  # "2026-12-07 morning"
    day: dt.date
    part: str  # morning | afternoon
    starts_at: dt.datetime  # aware, UTC: when the callback falls due


def _start(policy: CallPolicy, zone: ZoneInfo, day: dt.date, part: str) -> dt.datetime | None:
    """The first minute of the half-day the calling hours open, or None when they don't."""
    first, last = PARTS[part]
    starts = [
        max(w.start, first)
        for w in calling_windows(policy)
        if w.weekday == day.weekday() and w.start < last and w.end > first
    ]
    if not starts:
        return None
    return dt.datetime.combine(day, min(starts), tzinfo=zone).astimezone(dt.UTC)


def offered_slots(
    policy: CallPolicy, zone_name: str, now: dt.datetime, country: str | None = None
) -> tuple[Slot, ...]:
    """The half-days offered: every one the calling hours open, on the next few such days that
    are no public holiday for a customer of `country` (the recall's holidays policy)."""
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    slots: list[Slot] = []
    days = 0
    for offset in range(1, 15):
        day = today + dt.timedelta(days=offset)
        if holiday(policy, country, day) is not None:
            continue
        found = [(part, at) for part in PARTS if (at := _start(policy, zone, day, part))]
        slots += [Slot(f"{day.isoformat()} {part}", day, part, at) for part, at in found]
        days += bool(found)
        if days == DAYS_OFFERED:
            break
    return tuple(slots)


def slot_named(
    code: str, policy: CallPolicy, zone_name: str, now: dt.datetime, country: str | None = None
) -> Slot | None:
    """The offered slot of that code, or None (a stale page, a made-up value)."""
    offered = offered_slots(policy, zone_name, now, country)
    return next((s for s in offered if s.code == code), None)
