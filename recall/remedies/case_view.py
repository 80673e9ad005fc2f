"""One case as the quality lead follows it after the call: what was agreed, what was carried
out, the incidents reported and its effectiveness check."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from recall.db.models import Case, Customer, EffectivenessCheck, Fulfilment, Incident
from recall.domain.errors import NotFound


@dataclass(frozen=True)
class FulfilmentLine:
    kind: str
    done_on: dt.date
    units: int
    amount: str | None
    currency: str | None
    done_by: str | None
    recorded_by: str
    source: str


@dataclass(frozen=True)
class IncidentLine:
    kind: str
    severity: str
    occurred_on: dt.date
    text: str | None


@dataclass(frozen=True)
class CheckLine:
    checked_at: dt.datetime | None
    answered: bool | None
    received: bool | None
    acted: bool | None


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
    agreed_at: dt.datetime | None
    escalation_reason: str | None
    fulfilments: list[FulfilmentLine]
    incidents: list[IncidentLine]
    check: CheckLine | None

    @property
    def corrected(self) -> int:
        """Units carried out, by all its fulfilments."""
        return sum(f.units for f in self.fulfilments)


def case_remedies(*, engine: Engine, recall_id: str, case_ref: str) -> CaseRemedies:
    """One case of the recall by its reference, with its fulfilments, incidents and check."""
    ref = case_ref.strip().upper()
    with Session(engine) as session:
        found = session.execute(
            select(Case, Customer.first_name, Customer.last_name)
            .outerjoin(Customer, Customer.customer_id == Case.customer_id)
            .where(Case.case_ref == ref, Case.recall_id == recall_id)
        ).first()
        if found is None:
            raise NotFound(f"recall {recall_id} has no case {ref}")
        case, first, last = found
        fulfilments = [
            FulfilmentLine(
                f.kind, f.done_on, f.units, f.amount, f.currency, f.done_by, f.recorded_by, f.source
            )
            for f in session.scalars(
                select(Fulfilment).where(Fulfilment.case_id == case.id).order_by(Fulfilment.id)
            )
        ]
        incidents = [
            IncidentLine(i.kind, i.severity, i.occurred_on, i.text)
            for i in session.scalars(
                select(Incident).where(Incident.case_id == case.id).order_by(Incident.id)
            )
        ]
        drawn = session.get(EffectivenessCheck, case.id)
        check = (
            CheckLine(drawn.checked_at, drawn.answered, drawn.received, drawn.acted)
            if drawn
            else None
        )
    name = " ".join(p for p in (first or "", f"{last[0]}." if last else "") if p) or "-"
    return CaseRemedies(
        case.case_ref, case.recall_id, name, case.status, case.outcome, case.first_channel,
        case.notified_by, case.quantity, case.agreed_at,
        case.escalation_reason, fulfilments, incidents, check,
    )  # fmt: skip
