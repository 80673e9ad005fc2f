"""Finding a recall's buyers in the purchase lines, in the database, and staging them.

One scan of the purchase lines keeps the recall's candidate lines (products, sale window,
stores, returns) in a temporary table; their distinct lots are matched by the domain's lot
rules in Python (a few thousand values, not millions of lines); everything else is grouped
by SQL, so identifying 345,000 buyers costs about one GROUP BY over the purchases.

The two databases take different roads to the same rows. PostgreSQL tells known customers
from unknown card numbers in its parallel scan of the purchases (a hash join), then groups,
lists, numbers and stages the buyers in one statement. SQLite has neither parallel scans
nor ordered aggregates: it groups the lines by card number with their lists in one pass,
looks each buyer's customer up once, and sorts in Python the lists of the one buyer in five
who bought several lots, products or stores.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Date, Engine, bindparam, text

from recall.clock import Clock, utc_now
from recall.db.models import UtcDateTime
from recall.db.spelling import Spelling
from recall.domain.definition import RecallDefinition

BATCH_SIZE = 50_000
_TEMPORARY = ("recall_lines", "recall_net")


@dataclass(frozen=True)
class Identification:
    """What identification found: buyers to contact, and what can't be traced to anyone."""

    buyers: int
    already_returned: int
    untraceable_units: int
    unknown_customer_units: int
    batches: int


def identify_buyers(
    *,
    engine: Engine,
    definition: RecallDefinition,
    batch_size: int = BATCH_SIZE,
    clock: Clock = utc_now,
) -> Identification:
    """Find the buyers of a recall and stage them for case building, in numbered batches.

    A return is often made after the sale window closed, and in any store: it still cancels
    an affected unit, so returns are only bounded by the window's start. Existing cases keep
    their number; new buyers follow on, in customer_id order.
    """
    with engine.connect() as connection:
        spell = Spelling.of(connection)
        if not spell.postgres:
            connection.exec_driver_sql("PRAGMA temp_store=MEMORY")
        _drop_temporary(connection, spell)
        with connection.begin():
            spell.roomy(connection)
            _stage_candidate_lines(connection, spell, definition)
            _drop_uncovered_lots(connection, definition)
            already_returned = 0 if spell.postgres else _stage_buyers(connection, spell)
            anonymous, unknown = _untraceable(connection, spell)
            _write_stores(connection, spell, definition.id)
            if spell.postgres:
                buyers, already_returned = _write_grouped_buyers(
                    connection, spell, definition.id, batch_size
                )
            else:
                buyers = _write_buyers(connection, spell, definition.id, batch_size)
            spell.analyze(connection, "recall_buyers")
            untraceable = max(anonymous, 0) + max(unknown, 0)
            connection.execute(
                text(
                    "UPDATE recalls SET identified_at = :now, already_returned = :returned, "
                    "untraceable_units = :untraceable, unknown_customer_units = :unknown "
                    "WHERE id = :recall_id"
                ).bindparams(bindparam("now", type_=UtcDateTime())),
                {"now": clock(), "returned": already_returned, "untraceable": untraceable,
                 "unknown": max(unknown, 0), "recall_id": definition.id},
            )  # fmt: skip
        _drop_temporary(connection, spell)
    return Identification(
        buyers=buyers,
        already_returned=already_returned,
        untraceable_units=untraceable,
        unknown_customer_units=max(unknown, 0),
        batches=-(-buyers // batch_size),
    )


def _stage_candidate_lines(
    connection: Connection, spell: Spelling, definition: RecallDefinition
) -> None:
    """The one scan of the purchases: the recall's products, sales in its window and stores,
    and their returns; lots trimmed, an unrecorded one read as ''. On PostgreSQL each line
    also says whether its customer is known."""
    in_stores = "AND p.store_id IN :stores" if definition.stores else ""
    lot = spell.binary("COALESCE(TRIM(p.lot), '')")
    known = (
        ", c.customer_id IS NOT NULL AS known FROM purchases p "
        "LEFT JOIN customers c ON c.customer_id = p.customer_id"
        if spell.postgres
        else " FROM purchases p"
    )
    query = text(
        spell.temp_table(
            "recall_lines",
            f"SELECT p.customer_id, {spell.binary('p.sku')} AS sku, "
            f"{lot} AS lot, {spell.binary('p.store_id')} AS store_id, p.purchased_on, p.quantity"
            f"{known} WHERE p.sku IN :skus AND p.purchased_on >= :sold_from "
            f"AND (p.quantity < 0 OR (p.purchased_on <= :sold_to {in_stores}))",
        )
    ).bindparams(
        bindparam("skus", expanding=True),
        bindparam("sold_from", type_=Date),
        bindparam("sold_to", type_=Date),
        *([bindparam("stores", expanding=True)] if definition.stores else []),
    )
    params = {"skus": list(definition.skus), "sold_from": definition.sold_from,
              "sold_to": definition.sold_to}  # fmt: skip
    if definition.stores:
        params["stores"] = list(definition.stores)
    connection.execute(query, params)


def _drop_uncovered_lots(connection: Connection, definition: RecallDefinition) -> None:
    """Lines of lots the recall does not cover leave: their distinct (product, lot) pairs are
    judged by the domain's lot rules, products recalled whatever the lot are not looked at."""
    chosen = [sku for sku in definition.skus if not definition.lots_for(sku).every_lot]
    if not chosen:
        return
    pairs = connection.execute(
        text("SELECT DISTINCT sku, lot FROM recall_lines WHERE sku IN :skus").bindparams(
            bindparam("skus", expanding=True)
        ),
        {"skus": chosen},
    ).all()
    other = [{"sku": sku, "lot": lot} for sku, lot in pairs
             if not definition.lots_for(sku).matches(lot or None)]  # fmt: skip
    if other:
        connection.execute(text("DELETE FROM recall_lines WHERE sku = :sku AND lot = :lot"), other)


def _stage_buyers(connection: Connection, spell: Spelling) -> int:
    """SQLite: per card number, in one pass, net units, the span of the purchases, the lots,
    products and stores bought, and whether the customers table knows the card; returns how
    many known customers have brought everything back (already_returned)."""
    lists = _lists(spell)
    columns = ["customer_id", "quantity", "first_purchase", "last_purchase",
               *(f"{c}s" for c in _LISTED), "known"]  # fmt: skip
    for statement in spell.keyed_temp_table(
        "recall_net",
        columns,
        "SELECT g.*, c.customer_id IS NOT NULL AS known FROM (SELECT customer_id, "
        "SUM(quantity) AS quantity, "
        "MIN(CASE WHEN quantity > 0 THEN purchased_on END) AS first_purchase, "
        f"MAX(CASE WHEN quantity > 0 THEN purchased_on END) AS last_purchase, {lists} "
        "FROM recall_lines WHERE customer_id IS NOT NULL GROUP BY customer_id) g "
        "LEFT JOIN customers c ON c.customer_id = g.customer_id",
    ):
        connection.execute(text(statement))
    _sort_several(connection)
    return int(
        connection.scalar(text("SELECT COUNT(*) FROM recall_net WHERE known AND quantity <= 0"))
    )


# What a case lists (lots, skus, stores): values of its sales; a product always has a sku,
# a store id is NULL or a value (the import strips them), a lot may be ''.
_LISTED = {"lot": "quantity > 0 AND lot <> ''", "sku": "quantity > 0", "store_id": "quantity > 0"}


def _lists(spell: Spelling) -> str:
    """The lots, products and stores a buyer bought, each as a list (lots, skus, store_ids)."""
    return ", ".join(f"{spell.list_of(c, sold)} AS {c}s" for c, sold in _LISTED.items())


def _sort_several(connection: Connection) -> None:
    """SQLite 3.40 has no ORDER BY inside an aggregate: the lists of the buyers of several
    lots, products or stores (about one in five) are sorted here."""
    several = " OR ".join(f"instr({c}s, ',') > 0" for c in _LISTED)
    rows = connection.execute(
        text(
            "SELECT customer_id, lots, skus, store_ids FROM recall_net "
            f"WHERE known AND quantity > 0 AND ({several})"
        )
    )
    ordered = [{"c": c, "lots": _sorted(lots), "skus": _sorted(skus), "stores": _sorted(stores)}
               for c, lots, skus, stores in rows]  # fmt: skip
    if ordered:
        connection.execute(
            text(
                "UPDATE recall_net SET lots = :lots, skus = :skus, store_ids = :stores "
                "WHERE customer_id = :c"
            ),
            ordered,
        )


def _unknown(spell: Spelling) -> str:
    """A candidate line no known customer bought: with no card, or a card the customers
    table lacks (known per line on PostgreSQL, per card number on SQLite)."""
    if spell.postgres:
        return "NOT known"
    return (
        "(customer_id IS NULL OR customer_id IN "
        "(SELECT customer_id FROM recall_net WHERE NOT known))"
    )


def _untraceable(connection: Connection, spell: Spelling) -> tuple[int, int]:
    """Net units sold with no loyalty card, and to card numbers the customers table lacks."""
    anonymous, unknown = connection.execute(
        text(
            "SELECT COALESCE(SUM(CASE WHEN customer_id IS NULL THEN quantity END), 0), "
            "COALESCE(SUM(CASE WHEN customer_id IS NOT NULL THEN quantity END), 0) "
            f"FROM recall_lines WHERE {_unknown(spell)}"
        )
    ).one()
    return int(anonymous), int(unknown)


def _write_stores(connection: Connection, spell: Spelling, recall_id: str) -> None:
    """Per store: affected units sold, and how many of them went to no known customer (few
    card numbers are unknown, so on SQLite they are looked up as a set)."""
    untraceable = f"quantity > 0 AND {_unknown(spell)}"
    connection.execute(text("DELETE FROM recall_stores WHERE recall_id = :r"), {"r": recall_id})
    connection.execute(
        text(
            "INSERT INTO recall_stores (recall_id, store_id, units_sold, untraceable_units) "
            "SELECT :r, store_id, SUM(CASE WHEN quantity > 0 THEN quantity ELSE 0 END), "
            f"SUM(CASE WHEN {untraceable} THEN quantity ELSE 0 END) "
            "FROM recall_lines WHERE store_id IS NOT NULL GROUP BY store_id "
            "HAVING SUM(CASE WHEN quantity > 0 THEN quantity ELSE 0 END) > 0"
        ),
        {"r": recall_id},
    )


def _sorted(values: str | None) -> str | None:
    return ",".join(sorted(values.split(","))) if values and "," in values else values


def _write_buyers(connection: Connection, spell: Spelling, recall_id: str, batch_size: int) -> int:
    """Stage every buyer still holding affected units, numbered and split into batches."""
    params = _restage(connection, recall_id, batch_size)
    insert = _numbered_insert(spell, "recall_net n", "n.lots, n.skus, n.store_ids",
                              "n.customer_id", bool(params["last_seq"]))  # fmt: skip
    return int(connection.execute(text(insert), params).rowcount)


def _write_grouped_buyers(
    connection: Connection, spell: Spelling, recall_id: str, batch_size: int
) -> tuple[int, int]:
    """PostgreSQL, in one statement: the lines grouped by card number with their sorted lists,
    every known buyer still holding affected units numbered and staged; nothing is written
    in between (a temporary table of the groups, then a join for the lists, cost twice as
    much). Returns (buyers staged, known customers who brought everything back)."""
    lists = _lists(spell)
    key = spell.binary("customer_id")
    grouped = (
        f"SELECT {key} AS customer_id, known, SUM(quantity) AS quantity, "
        "MIN(purchased_on) FILTER (WHERE quantity > 0) AS first_purchase, "
        f"MAX(purchased_on) FILTER (WHERE quantity > 0) AS last_purchase, {lists} "
        f"FROM recall_lines WHERE customer_id IS NOT NULL GROUP BY {key}, known"
    )
    params = _restage(connection, recall_id, batch_size)
    # The groups are C-collated: compared with a cases row, they take the column's collation.
    customer = 'n.customer_id COLLATE "default"'
    insert = _numbered_insert(spell, "net n", "n.lots, n.skus, n.store_ids", customer,
                              bool(params["last_seq"]))  # fmt: skip
    buyers, returned = connection.execute(
        text(
            f"WITH net AS MATERIALIZED ({grouped}), written AS ({insert} RETURNING 1) "
            "SELECT (SELECT COUNT(*) FROM written), "
            "(SELECT COUNT(*) FROM net WHERE known AND quantity <= 0)"
        ),
        params,
    ).one()
    return int(buyers), int(returned)


def _restage(connection: Connection, recall_id: str, batch_size: int) -> dict[str, object]:
    """The recall's staged buyers emptied; the parameters of its numbered insert."""
    connection.execute(text("DELETE FROM recall_buyers WHERE recall_id = :r"), {"r": recall_id})
    last_seq = connection.scalar(
        text("SELECT COALESCE(MAX(seq), 0) FROM cases WHERE recall_id = :r"), {"r": recall_id}
    )
    return {"r": recall_id, "last_seq": last_seq, "size": batch_size}


def _numbered_insert(spell: Spelling, source: str, lists: str, customer: str, again: bool) -> str:
    """INSERT of the known buyers of `source` (alias n) still holding affected units, numbered
    1, 2, ... in card-number order; `again`: existing cases keep their number, new buyers
    follow on, and the batches are cut anew."""
    in_order = f"ORDER BY {spell.binary('n.customer_id')}"
    if again:
        source += f" LEFT JOIN cases c ON c.recall_id = :r AND c.customer_id = {customer}"
        new = f"ROW_NUMBER() OVER (PARTITION BY c.seq IS NULL {in_order})"
        seq = f"COALESCE(c.seq, :last_seq + {new})"
        batch = "(ROW_NUMBER() OVER (ORDER BY seq) - 1) / :size"
    else:
        seq = f"ROW_NUMBER() OVER ({in_order})"
        batch = "(seq - 1) / :size"
    numbered = (
        f"SELECT n.customer_id, n.quantity, n.first_purchase, n.last_purchase, {lists}, "
        f"{seq} AS seq FROM {source} WHERE n.known AND n.quantity > 0"
    )
    return (
        "INSERT INTO recall_buyers (recall_id, customer_id, seq, batch, quantity, lots, skus, "
        "stores, first_purchase, last_purchase) "
        f"SELECT :r, customer_id, seq, {batch}, quantity, COALESCE(lots, ''), "
        "COALESCE(skus, ''), COALESCE(store_ids, ''), first_purchase, last_purchase "
        f"FROM ({numbered}) AS b"
    )


def _drop_temporary(connection: Connection, spell: Spelling) -> None:
    """SQLite keeps temporary tables with its pooled connection: leave none behind."""
    if spell.postgres:
        return
    for name in _TEMPORARY:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")
    connection.commit()
