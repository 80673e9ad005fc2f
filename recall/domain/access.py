"""Who may do what in the console, and how hard a password guesser is slowed down."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"  # works their own call list, and the inbound hotline
    LEAD = "lead"  # launches recalls, follows agents, rebalances
    REPORTING = "reporting"  # figures only: never a phone number or an address
    ADMIN = "admin"  # everything a lead and reporting may do


# The areas of the console, and the roles let into each.
AREAS: dict[str, frozenset[Role]] = {
    "calls": frozenset({Role.AGENT}),
    "lead": frozenset({Role.LEAD, Role.ADMIN}),
    "reports": frozenset({Role.REPORTING, Role.LEAD, Role.ADMIN}),
}

MIN_PASSWORD = 10


def may_enter(role: Role | str, area: str) -> bool:
    """Whether a role is let into an area of the console."""
    return Role(role) in AREAS[area]


def home_of(role: Role | str) -> str:
    """The page a user lands on after logging in."""
    return {
        Role.AGENT: "/my/list",
        Role.LEAD: "/recalls",
        Role.REPORTING: "/reports",
        Role.ADMIN: "/recalls",
    }[Role(role)]


@dataclass(frozen=True)
class ThrottlePolicy:
    """After `limit` failures within `window`, a key is refused for `lockout`."""

    limit: int = 5
    window: dt.timedelta = dt.timedelta(minutes=15)
    lockout: dt.timedelta = dt.timedelta(minutes=15)


USER_POLICY = ThrottlePolicy()
# One address may try more names (a call centre shares one public address), not endlessly.
ADDRESS_POLICY = ThrottlePolicy(limit=50)


@dataclass(frozen=True)
class Failures:
    count: int
    first_at: dt.datetime
    locked_until: dt.datetime | None


def after_failure(previous: Failures | None, policy: ThrottlePolicy, now: dt.datetime) -> Failures:
    """The failure record once one more failure is counted."""
    if previous is None or now - previous.first_at > policy.window:
        previous = Failures(0, now, None)
    count = previous.count + 1
    locked = now + policy.lockout if count >= policy.limit else previous.locked_until
    return Failures(count, previous.first_at, locked)


def locked(failures: Failures | None, now: dt.datetime) -> dt.datetime | None:
    """Until when the key is refused, or None when it may try."""
    if failures is None or failures.locked_until is None or failures.locked_until <= now:
        return None
    return failures.locked_until
