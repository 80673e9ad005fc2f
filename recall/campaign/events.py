"""Every status change of a case written as an event, and the facts kept in its history."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from recall.clock import Clock, utc_now
from recall.db.models import Case, CaseEvent
from recall.domain.cases import Status, check_transition

SYSTEM = "system"  # the actor of the events no person made
# Statuses that say the customer knows of the recall: a notice reached them, or they answered.
REACHED = frozenset(
    {Status.NOTIFIED, Status.CONTACTED, Status.RESOLVED, Status.ESCALATED, Status.DECLINED}
)


def _event(
    case_id: int,
    old: Status | None,
    new: Status,
    at: dt.datetime,
    *,
    actor: str = SYSTEM,
    channel: str | None = None,
    note: str | None = None,
) -> dict:
    return {
        "case_id": case_id, "at": at, "actor": actor, "channel": channel,
        "old_status": old.value if old else None, "new_status": new.value, "note": note,
    }  # fmt: skip


def change_status(
    session: Session,
    case: Case,
    new: Status | str,
    *,
    actor: str,
    channel: str | None = None,
    note: str | None = None,
    clock: Clock = utc_now,
) -> CaseEvent:
    """Move a case to `new` if the lifecycle allows it, recording the event; else raise.

    The case's `notified_by` follows: the channel of the notice that reached the customer (a
    step to notified, or a customer in touch before any notice), cleared when the notice
    turns out not to have arrived (notified back to identified).
    """
    old = Status(case.status)
    target = check_transition(old, new)
    now = clock()
    event = CaseEvent(**_event(case.id, old, target, now, actor=actor, channel=channel, note=note))
    session.add(event)
    case.status, case.updated_at = target.value, now
    if target == Status.IDENTIFIED:
        case.notified_by = None
    elif target in REACHED and case.notified_by is None:
        case.notified_by = channel or SYSTEM
    return event


def move_row(
    case_id: int, status: str, at: dt.datetime, *, actor: str, channel: str | None, note: str
) -> dict:
    """The values of a move event (the status kept), for writing many at once."""
    return _event(case_id, Status(status), Status(status), at, actor=actor, channel=channel,
                  note=note)  # fmt: skip


def record_move(
    session: Session, case: Case, *, actor: str, channel: str | None, note: str,
    clock: Clock = utc_now,
) -> CaseEvent:  # fmt: skip
    """An event that keeps the status: a channel move or a fact worth keeping in the history."""
    now = clock()
    status = Status(case.status)
    event = CaseEvent(
        **_event(case.id, status, status, now, actor=actor, channel=channel, note=note)
    )
    session.add(event)
    case.updated_at = now
    return event
