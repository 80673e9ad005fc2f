"""Cases: built from staged buyers, and every status change written as an event."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from recall.clock import Clock, utc_now
from recall.db.models import Case, CaseEvent, Customer, RecallBuyer
from recall.domain.calling import call_priority, customer_zone
from recall.domain.cases import Status, check_transition, choose_channels, usable_address
from recall.domain.contacts import normalise_phone
from recall.domain.definition import RecallDefinition

SYSTEM = "system"


@dataclass(frozen=True)
class BatchResult:
    batch: int
    created: int
    already_there: int


def case_ref(recall_id: str, seq: int) -> str:
    """The reference printed on letters and read out on the phone."""
    return f"{recall_id}-{seq:06d}"


def build_case_batch(
    *, engine: Engine, definition: RecallDefinition, batch: int, clock: Clock = utc_now
) -> BatchResult:
    """Create the cases of one staged batch, each with its `identified` event; re-runnable."""
    with Session(engine) as session, session.begin():
        staged = _staged_buyers(session, definition.id, batch)
        existing = set(
            session.scalars(
                select(Case.customer_id).where(
                    Case.recall_id == definition.id,
                    Case.customer_id.in_(
                        select(RecallBuyer.customer_id).where(
                            RecallBuyer.recall_id == definition.id, RecallBuyer.batch == batch
                        )
                    ),
                )
            )
        )
        now = clock()
        rows = [_case_row(definition, b, now) for b in staged if b["customer_id"] not in existing]
        if rows:
            ids = session.scalars(
                insert(Case).returning(Case.id, sort_by_parameter_order=True), rows
            ).all()
            session.execute(
                insert(CaseEvent),
                [
                    _event(case_id, None, Status.IDENTIFIED, now, note="identified at launch")
                    for case_id in ids
                ],
            )
    return BatchResult(batch, len(rows), len(existing))


def _staged_buyers(session: Session, recall_id: str, batch: int) -> list[dict]:
    columns = [
        RecallBuyer.customer_id, RecallBuyer.seq, RecallBuyer.quantity, RecallBuyer.lots,
        RecallBuyer.skus, RecallBuyer.stores, RecallBuyer.first_purchase, RecallBuyer.last_purchase,
        Customer.phone, Customer.country, Customer.language, Customer.do_not_call,
        Customer.address_line1, Customer.postal_code, Customer.city,
    ]  # fmt: skip
    query = (
        select(*columns)
        .join_from(RecallBuyer, Customer, Customer.customer_id == RecallBuyer.customer_id)
        .where(RecallBuyer.recall_id == recall_id, RecallBuyer.batch == batch)
    )
    return [dict(row) for row in session.execute(query).mappings()]


def _case_row(definition: RecallDefinition, buyer: dict, now: dt.datetime) -> dict:
    phone = normalise_phone(buyer["phone"], buyer["country"])
    has_address = usable_address(buyer["address_line1"], buyer["postal_code"], buyer["city"])
    channels = choose_channels(
        has_address=has_address,
        has_phone=phone is not None,
        do_not_call=bool(buyer["do_not_call"]),
        call_policy=definition.call_policy,
    )
    return {
        "recall_id": definition.id,
        "customer_id": buyer["customer_id"],
        "seq": buyer["seq"],
        "case_ref": case_ref(definition.id, buyer["seq"]),
        "status": Status.IDENTIFIED.value,
        "quantity": buyer["quantity"],
        "lots": buyer["lots"],
        "skus": buyer["skus"],
        "stores": buyer["stores"],
        "first_purchase": buyer["first_purchase"],
        "last_purchase": buyer["last_purchase"],
        "letter": channels.letter,
        "call": channels.call,
        "notice_only": channels.notice_only,
        "phone_e164": phone,
        "phone_invalid": phone is None and bool(str(buyer["phone"] or "").strip()),
        "language": buyer["language"],
        "priority": call_priority(definition.hazard, buyer["quantity"], buyer["last_purchase"]),
        "call_zone": customer_zone(phone, definition.call.timezone) if phone else None,
        "created_at": now,
        "updated_at": now,
    }


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
    """Move a case to `new` if the lifecycle allows it, recording the event; else raise."""
    old = Status(case.status)
    target = check_transition(old, new)
    now = clock()
    event = CaseEvent(**_event(case.id, old, target, now, actor=actor, channel=channel, note=note))
    session.add(event)
    case.status, case.updated_at = target.value, now
    return event


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
