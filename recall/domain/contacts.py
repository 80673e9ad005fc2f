"""Phone numbers in the many shapes a loyalty export holds them, to E.164."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

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


def phone_zones(phone_e164: str | None) -> tuple[str, ...]:
    """The time zones libphonenumber gives the number's longest known prefix; () when unknown.

    Several zones for one prefix (+44, +34, +262) come sorted by name, the main one (London,
    Madrid, Reunion) last.
    """
    if not phone_e164:
        return ()
    digits = phone_e164.lstrip("+")
    for length in range(min(TIMEZONE_LONGEST_PREFIX, len(digits)), 0, -1):
        # A longer prefix may be "unknown" (e.g. a UK fiction range) where the country is not.
        known = tuple(z for z in TIMEZONE_DATA.get(digits[:length], ()) if z != "Etc/Unknown")
        if known:
            return known
    return ()


@dataclass(frozen=True)
class CustomerPhone:
    """A customer's phone as kept with the customer: read once, when the customer is stored."""

    e164: str | None
    zone: str | None  # the number's main time zone, None when its prefix has none
    zones: str | None  # every zone of its prefix, "|"-joined, when there are several

    @classmethod
    def read(cls, raw: str | None, country: str) -> CustomerPhone:
        e164 = normalise_phone(raw, country)
        zones = phone_zones(e164)
        return cls(e164, zones[-1] if zones else None, "|".join(zones) if len(zones) > 1 else None)


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
