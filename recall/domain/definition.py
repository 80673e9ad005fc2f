"""The recall definition a quality lead writes: its fields, their words and their spans.

`definition_parsing.parse_definition` reads one from YAML's values, field by field."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from recall.domain.errors import Refused
from recall.domain.lots import LotSelector
from recall.domain.remedies import CheckPlan, check_plan

HAZARDS = ("high", "medium", "low")
REMEDIES = ("refund", "replacement", "repair")
# Each remedy as an agent says it in the call script (the letters word it in their templates).
REMEDY_WORDS = {
    "fr": {"refund": "un remboursement", "replacement": "un échange", "repair": "une réparation"},
    "en": {"refund": "a refund", "replacement": "a replacement", "repair": "a repair"},
}
CALL_POLICIES = ("without_letter", "all")
# The notices a recall sends, in the order a case tries its digital ones (e-mail, then SMS): a
# bounced e-mail moves the case to its SMS, a failed SMS to the call list.
NOTICE_CHANNELS = ("email", "sms", "letter")
DIGITAL = ("email", "sms")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# An id that is also a safe file name: letters, digits, `.`, `_`, `-`, at most 64, no leading dot.
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_DURATION = re.compile(r"^(?P<n>\d+)\s*(?P<unit>[smhd])$")
_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class FieldError:
    """One thing wrong with one field of the definition."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidDefinition(Refused):
    """A recall definition with one or more field errors."""

    def __init__(self, errors: list[FieldError], source: str = "recall definition") -> None:
        self.errors = errors
        self.source = source
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"{source} is not valid:\n{lines}")


@dataclass(frozen=True)
class RecalledProduct:
    sku: str
    lots: LotSelector
    lot_patterns: tuple[str, ...]


@dataclass(frozen=True)
class CallingWindow:
    """Hours on one weekday (0 = Monday) when customers may be called."""

    weekday: int
    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class CallPolicy:
    max_attempts: int = 5
    retry_after: dt.timedelta = dt.timedelta(hours=4)
    calling_hours: tuple[CallingWindow, ...] = ()
    timezone: str = "Europe/Paris"
    voicemail_notifies: bool = False  # a message left on the customer's voicemail is a notice
    # Public holidays skipped: True, those of each customer's country; False, none; or those
    # of the countries listed (ISO codes), whatever the customer's country.
    holidays: bool | tuple[str, ...] = True


@dataclass(frozen=True)
class FollowUpPolicy:
    """What the hourly follow-up does as time passes."""

    call_letters_after: dt.timedelta | None = None  # a letter unanswered this long: phone them
    callback_grace: dt.timedelta = dt.timedelta(hours=2)  # then a missed callback changes hands
    contact_sla: dt.timedelta = dt.timedelta(hours=48)  # high hazard: contacted within this
    retention: dt.timedelta = dt.timedelta(days=365)  # after closing, personal data kept this long


@dataclass(frozen=True)
class RecallDefinition:
    id: str
    title: str
    hazard: str
    products: tuple[RecalledProduct, ...]
    sold_from: dt.date
    sold_to: dt.date
    stores: frozenset[str] = frozenset()
    remedies: tuple[str, ...] = REMEDIES
    call_policy: str = "without_letter"
    call: CallPolicy = field(default_factory=CallPolicy)
    product_name: str = ""  # for letters and posters; else the products table's name
    risk: dict[str, str] = field(default_factory=dict)  # language -> text; "" for any language
    hotline: str = ""  # else the retailer's hotline
    follow_up: FollowUpPolicy = field(default_factory=FollowUpPolicy)
    single_remedy_reason: str = ""  # why only one remedy can be offered (GPSR art. 37)
    # What the French declaration (RappelConso) and the notices say of the product.
    category: str = ""  # RappelConso's product category, e.g. "Maison-Habitat"
    brand: str = ""
    model: str = ""
    image: str = ""  # a photo of the product: a file path
    lot_location: dict[str, str] = field(default_factory=dict)  # where the lot is printed
    ends_on: dt.date | None = None  # the planned end of the recall procedure
    # The effectiveness check (FDA levels A-E, 21 CFR 7.42): the share of notified cases
    # called back to ask whether the notice arrived and was acted on; by hazard if not given.
    effectiveness: CheckPlan = field(default_factory=lambda: check_plan(None, "medium"))
    notify: tuple[str, ...] = ("email", "letter")
    # A call-list case with a digital notice is called only once this long has passed without
    # the customer answering it (0: at once, as a high hazard may ask).
    call_after: dt.timedelta = dt.timedelta(0)

    @property
    def digital(self) -> tuple[str, ...]:
        """The digital notices, in the order a case tries them."""
        return tuple(channel for channel in self.notify if channel in DIGITAL)

    def risk_in(self, language: str) -> str:
        """The risk as told in `language`, else in any language, else the recall's title."""
        return (
            self.risk.get(language)
            or self.risk.get("")
            or next(iter(self.risk.values()), self.title)
        )

    @property
    def skus(self) -> list[str]:
        return [p.sku for p in self.products]

    def lots_for(self, sku: str) -> LotSelector:
        return next(p.lots for p in self.products if p.sku == sku)


def parse_duration(text: str) -> dt.timedelta:
    """`4h`, `30m`, `2d`, `90s` -> timedelta."""
    found = _DURATION.match(str(text).strip())
    if not found:
        raise ValueError(f"{text!r} is not a duration like 4h, 30m or 2d")
    return dt.timedelta(seconds=int(found["n"]) * _UNITS[found["unit"]])


def parse_days(text: str) -> list[int]:
    """`mon-fri` -> [0..4], `sat` -> [5], `mon,wed` -> [0, 2]."""
    days: list[int] = []
    for part in str(text).lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError(f"{text!r} is not a day or day range like mon-fri")
        start, end = DAYS.index(first), DAYS.index(last or first)
        if end < start:
            raise ValueError(f"{text!r}: the range runs backwards")
        days.extend(range(start, end + 1))
    return days


def parse_hours(text: str) -> tuple[dt.time, dt.time]:
    """`09:00-20:00` -> (09:00, 20:00)."""
    found = _HOURS.match(str(text).strip())
    if not found:
        raise ValueError(f"{text!r} is not an hour range like 09:00-20:00")
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"{text!r} has an impossible time")
    start = dt.time(h1, m1)
    end = dt.time.max if h2 == 24 else dt.time(h2, m2)
    if end <= start:
        raise ValueError(f"{text!r}: the end is not after the start")
    return start, end


def hours_text(windows: tuple[CallingWindow, ...]) -> str:
    """Calling hours as a person reads them: `Mon-Fri 09:00-20:00, Sat 10:00-18:00`."""
    spans = [
        "/".join(f"{w.start:%H:%M}-{_clock(w.end)}" for w in windows if w.weekday == day)
        for day in range(7)
    ]
    groups: list[tuple[int, int, str]] = []  # first day, last day, hours
    for day, hours in enumerate(spans):
        if groups and groups[-1][2] == hours and groups[-1][1] == day - 1:
            groups[-1] = (groups[-1][0], day, hours)
        else:
            groups.append((day, day, hours))
    names = [d.capitalize() for d in DAYS]
    return ", ".join(
        f"{names[first]}{'-' + names[last] if last > first else ''} {hours}"
        for first, last, hours in groups
        if hours
    )


def _clock(end: dt.time) -> str:
    return "24:00" if end == dt.time.max else f"{end:%H:%M}"


_LOT_WORDS = {
    "fr": {"one": "lot", "many": "lots", "range": "{0} à {1}", "and": "et",
           "every": "tous les lots"},
    "en": {"one": "lot", "many": "lots", "range": "{0} to {1}", "and": "and",
           "every": "all lots"},
}  # fmt: skip


def lots_in_words(product: RecalledProduct, language: str) -> str:
    """The product's recalled lots as a customer reads them: lots L4410 à L4420 et L4433."""
    words = _LOT_WORDS.get(language, _LOT_WORDS["en"])
    if not product.lot_patterns:
        return words["every"]
    parts = [words["range"].format(*p.split("..", 1)) if ".." in p else p
             for p in product.lot_patterns]  # fmt: skip
    listed = f"{', '.join(parts[:-1])} {words['and']} {parts[-1]}" if parts[1:] else parts[0]
    single = len(parts) == 1 and ".." not in product.lot_patterns[0]
    return f"{words['one'] if single else words['many']} {listed}"
