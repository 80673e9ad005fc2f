"""Cases: built from the staged buyers of a recall, each with its `identified` event."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, String, TextClause, bindparam, text

from recall.campaign.events import SYSTEM
from recall.clock import Clock, utc_now
from recall.db.models import UtcDateTime
from recall.db.spelling import Spelling, decided_by
from recall.domain.calling import RECENCY_BASE, UNITS_CAP, hazard_rank
from recall.domain.cases import Status, choose_channels
from recall.domain.definition import RecallDefinition


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
    """Create the cases of one staged batch, each with its `identified` event; re-runnable.

    Two statements in one transaction, whatever the batch's size: the cases, from the staged
    buyers and their customers' stored contacts, then the events of those that have none.
    """
    params = {"r": definition.id, "batch": batch, "now": clock()}
    with engine.begin() as connection:
        spell = Spelling.of(connection)
        spell.roomy(connection)
        staged = connection.scalar(
            text("SELECT COUNT(*) FROM recall_buyers WHERE recall_id = :r AND batch = :batch"),
            params,
        )
        if spell.postgres:  # one statement: the events are made of the RETURNING rows
            created = connection.scalar(_new_cases(spell, definition, with_events=True), params)
        else:
            created = connection.execute(_new_cases(spell, definition), params).rowcount
            connection.execute(_IDENTIFIED_EVENTS, params)
    return BatchResult(batch, int(created or 0), int(staged) - int(created or 0))


_BUYERS_AND_CUSTOMERS = "FROM recall_buyers b JOIN customers c ON c.customer_id = b.customer_id"
# PostgreSQL would hash a million customers for every batch: each buyer's customer is read by
# its key instead (OFFSET 0 keeps the planner from turning the look-up into a join); a buyer
# who already has a case is skipped by the insert itself, on the (recall_id, customer_id) key.
_BUYERS_AND_CUSTOMERS_PG = (
    "FROM recall_buyers b CROSS JOIN LATERAL (SELECT c.address_line1, c.postal_code, c.city, "
    "c.phone, c.phone_e164, c.phone_zone, c.phone_zones, c.do_not_call, c.language "
    "FROM customers c WHERE c.customer_id = b.customer_id OFFSET 0) AS c"
)
_HAS_ADDRESS = " AND ".join(
    f"COALESCE(TRIM(c.{column}), '') <> ''" for column in ("address_line1", "postal_code", "city")
)  # usable_address(): line 1, postal code and city present (the import strips them)
_HAS_PHONE = "c.phone_e164 IS NOT NULL"
_DO_NOT_CALL = "COALESCE(c.do_not_call, FALSE)"
_NOW = bindparam("now", type_=UtcDateTime())
_RECALL = bindparam("r", type_=String())  # typed: PostgreSQL meets it as text and as varchar


def _new_cases(
    spell: Spelling, definition: RecallDefinition, *, with_events: bool = False
) -> TextClause:
    """INSERT ... SELECT of the batch's buyers that have no case yet; `with_events`
    (PostgreSQL) also writes their `identified` events and returns how many were made."""
    inputs = (_HAS_ADDRESS, _HAS_PHONE, _DO_NOT_CALL)

    def channel(name: str) -> str:
        def rule(has_address: bool, has_phone: bool, do_not_call: bool) -> bool:
            chosen = choose_channels(
                has_address=has_address and "letter" in definition.notify,
                has_phone=has_phone, do_not_call=do_not_call,
                call_policy=definition.call_policy,
            )  # fmt: skip
            return bool(getattr(chosen, name))

        return decided_by(rule, inputs)

    units = f"({UNITS_CAP} - {spell.clamp('b.quantity', 0, UNITS_CAP)})"
    recency = f"({RECENCY_BASE} - {spell.day_number('b.last_purchase')})"
    priority = (
        f"(CAST({hazard_rank(definition.hazard)} AS BIGINT) * 10000000000 "
        f"+ CAST({units} AS BIGINT) * 1000000 + {recency})"
    )  # call_priority()
    contains_zone = spell.contains("'|' || c.phone_zones || '|'", "'|' || :zone || '|'")
    zone = (
        f"CASE WHEN c.phone_e164 IS NULL THEN NULL WHEN c.phone_zone IS NULL THEN :zone "
        f"WHEN c.phone_zones IS NOT NULL AND {contains_zone} THEN :zone ELSE c.phone_zone END"
    )  # customer_zone()
    invalid = "(c.phone_e164 IS NULL AND COALESCE(TRIM(c.phone), '') <> '')"
    if spell.postgres:
        source = _BUYERS_AND_CUSTOMERS_PG
        skip_existing = "ORDER BY b.seq ON CONFLICT (recall_id, customer_id) DO NOTHING"
    else:
        source = _BUYERS_AND_CUSTOMERS
        skip_existing = (
            "AND NOT EXISTS (SELECT 1 FROM cases x WHERE x.recall_id = :r "
            "AND x.customer_id = b.customer_id) ORDER BY b.seq"
        )
    insert = (
        "INSERT INTO cases (recall_id, customer_id, seq, case_ref, status, quantity, lots, skus, "
        "stores, first_purchase, last_purchase, letter, call, notice_only, first_channel, "
        "phone_e164, phone_invalid, language, priority, call_zone, created_at, updated_at) "
        f"SELECT :r, b.customer_id, b.seq, :ref_prefix || {spell.zero_padded('b.seq', 6)}, "
        f"'{Status.IDENTIFIED.value}', b.quantity, b.lots, b.skus, b.stores, b.first_purchase, "
        f"b.last_purchase, {channel('letter')}, {channel('call')}, {channel('notice_only')}, "
        f"CASE WHEN {channel('call')} THEN 'call' WHEN {channel('letter')} THEN 'letter' "
        f"ELSE 'notice' END, c.phone_e164, {invalid}, c.language, {priority}, {zone}, :now, :now "
        f"{source} WHERE b.recall_id = :r AND b.batch = :batch {skip_existing}"
    )
    if with_events:
        insert = (
            f"WITH made AS ({insert} RETURNING id), events AS ("
            f"INSERT INTO case_events (case_id, at, actor, channel, old_status, new_status, note) "
            f"SELECT id, :now, '{SYSTEM}', NULL, NULL, '{Status.IDENTIFIED.value}', "
            "'identified at launch' FROM made ORDER BY id) SELECT COUNT(*) FROM made"
        )
    return text(insert).bindparams(
        _NOW,
        _RECALL,
        bindparam("ref_prefix", value=case_ref(definition.id, 0)[:-6]),
        bindparam("zone", value=definition.call.timezone),
    )


_IDENTIFIED_EVENTS = text(
    "INSERT INTO case_events (case_id, at, actor, channel, old_status, new_status, note) "
    f"SELECT x.id, :now, '{SYSTEM}', NULL, NULL, '{Status.IDENTIFIED.value}', "
    "'identified at launch' FROM cases x JOIN recall_buyers b "
    "ON b.recall_id = x.recall_id AND b.customer_id = x.customer_id "
    "WHERE b.recall_id = :r AND b.batch = :batch "
    "AND NOT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = x.id) ORDER BY x.id"
).bindparams(_NOW, _RECALL)
