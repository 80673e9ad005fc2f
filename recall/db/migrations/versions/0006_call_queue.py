"""agents' lists in a narrow table of their own

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The statuses an agent still has to call (recall.domain.calling.WORKABLE when written).
WORKABLE = "('identified', 'notified', 'contacted', 'escalated')"
OLD_TO_CALL = f"(OLD.call AND OLD.status IN {WORKABLE})"
NEW_TO_CALL = f"(NEW.call AND NEW.status IN {WORKABLE})"

SQLITE_TRIGGER = f"""
CREATE TRIGGER cases_to_call AFTER UPDATE OF call, status ON cases
WHEN {OLD_TO_CALL} IS NOT {NEW_TO_CALL}
BEGIN
    UPDATE call_queue SET to_call = {NEW_TO_CALL} WHERE case_id = NEW.id;
END
"""
POSTGRES_FUNCTION = f"""
CREATE FUNCTION cases_to_call() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE call_queue SET to_call = {NEW_TO_CALL} WHERE case_id = NEW.id;
    RETURN NULL;
END
$$
"""
POSTGRES_TRIGGER = f"""
CREATE TRIGGER cases_to_call AFTER UPDATE OF call, status ON cases
FOR EACH ROW WHEN ({OLD_TO_CALL} IS DISTINCT FROM {NEW_TO_CALL})
EXECUTE FUNCTION cases_to_call()
"""


def upgrade() -> None:
    op.create_table(
        "call_queue",
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("to_call", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_call_queue")),
    )
    op.create_index("ix_call_queue_agent", "call_queue", ["agent_id", "to_call"])
    op.execute(
        "INSERT INTO call_queue (case_id, agent_id, to_call)"
        f" SELECT id, agent_id, (call AND status IN {WORKABLE}) FROM cases"
        " WHERE agent_id IS NOT NULL"
    )
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_queue")
        batch.drop_column("agent_id")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS cases_to_call"
        + (" ON cases" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS cases_to_call()")
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("agent_id", sa.String(length=64), nullable=True))
        batch.create_index("ix_cases_queue", ["agent_id", "priority"], unique=False)
    op.execute(
        "UPDATE cases SET agent_id ="
        " (SELECT agent_id FROM call_queue WHERE call_queue.case_id = cases.id)"
    )
    op.drop_table("call_queue")
