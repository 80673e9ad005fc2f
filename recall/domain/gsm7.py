"""Texts that fit one SMS: the GSM 7-bit alphabet (3GPP TS 23.038) and its septets.

One character outside the alphabet (`ê`, `ç`, a typographic quote, a non-breaking space)
sends the whole text as UCS-2, where a segment holds 70 characters instead of 160 and costs
the same. The extension table (`€ [ ] { } ^ ~ \\ |`) stays in the alphabet at two septets each.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
from anyascii import anyascii

SEGMENT = 160  # septets in a single SMS
CODEC = "gsm03.38"


def septets(text: str) -> int | None:
    """The septets `text` takes in GSM-7 (an extension character takes two); None: not GSM-7."""
    try:
        return len(text.encode(CODEC))  # one byte a septet, an escape before each extension
    except UnicodeEncodeError:
        return None


def fits_one_segment(text: str) -> bool:
    """Whether `text` goes as a single GSM-7 SMS."""
    count = septets(text)
    return count is not None and count <= SEGMENT


def to_gsm7(text: str) -> str:
    """`text` on one line in the GSM-7 alphabet: `ê` as `e`, `œ` as `oe`, `’` as `'`."""
    return " ".join("".join(_fold(c) for c in text).split())


@cache
def _fold(char: str) -> str:
    if unicodedata.category(char).startswith("C"):
        return " "  # control characters (an escape among them) are no part of a name
    if septets(char) is not None:
        return char
    bare = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if bare and septets(bare) is not None:
        return bare
    return "".join(c for c in anyascii(char) if septets(c) is not None)


def clip(text: str, budget: int, mark: str = "...") -> str:
    """`text` (GSM-7) cut to at most `budget` septets, `mark` ending it when it was cut."""
    if (septets(text) or 0) <= budget:
        return text
    room = budget - len(mark)
    kept, used = [], 0
    for char in text:
        used += septets(char) or 0
        if used > room:
            break
        kept.append(char)
    return "".join(kept).rstrip() + mark if room > 0 else ""
