"""Lot matching: which lot numbers printed on a product a recall covers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from recall.domain.errors import Refused

_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)$")


class LotSpecError(Refused):
    """A lot pattern of a recall definition that can't be understood."""


def normalise_lot(lot: str) -> str:
    """Lots compare trimmed and case-insensitively."""
    return lot.strip().casefold()


@dataclass(frozen=True)
class LotRange:
    """An inclusive range `A..B` over lots sharing A's and B's non-numeric prefix."""

    prefix: str
    low: int
    high: int

    def matches(self, lot: str) -> bool:
        found = _NUMBERED.match(normalise_lot(lot))
        if not found or found["prefix"] != self.prefix:
            return False
        return self.low <= int(found["number"]) <= self.high


@dataclass(frozen=True)
class LotSelector:
    """The lots of one recalled product; no patterns at all means every lot."""

    exact: frozenset[str]
    ranges: tuple[LotRange, ...]

    @property
    def every_lot(self) -> bool:
        return not self.exact and not self.ranges

    def matches(self, lot: str | None) -> bool:
        """True when a purchase line with this lot is covered by the recall.

        A line whose lot was not recorded can't be ruled out, so it is covered:
        for a safety recall, contacting one buyer too many beats missing one.
        """
        if self.every_lot or lot is None or not lot.strip():
            return True
        key = normalise_lot(lot)
        return key in self.exact or any(r.matches(key) for r in self.ranges)

    def matching(self, lots: Iterable[str | None]) -> list[str | None]:
        """The lots among `lots` that the recall covers, in their original spelling."""
        return [lot for lot in lots if self.matches(lot)]


def parse_lot_range(pattern: str) -> LotRange:
    """Parse `A..B`; both ends need the same non-numeric prefix and a trailing number."""
    low_text, _, high_text = (normalise_lot(p) for p in pattern.partition(".."))
    low, high = _NUMBERED.match(low_text), _NUMBERED.match(high_text)
    if not low or not high:
        raise LotSpecError(f"lot range {pattern!r}: both ends must end with a number")
    if low["prefix"] != high["prefix"]:
        raise LotSpecError(f"lot range {pattern!r}: both ends must share the same prefix")
    if int(low["number"]) > int(high["number"]):
        raise LotSpecError(f"lot range {pattern!r}: the start is after the end")
    return LotRange(low["prefix"], int(low["number"]), int(high["number"]))


def parse_lots(patterns: Iterable[str]) -> LotSelector:
    """Build a selector from the `lots:` list of a recalled product."""
    exact: set[str] = set()
    ranges: list[LotRange] = []
    for pattern in patterns:
        if not str(pattern).strip():
            raise LotSpecError("a lot pattern is empty")
        if ".." in str(pattern):
            ranges.append(parse_lot_range(str(pattern)))
        else:
            exact.add(normalise_lot(str(pattern)))
    return LotSelector(frozenset(exact), tuple(ranges))
