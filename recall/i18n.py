"""Messages, numbers and dates in the reader's language: gettext catalogues read with Babel.

A language's catalogue is every `templates/locale/<language>/LC_MESSAGES/*.po`, one file per
part of recall (recall.po: reports and the self-service page; console.po: the console; ...),
read as one. Message ids are the English text, so English needs no catalogue and a message
missing from one shows in English (the completeness test keeps that from happening).
Plurals follow each language's own rule (CLDR, through Babel): "1 article", "0 article" and
"2 articles" in French, "0 items" in English.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from recall.settings import PROJECT_TEMPLATES

LOCALES = PROJECT_TEMPLATES / "locale"
DOMAIN = "recall"
LANGUAGES = ("fr", "en")
NAMES = {"fr": "Français", "en": "English"}  # each language in its own words


def language_or(language: str | None, fallback: str) -> str:
    """A language the console speaks: the one asked for, else the fallback, else French."""
    for candidate in (language, fallback):
        if candidate and candidate.lower()[:2] in LANGUAGES:
            return candidate.lower()[:2]
    return LANGUAGES[0]


@cache
def catalogue(language: str, folder: Path = LOCALES) -> dict[str, str]:
    """msgid -> translation, for the singular messages translated and not fuzzy."""
    return {m.id: str(m.string) for read in _read(language, folder) for m in read
            if isinstance(m.id, str) and m.id and m.string and not m.fuzzy}  # fmt: skip


@cache
def translations(language: str, folder: Path = LOCALES) -> NullTranslations:
    """The language's gettext translations (gettext, ngettext), compiled from its catalogue."""
    parts = [_compiled(read) for read in _read(language, folder)]
    if not parts:
        return NullTranslations()
    for part in parts[1:]:
        parts[0].merge(part)
    return parts[0]


def _compiled(read: Catalog) -> Translations:
    compiled = io.BytesIO()
    write_mo(compiled, read)  # fuzzy messages left out
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def catalogue_files(language: str, folder: Path = LOCALES) -> list[Path]:
    """The .po files of a language, by name."""
    return sorted((folder / language / "LC_MESSAGES").glob("*.po"))


def _read(language: str, folder: Path) -> list[Catalog]:
    read = []
    for path in catalogue_files(language, folder):
        with path.open("rb") as handle:
            read.append(read_po(handle, locale=language, domain=DOMAIN))
    return read


def gettext_for(language: str) -> Callable[[str], str]:
    """A `_` for one language."""
    return translations(language).gettext


def ngettext_for(language: str) -> Callable[[str, str, int], str]:
    """The plural-aware `ngettext(singular, plural, n)` for one language."""
    return translations(language).ngettext


def number(value: float | int, language: str) -> str:
    """1234.5 as the language writes it: "1 234,5" in French, "1,234.5" in English."""
    if type(value) is int and 0 <= value < 1000:  # no separator to place: as Babel writes it
        return str(value)
    return format_decimal(value, locale=language)


def long_date(value: dt.date, language: str) -> str:
    """A day as "1 décembre 2026" or "December 1, 2026"."""
    return format_date(value, format="long", locale=language)


def short_date(value: dt.date, language: str) -> str:
    """A day as "01/12/2026" or "12/1/26"."""
    return format_date(value, format="short", locale=language)


def moment(value: dt.datetime, zone: str, language: str, *, day: bool = True) -> str:
    """An instant on a clock: "3 déc. 2026 10:30" or "Dec 3, 2026 10:30 AM" (or the time
    alone), on the clock of `zone`."""
    local = value.astimezone(ZoneInfo(zone))
    time = format_time(local, format="short", locale=language)
    return f"{format_date(local, format='medium', locale=language)} {time}" if day else time
