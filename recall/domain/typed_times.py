"""A time as a person types it, read on the customer's clock.

An agent promises a callback the way the customer said it: "demain 10h30", "14h", "03/12/2026
10:30". A time without an offset is the customer's local time; one with an offset ("+01:00",
"Z") is kept as given.
"""

from __future__ import annotations

import datetime as dt
import re

from recall.domain.errors import Refused

FORMS = (
    "2026-12-03 10:30, 03/12/2026 10:30, 10:30, 14h30, tomorrow 10:30, demain 10h30, "
    "aujourd'hui 14h, or with an offset: 2026-12-03T10:30+01:00"
)
_DAYS_AHEAD = {"today": 0, "aujourd'hui": 0, "aujourdhui": 0, "tomorrow": 1, "demain": 1}
_TYPED = re.compile(
    r"""
    (?:
      (?: (?P<iso>\d{4}-\d{1,2}-\d{1,2}) | (?P<dmy>\d{1,2}/\d{1,2}/\d{4})
        | (?P<word>today|tomorrow|aujourd'?hui|demain) )
      (?: (?<=\d)t | \s+ (?:(?:at|à|a)\s+)? )
    )?
    (?P<hour>\d{1,2}) (?: h(?P<h_minute>\d{2})? | :(?P<minute>\d{2})(?::(?P<second>\d{2}))? )
    \s* (?P<offset> z | [+-]\d{2}(?::?\d{2})? )?
    """,
    re.VERBOSE,
)


class UnreadableTime(Refused):
    """What was typed is not a time in one of the FORMS, or not one the clock shows."""


def read_typed_time(typed: str, *, now: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """The instant `typed` means, in UTC, `now` being the moment it is typed and `zone` the
    customer's clock; a time of day alone is the next one to come."""
    found = _TYPED.fullmatch(" ".join(typed.strip().lower().replace("’", "'").split()))
    if found is None:
        raise UnreadableTime(f"{typed!r} is not a time; write it as {FORMS}")
    tz = _offset(found["offset"]) or zone
    local_now = now.astimezone(tz)
    hour, minute = int(found["hour"]), int(found["minute"] or found["h_minute"] or 0)
    second = int(found["second"] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise UnreadableTime(f"{typed!r}: there is no {hour:02}:{minute:02} on a clock")
    of_day = dt.time(hour, minute, second)
    day = _day(found, typed, local_now.date())
    when = _on_clock(dt.datetime.combine(day or local_now.date(), of_day), tz)
    if day is None and when <= now:  # a time alone is the next one to come
        tomorrow = local_now.date() + dt.timedelta(days=1)
        when = _on_clock(dt.datetime.combine(tomorrow, of_day), tz)
    # In UTC: a local time shown twice compares unequal to any other zone's (PEP 495).
    return when.astimezone(dt.UTC)


def _day(found: re.Match[str], typed: str, today: dt.date) -> dt.date | None:
    try:
        if found["iso"]:
            year, month, day = map(int, found["iso"].split("-"))
            return dt.date(year, month, day)
        if found["dmy"]:
            day, month, year = map(int, found["dmy"].split("/"))
            return dt.date(year, month, day)
    except ValueError:
        raise UnreadableTime(f"{typed!r}: no such day in the calendar") from None
    if found["word"]:
        return today + dt.timedelta(days=_DAYS_AHEAD[found["word"]])
    return None


def _offset(text: str | None) -> dt.tzinfo | None:
    if not text:
        return None
    if text == "z":
        return dt.UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise UnreadableTime(f"{text.upper()} is not a UTC offset, e.g. +01:00")
    minutes += hours * 60
    return dt.timezone(dt.timedelta(minutes=minutes if text[0] == "+" else -minutes))


def _on_clock(local: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """`local` as shown on the clock of `tz`; when the clocks go back and it shows twice, the
    first. A time skipped as the clocks go forward is refused rather than guessed."""
    when = local.replace(tzinfo=tz)
    if when.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None) != local:
        raise UnreadableTime(
            f"{local:%Y-%m-%d %H:%M} does not exist on the customer's clock (the clocks go "
            "forward then)"
        )
    return when
