"""the case a desk holds found by an index: next-case looked for it by reading every case

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_cases_claimed_by"), "cases", ["claimed_by"])


def downgrade() -> None:
    op.drop_index(op.f("ix_cases_claimed_by"), table_name="cases")
