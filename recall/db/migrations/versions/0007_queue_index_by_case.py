"""agents' lists indexed by case too: the latest entries of a list read from the index

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On PostgreSQL an agent's entries came out of (agent_id, to_call) in no useful order, so
    # a rebalance sorted every list to find its latest cases (docs/decisions.md).
    op.drop_index("ix_call_queue_agent", table_name="call_queue")
    op.create_index("ix_call_queue_agent", "call_queue", ["agent_id", "to_call", "case_id"])
    if op.get_bind().dialect.name == "postgresql":
        # The key is a case id, never drawn from a sequence (0006 made one by default).
        op.execute("ALTER TABLE call_queue ALTER COLUMN case_id DROP DEFAULT")
        op.execute("DROP SEQUENCE IF EXISTS call_queue_case_id_seq")


def downgrade() -> None:
    op.drop_index("ix_call_queue_agent", table_name="call_queue")
    op.create_index("ix_call_queue_agent", "call_queue", ["agent_id", "to_call"])
