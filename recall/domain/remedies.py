"""Remedies carried out, incidents reported and effectiveness checks: the rules, no storage."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar

from recall.domain.errors import Refused
from recall.domain.typed_days import UnreadableDay, read_typed_day


class FulfilmentKind(StrEnum):
    REFUND_PAID = "refund_paid"
    REPLACEMENT_SHIPPED = "replacement_shipped"
    REPAIR_DONE = "repair_done"
    RETURNED_TO_STORE = "returned_to_store"
    COLLECTED = "collected"
    DESTROYED = "destroyed"


# The remedy each kind carries out; the last three take the product out of use whatever
# remedy was agreed (a refund is paid when the product comes back, a replacement is swapped).
CARRIES_OUT: dict[FulfilmentKind, str | None] = {
    FulfilmentKind.REFUND_PAID: "refund",
    FulfilmentKind.REPLACEMENT_SHIPPED: "replacement",
    FulfilmentKind.REPAIR_DONE: "repair",
    FulfilmentKind.RETURNED_TO_STORE: None,
    FulfilmentKind.COLLECTED: None,
    FulfilmentKind.DESTROYED: None,
}


class Severity(StrEnum):
    NONE = "none"
    PROPERTY_DAMAGE = "property_damage"
    INJURY = "injury"
    DEATH = "death"


HARM = frozenset({Severity.INJURY, Severity.DEATH})  # escalated to a specialist at once
INCIDENT_SKILL = "health"  # the specialist skill an injury needs (a doctor calls back)


class RemedyError(Refused):
    """A fulfilment, an incident or a check that can't be recorded; nothing was written."""


E = TypeVar("E", bound=StrEnum)


def choice(kinds: type[E], value: str, field: str) -> E:
    """`value` as one of `kinds`, read as typed ("Refund_Paid "), else a RemedyError naming all."""
    try:
        return kinds(value.strip().lower())
    except ValueError:
        listed = ", ".join(k.value for k in kinds)
        raise RemedyError(f"{field} {value!r} is not one of {listed}") from None


def day(value: str, field: str, *, today: dt.date) -> dt.date:
    """A day as a person or a system writes it (2026-12-01, 01/12/2026, hier, 1 décembre
    2026: see typed_days), not in the future."""
    try:
        when = read_typed_day(value, today=today)
    except UnreadableDay as exc:
        raise RemedyError(f"{field}: {exc}") from None
    if when > today:
        raise RemedyError(f"{field} {when} is in the future")
    return when


def amount(value: str) -> str:
    """A positive amount as written by people or systems ("49,90", "49.90", "1 049,90")."""
    text = value.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise RemedyError(f"amount {value!r} is not a number") from None
    if not number.is_finite() or number <= 0 or number >= Decimal("1e9"):
        raise RemedyError(f"amount {value!r} must be above zero")
    return f"{number.quantize(Decimal('0.01'))}"


# FDA's effectiveness check levels (21 CFR 7.42(b)(3)): the share of those notified to check.
# Level B is "less than 100 % and more than level C", set case by case: a quarter by default.
CHECK_LEVELS: dict[str, float] = {"A": 1.0, "B": 0.25, "C": 0.10, "D": 0.02, "E": 0.0}
LEVEL_FOR_HAZARD = {"high": "B", "medium": "C", "low": "D"}


@dataclass(frozen=True)
class CheckPlan:
    level: str
    share: float

    def size(self, notified: int) -> int:
        """Cases to check among `notified`: the level's share, at least one when there is any."""
        if notified <= 0 or self.share <= 0:
            return 0
        return min(notified, max(1, math.ceil(notified * self.share)))


def check_plan(level: str | None, hazard: str, share: float | None = None) -> CheckPlan:
    """The level asked (else the hazard's) and its share; B alone takes a share of its own."""
    chosen = (level or LEVEL_FOR_HAZARD.get(hazard, "C")).upper()
    if chosen not in CHECK_LEVELS:
        raise RemedyError(f"effectiveness level {level!r} is not one of A, B, C, D, E")
    if share is not None and chosen != "B":
        raise RemedyError("effectiveness share can only be set for level B")
    return CheckPlan(chosen, CHECK_LEVELS[chosen] if share is None else share)
