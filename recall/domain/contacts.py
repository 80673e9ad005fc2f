"""Phone numbers in the many shapes a loyalty export holds them, to E.164."""

from __future__ import annotations

import re

import phonenumbers

_FR_NATIONAL = re.compile(r"^0[1-9]\d{8}$")
_NOISE = re.compile(r"[\s.\-/()]")
TRUTHY = {"1", "true", "oui", "yes", "y", "o", "vrai"}
FALSY = {"", "0", "false", "non", "no", "n", "faux"}


def normalise_phone(raw: str | None, country: str = "FR") -> str | None:
    """E.164 form of `raw` read in `country`, or None when absent or invalid."""
    if raw is None:
        return None
    text = _NOISE.sub("", str(raw))
    if not text:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    # The common case of a French export, without the cost of a full parse.
    if country == "FR" and _FR_NATIONAL.match(text):
        return "+33" + text[1:]
    try:
        number = phonenumbers.parse(text, country or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_flag(raw: str | None) -> bool | None:
    """`1/0`, `true/false`, `oui/non`, `yes/no` (any case); empty is False; else None."""
    text = "" if raw is None else str(raw).strip().casefold()
    if text in TRUTHY:
        return True
    if text in FALSY:
        return False
    return None


def mask_phone(e164: str | None) -> str:
    """A phone number fit for a log line: the country code and last two digits."""
    if not e164:
        return "-"
    return e164[:3] + "*" * max(len(e164) - 5, 0) + e164[-2:]
