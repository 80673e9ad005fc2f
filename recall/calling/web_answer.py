"""The customer's latest answer on their self-service page, as the agent's case view and the
page itself tell it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from recall.db.models import Store, WebAnswer


@dataclass(frozen=True)
class RecordedAnswer:
    """The customer's latest answer, as their page and the agent's case view tell it."""

    answered_at: dt.datetime
    possession: str
    remedy: str | None
    store: str | None  # the store's name and city
    delivery_address: str | None
    callback_slot: str | None
    language: str


_LATEST = (
    select(WebAnswer)
    .where(WebAnswer.case_id == bindparam("case_id"))
    .order_by(WebAnswer.id.desc())
    .limit(1)
)


def latest_answer(session: Session, case_id: int) -> RecordedAnswer | None:
    """The case's latest web answer, or None when the customer never answered on the web."""
    answer = session.scalars(_LATEST, {"case_id": case_id}).first()
    if answer is None:
        return None
    store = session.get(Store, answer.store_id) if answer.store_id else None
    where = ", ".join(part for part in (store.name, store.city) if part) if store else None
    return RecordedAnswer(
        answer.answered_at, answer.possession, answer.remedy, where or answer.store_id,
        answer.delivery_address, answer.callback_slot, answer.language,
    )  # fmt: skip
