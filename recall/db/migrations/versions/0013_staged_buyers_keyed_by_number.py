"""staged buyers keyed by recall, batch and number: integers compare in a few instructions
where a card number compares by the locale's rules, on every row a launch stages

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _recreate_buyers(("recall_id", "batch", "seq"))


def downgrade() -> None:
    _recreate_buyers(("recall_id", "batch", "customer_id"))


def _recreate_buyers(key: tuple[str, ...]) -> None:
    """Nothing in the staged buyers outlives a launch (a launch stopped between identifying
    and building its cases identifies again when run again): recreated empty, with `key`."""
    op.drop_table("recall_buyers")
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
        sqlite_with_rowid=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE recall_buyers SET UNLOGGED")
