"""Cases: channels a case is worked through, and the lifecycle of its status."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from recall.domain.errors import Refused


class Status(StrEnum):
    IDENTIFIED = "identified"
    NOTIFIED = "notified"
    CONTACTED = "contacted"
    RESOLVED = "resolved"
    ESCALATED = "escalated"
    DECLINED = "declined"
    UNREACHABLE = "unreachable"


# The lifecycle of the data contract. A customer who declined may change their mind,
# and one marked unreachable may still call the hotline: both can be reached later. A notice
# that turns out not to have arrived (a letter returned undelivered) takes the case back to
# identified: "notified" only ever counts notices that reached the customer.
ALLOWED: dict[Status | None, frozenset[Status]] = {
    None: frozenset({Status.IDENTIFIED}),
    Status.IDENTIFIED: frozenset({Status.NOTIFIED, Status.UNREACHABLE}),
    Status.NOTIFIED: frozenset({Status.CONTACTED, Status.UNREACHABLE, Status.IDENTIFIED}),
    Status.CONTACTED: frozenset({Status.RESOLVED, Status.ESCALATED, Status.DECLINED}),
    Status.ESCALATED: frozenset({Status.RESOLVED, Status.DECLINED}),
    Status.DECLINED: frozenset({Status.RESOLVED, Status.ESCALATED}),
    Status.UNREACHABLE: frozenset({Status.CONTACTED}),
    Status.RESOLVED: frozenset(),
}


# Corrections written by migration 0015 when the contract's wording changed: a do-not-call
# was recorded as declined. Replaying a history accepts them; a live change never makes one.
CORRECTIONS: frozenset[tuple[Status, Status]] = frozenset({(Status.DECLINED, Status.CONTACTED)})

# The completion funnel of the reports: a case counts in every stage up to the one it has
# reached. A case is notified when a notice reached the customer (`cases.notified_by`), which
# an unreachable case may or may not have been; a declined or escalated customer was
# contacted. The figures never count a stage not reached.
STAGES = ("identified", "notified", "contacted", "resolved")
STAGE_REACHED: dict[Status, int] = {
    Status.IDENTIFIED: 1,
    Status.NOTIFIED: 2,
    Status.UNREACHABLE: 1,
    Status.CONTACTED: 3,
    Status.ESCALATED: 3,
    Status.DECLINED: 3,
    Status.RESOLVED: 4,
}
SIDE_STATUSES = ("unreachable", "declined", "escalated")  # also counted on their own
CLOSED = ("resolved", "declined", "unreachable")  # no more work for an agent


def stages_of(status: Status | str, notified: bool = False) -> tuple[str, ...]:
    """The funnel stages a case of this status counts in; `notified`: a notice reached it."""
    reached = STAGE_REACHED[Status(status)]
    return STAGES[: max(reached, 2 if notified else 1)]


CHANNELS = ("letter", "call", "notice")


def channel_of(letter: bool, call: bool, notice_only: bool = False) -> str:
    """How the case is worked now: its call list, its letter, or the public notice alone
    (`notice_only`: its letter came back, or the customer asked not to be called)."""
    return "call" if call else "letter" if letter and not notice_only else "notice"


def to_contacted(status: Status | str) -> tuple[Status, ...]:
    """The steps by which a customer getting in touch (reached, at a till, reporting harm)
    takes a case to contacted: knowing of the recall, they count as notified on the way."""
    return {
        Status.IDENTIFIED: (Status.NOTIFIED, Status.CONTACTED),
        Status.NOTIFIED: (Status.CONTACTED,),
        Status.UNREACHABLE: (Status.CONTACTED,),
    }.get(Status(status), ())


class IllegalTransition(Refused):
    """A status change the case lifecycle does not allow."""


def check_transition(old: Status | str | None, new: Status | str) -> Status:
    """Return `new` as a Status, or raise IllegalTransition naming both ends."""
    try:
        target = Status(new)
        source = Status(old) if old is not None else None
    except ValueError as exc:
        raise IllegalTransition(f"unknown status: {exc}") from None
    if target not in ALLOWED[source]:
        allowed = ", ".join(sorted(ALLOWED[source])) or "nothing (final)"
        raise IllegalTransition(
            f"a case can't go from {source or 'nothing'} to {target}; allowed: {allowed}"
        )
    return target


def replay(statuses: list[str]) -> Status | None:
    """The status that a sequence of event targets leads to, checking every step.

    An event whose target is the current status records a channel move or a note: no step.
    """
    current: Status | None = None
    for new in statuses:
        if current is not None and new == current:
            continue
        if current is not None and (current, Status(new)) in CORRECTIONS:
            current = Status(new)
            continue
        current = check_transition(current, new)
    return current


@dataclass(frozen=True)
class Channels:
    letter: bool
    call: bool

    @property
    def notice_only(self) -> bool:
        return not self.letter and not self.call


def choose_channels(
    *, has_address: bool, has_phone: bool, do_not_call: bool, call_policy: str
) -> Channels:
    """The contract's channel rule for a new case."""
    callable_ = has_phone and not do_not_call
    if call_policy == "all":
        return Channels(letter=has_address, call=callable_)
    return Channels(letter=has_address, call=callable_ and not has_address)


def usable_address(line1: str | None, postal_code: str | None, city: str | None) -> bool:
    """A letter can go out when line 1, postal code and city are all present."""
    return all(v is not None and str(v).strip() for v in (line1, postal_code, city))
