"""staged buyers as a work list: keyed by recall, batch and customer, no foreign key,
unlogged on PostgreSQL; cases lose the index their unique (recall_id, customer_id) key gives

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rebuilt by every identification and read by batch: one key instead of a key and an
    # index, no foreign key checked row by row, no write-ahead log (docs/decisions.md).
    op.drop_table("recall_buyers")
    _create_buyers(("recall_id", "batch", "customer_id"), with_rowid=False)
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_recall_id")  # uq_cases_recall_id_customer_id leads with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE recall_buyers SET UNLOGGED")


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.create_index("ix_cases_recall_id", ["recall_id"])
    op.drop_table("recall_buyers")
    recalls = sa.ForeignKeyConstraint(
        ["recall_id"], ["recalls.id"], name=op.f("fk_recall_buyers_recall_id_recalls")
    )
    _create_buyers(("recall_id", "customer_id"), recalls, with_rowid=True)
    op.create_index("ix_recall_buyers_batch", "recall_buyers", ["batch"])


def _create_buyers(key: tuple[str, ...], *extra: sa.Constraint, with_rowid: bool) -> None:
    """The staged buyers (nothing in them outlives a launch: recreated empty)."""
    op.create_table(
        "recall_buyers",
        sa.Column("recall_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("lots", sa.Text(), nullable=False),
        sa.Column("skus", sa.Text(), nullable=False),
        sa.Column("stores", sa.Text(), nullable=False),
        sa.Column("first_purchase", sa.Date(), nullable=False),
        sa.Column("last_purchase", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_recall_buyers")),
        *extra,
        sqlite_with_rowid=with_rowid,
    )
