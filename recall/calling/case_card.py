"""What an agent sees of a case they work: a small view, not ORM rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from recall.calling.escalations import needed_skill
from recall.db.models import CallAttempt, Case, Customer, Recall


@dataclass(frozen=True)
class CaseCard:
    case_id: int
    case_ref: str
    recall_id: str
    recall_title: str
    hazard: str
    status: str
    agent_id: str | None
    customer: str
    phone: str | None  # E.164, shown to the agent who calls; never logged
    language: str
    call_zone: str | None
    quantity: int
    lots: str
    skus: str
    stores: str
    last_purchase: dt.date
    attempts: int
    callback_at: dt.datetime | None
    claimed_until: dt.datetime | None
    recorded: int = 0  # calls recorded so far: a save sends it back, a repeat is refused
    skill: str = ""  # an escalation: the specialist skill it needs (its script, its panel)


def card_for(session: Session, case_id: int) -> CaseCard:
    """The case as its agent needs it on screen or on paper."""
    case, customer, recall = session.execute(
        select(Case, Customer, Recall)
        .join(Customer, Customer.customer_id == Case.customer_id)
        .join(Recall, Recall.id == Case.recall_id)
        .where(Case.id == case_id)
    ).one()
    return card_of(case, customer, recall, recorded_calls(session, case.id))


def card_of(case: Case, customer: Customer, recall: Recall, recorded: int) -> CaseCard:
    """The card of a case read with its customer and recall; `recorded`: its calls recorded."""
    first, last = customer.first_name, customer.last_name
    return CaseCard(
        case_id=case.id,
        case_ref=case.case_ref,
        recall_id=case.recall_id,
        recall_title=recall.title,
        hazard=recall.hazard,
        status=case.status,
        agent_id=case.agent_id,
        customer=" ".join(part for part in (first, last) if part) or case.customer_id,
        phone=case.phone_e164,
        language=case.language,
        call_zone=case.call_zone,
        quantity=case.quantity,
        lots=case.lots,
        skus=case.skus,
        stores=case.stores,
        last_purchase=case.last_purchase,
        attempts=case.attempts,
        callback_at=case.callback_at,
        claimed_until=case.claimed_until,
        recorded=recorded,
        skill=needed_skill(case.status, case.escalation_reason),
    )


_RECORDED = select(func.count()).where(
    CallAttempt.case_id == bindparam("case_id"), CallAttempt.disposition.is_not(None)
)


def recorded_calls(session: Session, case_id: int) -> int:
    """How many calls of the case have been recorded (a disposition given)."""
    return int(session.connection().scalar(_RECORDED, {"case_id": case_id}) or 0)
