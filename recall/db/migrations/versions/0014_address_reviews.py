"""letter cases whose address can't be printed as NF Z10-011 asks, with the reason

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "address_reviews",
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("recall_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("moved_to", sa.String(length=16), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_address_reviews_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_address_reviews")),
    )
    op.create_index(op.f("ix_address_reviews_recall_id"), "address_reviews", ["recall_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_address_reviews_recall_id"), table_name="address_reviews")
    op.drop_table("address_reviews")
