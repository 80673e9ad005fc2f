"""agents' lists kept in the order their cases are claimed: the next case read from one index

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def tier(row: str) -> str:
    """SQL: the claim's first key for a case `row` (recall.calling.queue.claim_tier when
    written): injuries, other escalations, then ordinary cases; a callback first in each."""
    return (
        f"(CASE WHEN {row}.status = 'escalated' THEN"
        f" (CASE WHEN {row}.escalation_reason = 'health' THEN 0 ELSE 2 END) ELSE 4 END"
        f" + CASE WHEN {row}.callback_at IS NULL THEN 1 ELSE 0 END)"
    )


CHANGED = f"({tier('OLD')} IS NOT {tier('NEW')} OR OLD.priority IS NOT NEW.priority)"
SET = f"tier = {tier('NEW')}, priority = NEW.priority"
SQLITE_TRIGGER = f"""
CREATE TRIGGER cases_claim_order AFTER UPDATE OF status, escalation_reason, callback_at, priority
ON cases WHEN {CHANGED}
BEGIN
    UPDATE call_queue SET {SET} WHERE case_id = NEW.id;
END
"""
POSTGRES_FUNCTION = f"""
CREATE FUNCTION cases_claim_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE call_queue SET {SET} WHERE case_id = NEW.id;
    RETURN NULL;
END
$$
"""
POSTGRES_TRIGGER = f"""
CREATE TRIGGER cases_claim_order
AFTER UPDATE OF status, escalation_reason, callback_at, priority ON cases
FOR EACH ROW WHEN {CHANGED.replace(" IS NOT ", " IS DISTINCT FROM ")}
EXECUTE FUNCTION cases_claim_order()
"""


def upgrade() -> None:
    # Added in place, not by copying the table (batch mode on SQLite), which the trigger of
    # 0006 on cases, naming call_queue, forbids.
    op.add_column("call_queue", sa.Column("tier", sa.SmallInteger(), nullable=False,
                                          server_default="5"))  # fmt: skip
    op.add_column("call_queue", sa.Column("priority", sa.BigInteger(), nullable=True))
    op.execute(
        f"UPDATE call_queue SET tier = (SELECT {tier('c')} FROM cases c WHERE c.id = case_id),"
        " priority = (SELECT c.priority FROM cases c WHERE c.id = case_id)"
    )
    # SQLite uses a partial index only when the query repeats its condition as written, and
    # SQLAlchemy writes a boolean column there as `to_call = 1`.
    op.create_index(
        "ix_call_queue_claim", "call_queue", ["agent_id", "tier", "priority", "case_id"],
        postgresql_where=sa.text("to_call"), sqlite_where=sa.text("to_call = 1"),
    )  # fmt: skip
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute("DROP TRIGGER IF EXISTS cases_claim_order" + (" ON cases" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS cases_claim_order()")
    op.drop_index("ix_call_queue_claim", table_name="call_queue")
    op.execute("ALTER TABLE call_queue DROP COLUMN priority")  # SQLite 3.35+, in place
    op.execute("ALTER TABLE call_queue DROP COLUMN tier")
