"""One case as the quality lead follows it after the call: what was agreed, what was carried
out, the incidents reported and its effectiveness check."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from recall.db.models import Case, Customer, EffectivenessCheck, Fulfilment, Incident
from recall.domain.errors import NotFound


@dataclass(frozen=True)
class CaseRemedies:
    case_ref: str
    recall_id: str
    customer: str  # the first name and the initial of the last: enough to recognise a caller
    status: str
    outcome: str | None
    first_channel: str
    notified_by: str | None
    quantity: int
    corrected: int
    agreed_at: dt.datetime | None
    escalation_reason: str | None
    fulfilments: list[Fulfilment]
    incidents: list[Incident]
    check: EffectivenessCheck | None


def case_remedies(*, engine: Engine, recall_id: str, case_ref: str) -> CaseRemedies:
    ref = case_ref.strip().upper()
    with Session(engine, expire_on_commit=False) as session:
        found = session.execute(
            select(Case, Customer.first_name, Customer.last_name)
            .outerjoin(Customer, Customer.customer_id == Case.customer_id)
            .where(Case.case_ref == ref, Case.recall_id == recall_id)
        ).first()
        if found is None:
            raise NotFound(f"recall {recall_id} has no case {ref}")
        case, first, last = found
        fulfilments = list(
            session.scalars(
                select(Fulfilment).where(Fulfilment.case_id == case.id).order_by(Fulfilment.id)
            )
        )
        incidents = list(
            session.scalars(
                select(Incident).where(Incident.case_id == case.id).order_by(Incident.id)
            )
        )
        check = session.get(EffectivenessCheck, case.id)
        corrected = session.scalar(
            select(func.coalesce(func.sum(Fulfilment.units), 0)).where(
                Fulfilment.case_id == case.id
            )
        )
        session.expunge_all()
    name = " ".join(p for p in (first or "", f"{last[0]}." if last else "") if p) or "-"
    return CaseRemedies(
        case.case_ref, case.recall_id, name, case.status, case.outcome, case.first_channel,
        case.notified_by, case.quantity, int(corrected or 0), case.agreed_at,
        case.escalation_reason, fulfilments, incidents, check,
    )  # fmt: skip
