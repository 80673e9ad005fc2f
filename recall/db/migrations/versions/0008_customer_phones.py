"""customers' phones read once, when stored: E.164 and time zones beside the raw text

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from recall.domain.contacts import CustomerPhone

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CHUNK = 50_000


def upgrade() -> None:
    op.add_column("customers", sa.Column("phone_e164", sa.String(length=20), nullable=True))
    op.add_column("customers", sa.Column("phone_zone", sa.String(length=40), nullable=True))
    op.add_column("customers", sa.Column("phone_zones", sa.String(length=200), nullable=True))
    _read_existing_phones(op.get_bind())


def _read_existing_phones(connection: sa.Connection) -> None:
    """Customers imported before: their phones read now, written back through a temp table."""
    connection.execute(
        sa.text(
            "CREATE TEMPORARY TABLE phone_fill (customer_id VARCHAR(64) PRIMARY KEY, "
            "phone_e164 VARCHAR(20), phone_zone VARCHAR(40), phone_zones VARCHAR(200))"
        )
    )
    rows = connection.execute(
        sa.text("SELECT customer_id, phone, country FROM customers WHERE phone IS NOT NULL")
    ).all()
    insert = sa.text("INSERT INTO phone_fill VALUES (:customer_id, :e164, :zone, :zones)")
    for start in range(0, len(rows), CHUNK):
        read = []
        for customer_id, raw, country in rows[start : start + CHUNK]:
            phone = CustomerPhone.read(raw, country or "")
            if phone.e164:
                read.append(
                    {"customer_id": customer_id, "e164": phone.e164, "zone": phone.zone,
                     "zones": phone.zones}
                )  # fmt: skip
        if read:
            connection.execute(insert, read)
    connection.execute(
        sa.text(
            "UPDATE customers SET phone_e164 = f.phone_e164, phone_zone = f.phone_zone, "
            "phone_zones = f.phone_zones FROM phone_fill f "
            "WHERE f.customer_id = customers.customer_id"
        )
    )
    connection.execute(sa.text("DROP TABLE phone_fill"))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("phone_zones")
        batch.drop_column("phone_zone")
        batch.drop_column("phone_e164")
