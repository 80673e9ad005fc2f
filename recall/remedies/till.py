"""Returns at the till: a later loyalty export's return lines of a recalled product close the
buyer's case, "returned in store", with the units brought back.

A return line counts when it is the case's customer's, of a recalled product, of a covered
lot or of no recorded lot, and dated on or after the recall's launch (earlier returns were
netted when the buyers were identified). Each case gets one `returned_to_store` fulfilment,
so passing over the same purchases again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Engine, and_, select
from sqlalchemy.orm import Session

from recall.campaign.definitions import definition_of
from recall.campaign.events import change_status
from recall.clock import Clock, utc_now
from recall.db.models import Case, Fulfilment, Purchase, Recall
from recall.domain.calling import RETURNED_IN_STORE
from recall.domain.cases import Status, to_contacted
from recall.domain.remedies import FulfilmentKind
from recall.remedies.fulfilment import FulfilmentInput, fulfil, units_left

TILL = "till"  # the actor and the source of what a till return records


@dataclass
class _Return:
    units: int = 0
    last_on: dt.date = dt.date.min
    store: str = ""
    receipt: str = ""


@dataclass
class TillReturns:
    recall_id: str
    cases: int = 0  # cases closed or fulfilled by a return at the till
    units: int = 0
    skipped: list[str] = field(default_factory=list)  # case refs whose return can't apply


def apply_till_returns(*, engine: Engine, recall_id: str, clock: Clock = utc_now) -> TillReturns:
    """One pass over the purchases: every case with a new till return is closed and fulfilled."""
    now, report = clock(), TillReturns(recall_id)
    with Session(engine) as session, session.begin():
        definition = definition_of(session, recall_id)
        launched = session.get_one(Recall, recall_id).launched_at.date()
        done = select(Fulfilment.case_id).where(
            Fulfilment.recall_id == recall_id, Fulfilment.kind == FulfilmentKind.RETURNED_TO_STORE
        )
        rows = session.execute(
            select(
                Case.id,
                Purchase.sku,
                Purchase.lot,
                Purchase.quantity,
                Purchase.purchased_on,
                Purchase.store_id,
                Purchase.transaction_id,
            )
            .join(Case, and_(Case.recall_id == recall_id, Case.customer_id == Purchase.customer_id))
            .where(
                Purchase.quantity < 0,
                Purchase.sku.in_(definition.skus),
                Purchase.purchased_on >= launched,
                Case.id.not_in(done),
            )
        )
        returns: defaultdict[int, _Return] = defaultdict(_Return)
        for case_id, sku, lot, quantity, on, store, receipt in rows:
            if not definition.lots_for(sku).matches(lot):
                continue
            back = returns[case_id]
            back.units -= quantity
            if on >= back.last_on:
                back.last_on, back.store, back.receipt = on, store or "", receipt
        for case_id in sorted(returns):
            _close(session, session.get_one(Case, case_id), returns[case_id], now, report)
    return report


def _units(returned: int, left: int) -> str:
    """The units to record: those brought back, within those left ("": none left, 0 recorded)."""
    units = min(returned, left)
    return str(units) if units > 0 else ""


def _close(
    session: Session, case: Case, back: _Return, now: dt.datetime, report: TillReturns
) -> None:
    status = Status(case.status)
    if status == Status.RESOLVED and case.outcome not in (
        *definition_of(session, case.recall_id).remedies, RETURNED_IN_STORE,
    ):  # fmt: skip
        report.skipped.append(case.case_ref)  # e.g. said they no longer had it: left as said
        return
    note = f"returned at the till of store {back.store or '?'} on {back.last_on}"
    steps = () if status == Status.RESOLVED else (*to_contacted(status), Status.RESOLVED)
    for target in steps:
        change_status(session, case, target, actor=TILL, channel="store", note=note,
                      clock=lambda: now)  # fmt: skip
    if status != Status.RESOLVED:
        case.outcome, case.agreed_at = RETURNED_IN_STORE, now
        case.next_call_at = case.callback_at = case.callback_agent = None
        case.claimed_by = case.claimed_until = None
    session.flush()
    done = fulfil(
        session,
        FulfilmentInput(
            case.case_ref, FulfilmentKind.RETURNED_TO_STORE.value, back.last_on.isoformat(),
            units=_units(back.units, units_left(session, case)),
            done_by=back.store, reference=back.receipt,
        ),
        actor=TILL, source=TILL, now=now,
    )  # fmt: skip
    report.cases += 1
    report.units += done.units
