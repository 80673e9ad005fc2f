"""The other cases of a case's customer, in every recall: what the agent may know of them.

Cases are read by their (recall, customer) key, one recall at a time: a customer's cases are
found without reading a recall's whole list of cases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from recall.db.models import Case, Recall
from recall.domain.calling import WORKABLE


@dataclass(frozen=True)
class OtherCase:
    """Another recall of the same customer: no contact, name or purchase of anyone in it."""

    case_ref: str
    recall_id: str
    recall_title: str
    status: str
    outcome: str | None
    changed_at: dt.datetime  # its last change


def other_cases(*, engine: Engine, case_id: int) -> tuple[OtherCase, ...]:
    """The customer's other cases, the latest changed first; () for an unknown case."""
    with Session(engine) as session:
        customer_id = session.scalar(select(Case.customer_id).where(Case.id == case_id))
        return other_cases_in(session, case_id, customer_id)


_OTHERS = (
    select(Case.case_ref, Recall.id, Recall.title, Case.status, Case.outcome, Case.updated_at)
    .join(Case, (Case.recall_id == Recall.id) & (Case.customer_id == bindparam("customer_id")))
    .where(Case.id != bindparam("case_id"))
    .order_by(Case.updated_at.desc(), Case.id.desc())
)


def other_cases_in(
    session: Session, case_id: int, customer_id: str | None
) -> tuple[OtherCase, ...]:
    """`other_cases`, for a case whose customer is known."""
    rows = (
        session.connection()
        .execute(_OTHERS, {"case_id": case_id, "customer_id": customer_id})
        .all()
    )
    return tuple(OtherCase(*row) for row in rows)


def open_cases_besides(session: Session, case: Case) -> list[Case]:
    """The customer's other cases still worked, in this session (to be changed with it); a
    closed recall's cases keep their status but are worked no more (closing took them off the
    call list: a new phone must not put them back)."""
    return list(
        session.scalars(
            select(Case)
            .join(Recall, Recall.id == Case.recall_id)
            .where(Case.customer_id == case.customer_id, Case.id != case.id,
                   Case.status.in_([s.value for s in WORKABLE]), Recall.closed_at.is_(None))
            .order_by(Case.id)
        )
    )  # fmt: skip
