"""Messages, numbers and dates in the reader's language: gettext catalogues read with Babel.

The catalogues are `templates/locale/<language>/LC_MESSAGES/recall.po`; message ids are the
English text, so English needs no catalogue and a message missing from one shows in English.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.dates import format_date
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from recall.settings import PROJECT_TEMPLATES

LOCALES = PROJECT_TEMPLATES / "locale"
DOMAIN = "recall"
LANGUAGES = ("fr", "en")


@cache
def catalogue(language: str, folder: Path = LOCALES) -> dict[str, str]:
    """msgid -> translation, for the messages translated and not fuzzy."""
    path = folder / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        read = read_po(handle, locale=language, domain=DOMAIN)
    return {str(m.id): str(m.string) for m in read if m.id and m.string and not m.fuzzy}


def gettext(language: str) -> Callable[[str], str]:
    """A `_` for one language."""
    messages = catalogue(language)
    return lambda text: messages.get(text, text)


def number(value: float | int, language: str) -> str:
    """1234.5 as the language writes it: "1 234,5" in French, "1,234.5" in English."""
    return format_decimal(value, locale=language)


def long_date(value: dt.date, language: str) -> str:
    """A day as "1 décembre 2026" or "December 1, 2026"."""
    return format_date(value, format="long", locale=language)
