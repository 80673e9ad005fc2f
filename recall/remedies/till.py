"""Returns at the till: a later loyalty export's return lines of a recalled product correct the
buyer's case, and close it "returned in store" once every unit is back.

A return line counts when it is the case's customer's, of a recalled product, of a covered lot
or of no recorded lot, and dated (on the recall's clock) on or after the day the case was
built: earlier returns were netted when the buyers were identified. The units brought back are
kept on the case's one `returned_to_store` fulfilment, raised to the total returned so far, so
passing over the same purchases again changes nothing. A case with a specialist, or resolved
in another way than a remedy, is left as it is.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, select
from sqlalchemy.orm import Session

from recall.campaign.definitions import definition_of
from recall.campaign.events import change_status, record_move
from recall.clock import Clock, utc_now
from recall.db.models import Case, Fulfilment, Purchase, Recall
from recall.domain.calling import RETURNED_IN_STORE
from recall.domain.cases import Status, to_contacted
from recall.domain.definition import RecallDefinition
from recall.domain.errors import Refused
from recall.domain.remedies import FulfilmentKind
from recall.remedies.fulfilment import FulfilmentInput, fulfil, units_left

TILL = "till"  # the actor and the source of what a till return records
STORE = FulfilmentKind.RETURNED_TO_STORE.value


@dataclass
class _Return:
    units: int = 0
    last_on: dt.date = dt.date.min
    store: str = ""
    receipt: str = ""


@dataclass
class TillReturns:
    recall_id: str
    cases: int = 0  # cases with units newly back at a till
    closed: int = 0  # of those, now resolved "returned in store"
    units: int = 0
    skipped: list[str] = field(default_factory=list)  # case refs left as they are


def apply_till_returns(*, engine: Engine, recall_id: str, clock: Clock = utc_now) -> TillReturns:
    """One pass over the purchases: every case with units newly back at a till is corrected."""
    now, report = clock(), TillReturns(recall_id)
    with Session(engine) as session, session.begin():
        definition = definition_of(session, recall_id)
        zone = ZoneInfo(definition.call.timezone)
        returns = _returns(session, definition, zone, now.astimezone(zone).date())
        recorded = dict(
            session.execute(
                select(Fulfilment.case_id, Fulfilment.units).where(
                    Fulfilment.recall_id == recall_id, Fulfilment.kind == STORE
                )
            )
            .tuples()
            .all()
        )
        for case_id in sorted(returns):
            back = returns[case_id]
            if back.units > recorded.get(case_id, 0):
                case = session.get_one(Case, case_id)
                try:
                    with session.begin_nested():
                        _correct(session, definition, case, back, recorded.get(case_id), now,
                                 report)  # fmt: skip
                except Refused as exc:  # this case's, said and kept aside; the others go on
                    report.skipped.append(f"{case.case_ref} ({exc})")
    return report


def _returns(
    session: Session, definition: RecallDefinition, zone: ZoneInfo, today: dt.date
) -> dict[int, _Return]:
    """Units each case's customer brought back to a till since the case was built (a line
    dated after today, a clock error at the till, waits for its day)."""
    launched = session.get_one(Recall, definition.id).launched_at.astimezone(zone).date()
    rows = session.execute(
        select(
            Case.id,
            Case.created_at,
            Purchase.sku,
            Purchase.lot,
            Purchase.quantity,
            Purchase.purchased_on,
            Purchase.store_id,
            Purchase.transaction_id,
        )
        .join(Case, and_(Case.recall_id == definition.id, Case.customer_id == Purchase.customer_id))
        .where(
            Purchase.quantity < 0,
            Purchase.sku.in_(definition.skus),
            Purchase.purchased_on >= launched,
            Purchase.purchased_on <= today,
        )
    )
    returns: defaultdict[int, _Return] = defaultdict(_Return)
    for case_id, built, sku, lot, quantity, on, store, receipt in rows:
        if on < built.astimezone(zone).date() or not definition.lots_for(sku).matches(lot):
            continue
        back = returns[case_id]
        back.units -= quantity
        if on >= back.last_on:
            back.last_on, back.store, back.receipt = on, store or "", receipt
    return returns


def _correct(
    session: Session,
    definition: RecallDefinition,
    case: Case,
    back: _Return,
    recorded: int | None,
    now: dt.datetime,
    report: TillReturns,
) -> None:
    """Count the units newly back on the case, then move it: in touch, or closed when every
    unit is back; a specialist's case, or one resolved otherwise, is left as it is."""
    status = Status(case.status)
    agreed_elsewhere = status == Status.RESOLVED and case.outcome not in (
        *definition.remedies, RETURNED_IN_STORE,
    )  # fmt: skip
    if status == Status.ESCALATED or agreed_elsewhere:
        report.skipped.append(case.case_ref)  # a specialist's, or "no longer has it": as said
        return
    new = max(min(back.units - (recorded or 0), units_left(session, case)), 0)
    note = f"returned at the till of store {back.store or '?'} on {back.last_on}"
    _count_units(session, case, back, new, first=recorded is None, note=note, now=now)
    report.cases, report.units = report.cases + 1, report.units + new
    session.flush()
    if status == Status.RESOLVED:
        return
    whole = units_left(session, case) == 0
    for target in (*to_contacted(status), Status.RESOLVED) if whole else to_contacted(status):
        change_status(session, case, target, actor=TILL, channel="store", note=note,
                      clock=lambda: now)  # fmt: skip
    if whole:
        case.outcome, case.agreed_at = RETURNED_IN_STORE, now
        case.next_call_at = case.callback_at = case.callback_agent = None
        case.claimed_by = case.claimed_until = None
        report.closed += 1


def _count_units(
    session: Session, case: Case, back: _Return, new: int, *, first: bool, note: str,
    now: dt.datetime,
) -> None:  # fmt: skip
    """The case's one `returned_to_store` fulfilment: made, or raised by `new` units."""
    if first:
        given = FulfilmentInput(case.case_ref, STORE, back.last_on.isoformat(),
                                units=str(new) if new else "", done_by=back.store,
                                reference=back.receipt)  # fmt: skip
        fulfil(session, given, actor=TILL, source=TILL, now=now, case=case, agreed=False)
        return
    till = session.scalars(
        select(Fulfilment).where(Fulfilment.case_id == case.id, Fulfilment.kind == STORE)
    ).one()
    till.units, till.done_on, till.reference = till.units + new, back.last_on, back.receipt
    record_move(session, case, actor=TILL, channel=TILL, clock=lambda: now,
                note=f"{note}: {new} more unit(s)")  # fmt: skip
