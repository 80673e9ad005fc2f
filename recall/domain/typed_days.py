"""A day as a person types it: "2026-12-01", "01/12/2026", "1.12.2026", "1er décembre 2026",
"Dec 1, 2026", "hier", "yesterday", "aujourd'hui". Month names are CLDR's (Babel), French and
English, full or abbreviated, with or without accents."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import cache

from babel.dates import get_month_names

from recall.domain.errors import Refused

DAY_FORMS = "2026-12-01, 01/12/2026, 1.12.2026, 1 décembre 2026, Dec 1 2026, hier, yesterday"
_DAYS_BACK = {"today": 0, "aujourd'hui": 0, "aujourdhui": 0, "yesterday": 1, "hier": 1,
              "avant-hier": 2, "avant hier": 2}  # fmt: skip
_NUMERIC = re.compile(r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})")
_ISO = re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[t ].*)?")
_WORDS = re.compile(
    r"(?:(?P<d1>\d{1,2})(?:er)?\s+(?P<m1>[a-z]+)\.?|(?P<m2>[a-z]+)\.?\s+(?P<d2>\d{1,2}),?)"
    r"\s+(?P<y>\d{4})"
)


class UnreadableDay(Refused):
    """What was typed is not a day in one of the DAY_FORMS, or no such day exists."""


def read_typed_day(typed: str, *, today: dt.date) -> dt.date:
    """The day `typed` means, `today` being the day it is typed."""
    text = _plain(typed)
    if text in _DAYS_BACK:
        return today - dt.timedelta(days=_DAYS_BACK[text])
    try:
        found = _numeric(text) or _in_words(text)
    except ValueError:
        raise UnreadableDay(f"{typed!r} is not a date: no such day in the calendar") from None
    if found is None:
        raise UnreadableDay(f"{typed!r} is not a date; write it as {DAY_FORMS}")
    return found


def _numeric(text: str) -> dt.date | None:
    found = _ISO.fullmatch(text) or _NUMERIC.fullmatch(text)
    return dt.date(int(found["y"]), int(found["m"]), int(found["d"])) if found else None


def _in_words(text: str) -> dt.date | None:
    found = _WORDS.fullmatch(text)
    if found is None:
        return None
    month = _months().get(found["m1"] or found["m2"])
    if month is None:
        return None
    return dt.date(int(found["y"]), month, int(found["d1"] or found["d2"]))


@cache
def _months() -> dict[str, int]:
    """Month names, full and abbreviated, French and English, lower case without accents."""
    names: dict[str, int] = {}
    for language in ("fr", "en"):
        for width in ("wide", "abbreviated"):
            for number, name in get_month_names(width, locale=language).items():
                names[_plain(name).rstrip(".")] = number
    names["sept"] = 9
    return names


def _plain(text: str) -> str:
    """Lower case, one space between words, accents and curly apostrophes folded."""
    folded = unicodedata.normalize("NFKD", text.strip().lower().replace("’", "'"))
    return " ".join("".join(c for c in folded if not unicodedata.combining(c)).split())
