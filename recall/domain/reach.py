"""Digital notices: which one a case tries first, and where it goes when one fails."""

from __future__ import annotations

from dataclasses import dataclass

EMAIL, SMS = "email", "sms"


@dataclass(frozen=True)
class Reach:
    """What a case's customer can be reached by, digitally."""

    email: bool  # a valid address
    mobile: bool  # a phone that takes texts, and no do-not-call
    done: tuple[str, ...] = ()  # the digital notices already tried and failed

    def has(self, channel: str) -> bool:
        return self.email if channel == EMAIL else self.mobile if channel == SMS else False


def next_digital(reach: Reach, order: tuple[str, ...]) -> str | None:
    """The first notice of `order` the case can get and has not failed; None: no more."""
    return next((c for c in order if c not in reach.done and reach.has(c)), None)
