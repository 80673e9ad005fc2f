"""digital reach: the e-mail outbox, SMS notices beside the pre-call texts, the customers'
answers from the self-service page, the key that signs its links, e-mail syntax at import

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "email_notices",
        sa.Column("case_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("recall_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bounced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_email_notices")),
        sa.UniqueConstraint("message_id", name=op.f("uq_email_notices_message_id")),
    )
    op.create_index("ix_email_notices_recall_state", "email_notices", ["recall_id", "state"])
    op.create_table(
        "web_answers",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("case_id", BIG_ID, nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("possession", sa.String(length=16), nullable=False),
        sa.Column("remedy", sa.String(length=20), nullable=True),
        sa.Column("store_id", sa.String(length=64), nullable=True),
        sa.Column("delivery_address", sa.Text(), nullable=True),
        sa.Column("callback_slot", sa.String(length=40), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_answers")),
    )
    op.create_index(op.f("ix_web_answers_case_id"), "web_answers", ["case_id"])
    op.create_table(
        "app_secrets",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_app_secrets")),
    )
    # The key of the self-service links, made once per database: every process sharing the
    # database signs and checks the same links, and a new database never reuses a key.
    op.bulk_insert(
        sa.table("app_secrets", sa.column("name"), sa.column("value")),
        [{"name": "page_token", "value": secrets.token_hex(32)}],
    )
    op.add_column(
        "messages",
        sa.Column("purpose", sa.String(length=16), nullable=False, server_default="pre_call"),
    )
    op.add_column("customers", sa.Column("email_valid", sa.Boolean(), nullable=True))
    # Addresses imported before this revision are checked by the next import, or on sending.


def downgrade() -> None:
    op.drop_column("customers", "email_valid")
    op.drop_column("messages", "purpose")
    op.drop_table("app_secrets")
    op.drop_index(op.f("ix_web_answers_case_id"), table_name="web_answers")
    op.drop_table("web_answers")
    op.drop_index("ix_email_notices_recall_state", table_name="email_notices")
    op.drop_table("email_notices")
