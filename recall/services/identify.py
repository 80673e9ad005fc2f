"""Finding a recall's buyers in the purchase lines, and turning them into cases."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Date, Engine, bindparam, delete, insert, select, text, update
from sqlalchemy.orm import Session

from recall.clock import Clock, utc_now
from recall.db.models import Recall, RecallBuyer, RecallStore
from recall.domain.definition import RecallDefinition

BATCH_SIZE = 10_000

_LINES = text(
    """
    SELECT p.customer_id, p.sku, p.lot, p.store_id, p.purchased_on, p.quantity,
           c.customer_id IS NOT NULL AS known
    FROM purchases p LEFT JOIN customers c ON c.customer_id = p.customer_id
    WHERE p.sku IN :skus AND p.purchased_on >= :sold_from
    """
).bindparams(bindparam("skus", expanding=True), bindparam("sold_from", type_=Date))


@dataclass(frozen=True)
class Identification:
    """What identification found: buyers to contact, and what can't be traced to anyone."""

    buyers: int
    already_returned: int
    untraceable_units: int
    unknown_customer_units: int
    batches: int


def matching_lines(lines: pd.DataFrame, definition: RecallDefinition) -> pd.DataFrame:
    """Lines the recall covers: product and lot; sales in the window and stores, their returns.

    A return is often made after the sale window closed, and in any store: it still
    cancels an affected unit, so returns are only bounded by the window's start.
    """
    if lines.empty:
        return lines
    lot_ok = pd.Series(False, index=lines.index)
    for sku, group in lines.groupby("sku"):
        selector = definition.lots_for(str(sku))
        lots = group["lot"].fillna("")  # an unrecorded lot reads as NaN or None
        verdict = {lot: selector.matches(lot) for lot in lots.drop_duplicates()}
        lot_ok[group.index] = lots.map(verdict).astype(bool)
    on = pd.to_datetime(lines["purchased_on"])
    sale = (lines["quantity"] > 0) & (on <= pd.Timestamp(definition.sold_to))
    if definition.stores:
        sale &= lines["store_id"].isin(definition.stores)
    return lines[lot_ok & (sale | (lines["quantity"] < 0))]


def aggregate_buyers(lines: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Net quantity per known customer (sales minus returns) and what they bought."""
    columns = [
        "customer_id",
        "quantity",
        "lots",
        "skus",
        "stores",
        "first_purchase",
        "last_purchase",
    ]
    if lines.empty:
        return pd.DataFrame(columns=columns), 0
    net = lines.groupby("customer_id")["quantity"].sum()
    sales = lines[lines["quantity"] > 0]
    dates = sales.groupby("customer_id")["purchased_on"]
    buyers = pd.DataFrame(
        {
            "quantity": net,
            "lots": _joined(sales, "lot"),
            "skus": _joined(sales, "sku"),
            "stores": _joined(sales, "store_id"),
            "first_purchase": dates.min(),
            "last_purchase": dates.max(),
        }
    )
    buyers[["lots", "skus", "stores"]] = buyers[["lots", "skus", "stores"]].fillna("")
    affected = buyers[buyers["quantity"] > 0].rename_axis("customer_id").reset_index()
    already_returned = int((net <= 0).sum())
    return affected[columns], already_returned


def _joined(lines: pd.DataFrame, column: str) -> pd.Series:
    """Distinct values of `column` per customer, sorted and comma-joined.

    Most buyers have a single value; only the others pay for a Python join.
    """
    values = lines[["customer_id", column]].dropna()
    values = values[values[column].astype(str).str.strip() != ""].drop_duplicates()
    values = values.sort_values(["customer_id", column])
    several = values["customer_id"].duplicated(keep=False)
    single = values[~several].set_index("customer_id")[column].astype(str)
    multiple = values[several].groupby("customer_id")[column].agg(lambda v: ",".join(map(str, v)))
    return pd.concat([single, multiple])


def identify_buyers(
    *,
    engine: Engine,
    definition: RecallDefinition,
    batch_size: int = BATCH_SIZE,
    clock: Clock = utc_now,
) -> Identification:
    """Find the buyers of a recall and stage them for case building, in numbered batches."""
    with engine.connect() as connection:
        lines = pd.read_sql(
            _LINES, connection, params={"skus": definition.skus, "sold_from": definition.sold_from}
        )
    lines["known"] = lines["known"].astype(bool)
    covered = matching_lines(lines, definition)
    traceable = covered["customer_id"].notna() & covered["known"]
    anonymous = covered[covered["customer_id"].isna()]["quantity"].sum()
    unknown = covered[covered["customer_id"].notna() & ~covered["known"]]["quantity"].sum()
    buyers, already_returned = aggregate_buyers(covered[traceable])
    with Session(engine) as session, session.begin():
        seqs = _sequence_numbers(session, definition.id, buyers["customer_id"])
        buyers = buyers.assign(seq=seqs).sort_values("seq", ignore_index=True)
        buyers["batch"] = buyers.index // batch_size
        session.execute(delete(RecallBuyer).where(RecallBuyer.recall_id == definition.id))
        session.execute(delete(RecallStore).where(RecallStore.recall_id == definition.id))
        stores = store_figures(covered, traceable)
        if stores:
            session.execute(
                insert(RecallStore), [{"recall_id": definition.id, **s} for s in stores]
            )
        if len(buyers):
            session.execute(insert(RecallBuyer), _buyer_rows(definition.id, buyers))
        session.execute(
            update(Recall)
            .where(Recall.id == definition.id)
            .values(
                identified_at=clock(),
                already_returned=already_returned,
                untraceable_units=max(int(anonymous), 0) + max(int(unknown), 0),
                unknown_customer_units=max(int(unknown), 0),
            )
        )
    batches = int(buyers["batch"].max()) + 1 if len(buyers) else 0
    return Identification(
        buyers=len(buyers),
        already_returned=already_returned,
        untraceable_units=max(int(anonymous), 0) + max(int(unknown), 0),
        unknown_customer_units=max(int(unknown), 0),
        batches=batches,
    )


def store_figures(covered: pd.DataFrame, traceable: pd.Series) -> list[dict]:
    """Per store: affected units sold, and how many of them were sold to no known customer."""
    sales = covered["quantity"] > 0
    if not sales.any():
        return []
    frame = pd.DataFrame({
        "store_id": covered["store_id"],
        "units_sold": covered["quantity"].where(sales, 0),
        "untraceable_units": covered["quantity"].where(sales & ~traceable, 0),
    })  # fmt: skip
    per_store = frame.dropna(subset=["store_id"]).groupby("store_id").sum()
    per_store = per_store[per_store["units_sold"] > 0].astype(int).reset_index()
    return per_store.to_dict("records")


def _sequence_numbers(session: Session, recall_id: str, customers: pd.Series) -> list[int]:
    """Existing cases keep their number; new buyers follow on, in customer_id order."""
    from recall.db.models import Case

    existing = dict(
        session.execute(select(Case.customer_id, Case.seq).where(Case.recall_id == recall_id))
        .tuples()
        .all()
    )
    following = max(existing.values(), default=0)
    numbers: dict[str, int] = {}
    for customer in sorted(customers):
        if customer in existing:
            numbers[customer] = existing[customer]
        else:
            following += 1
            numbers[customer] = following
    return [numbers[c] for c in customers]


def _buyer_rows(recall_id: str, buyers: pd.DataFrame) -> list[dict]:
    rows = buyers.assign(recall_id=recall_id)
    for name in ("first_purchase", "last_purchase"):
        rows[name] = pd.to_datetime(rows[name]).dt.date
    rows["quantity"] = rows["quantity"].astype(int)
    return rows.to_dict("records")
