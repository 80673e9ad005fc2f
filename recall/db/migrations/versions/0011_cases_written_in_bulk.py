"""cases and their events written in bulk: no foreign key from a case to its recall nor from
an event to its case (PostgreSQL checks each with a trigger per row, a third of the time
of building 50,000 cases)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _call_queue_migration() -> ModuleType:
    """Migration 0006, for the SQLite trigger it put on cases."""
    spec = importlib.util.spec_from_file_location(
        "m0006", Path(__file__).with_name("0006_call_queue.py")
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("fk_case_events_case_id_cases", "case_events", type_="foreignkey")
        op.drop_constraint("fk_cases_recall_id_recalls", "cases", type_="foreignkey")
        return
    # SQLite copies a table to drop its constraint; the letters, messages and calls that
    # refer to a case are checked once the copy has taken the old table's name, at commit.
    op.execute("PRAGMA defer_foreign_keys = ON")
    with op.batch_alter_table("case_events") as batch:
        batch.drop_constraint("fk_case_events_case_id_cases", type_="foreignkey")
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("fk_cases_recall_id_recalls", type_="foreignkey")
    op.execute(_call_queue_migration().SQLITE_TRIGGER)  # a copied table leaves its triggers behind


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA defer_foreign_keys = ON")
    with op.batch_alter_table("cases") as batch:
        batch.create_foreign_key("fk_cases_recall_id_recalls", "recalls", ["recall_id"], ["id"])
    with op.batch_alter_table("case_events") as batch:
        batch.create_foreign_key("fk_case_events_case_id_cases", "cases", ["case_id"], ["id"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(_call_queue_migration().SQLITE_TRIGGER)
