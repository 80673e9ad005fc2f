"""notified means the notice arrived: the channel a case started with, the channel of the notice
that reached it, when its remedy was agreed; fulfilments, incidents and effectiveness checks;
existing cases' figures brought to the contract's wording

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05

The data part appends to the event log, it never rewrites it:
- a case "notified" by an unanswered call (no answer, busy, voicemail, wrong number, a
  callback asked) or by a letter that came back undelivered gets a correcting event back to
  `identified`;
- a do-not-call recorded as `declined` gets a correcting event back to `contacted`, with the
  outcome `do_not_call`.
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ACTOR = "migration-0015"

# The evidence of a case's first channel: a letter planned for it (or its address set aside
# for review), and a call made before any letter of its was planned.
_LETTER_FIRST = (
    "EXISTS (SELECT 1 FROM letters l WHERE l.case_id = cases.id) "
    "OR EXISTS (SELECT 1 FROM address_reviews r WHERE r.case_id = cases.id)"
)
_CALL_FIRST = (
    "EXISTS (SELECT 1 FROM call_attempts a WHERE a.case_id = cases.id AND NOT EXISTS ("
    "SELECT 1 FROM letters l JOIN letter_batches b ON b.recall_id = l.recall_id "
    "AND b.batch_no = l.batch_no WHERE l.case_id = cases.id AND b.planned_at <= a.started_at)) "
    "AND NOT EXISTS (SELECT 1 FROM address_reviews r WHERE r.case_id = cases.id)"
)


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN on both databases: SQLite keeps migration 0006's trigger.
    op.add_column(
        "cases",
        sa.Column("first_channel", sa.String(length=8), nullable=False, server_default="notice"),
    )
    op.add_column("cases", sa.Column("notified_by", sa.String(length=16), nullable=True))
    op.add_column("cases", sa.Column("agreed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "fulfilments",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("case_id", BIG_ID, nullable=False),
        sa.Column("recall_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("amount", sa.String(length=20), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("done_by", sa.String(length=200), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfilments")),
        sa.UniqueConstraint("case_id", "kind", name=op.f("uq_fulfilments_case_id_kind")),
    )
    op.create_index(op.f("ix_fulfilments_recall_id"), "fulfilments", ["recall_id"])
    op.create_table(
        "incidents",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("case_id", BIG_ID, nullable=False),
        sa.Column("recall_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index(op.f("ix_incidents_case_id"), "incidents", ["case_id"])
    op.create_index(op.f("ix_incidents_recall_id"), "incidents", ["recall_id"])
    op.create_table(
        "effectiveness_checks",
        sa.Column("case_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("recall_id", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=1), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=True),
        sa.Column("received", sa.Boolean(), nullable=True),
        sa.Column("acted", sa.Boolean(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_effectiveness_checks")),
    )
    op.create_index(
        op.f("ix_effectiveness_checks_recall_id"), "effectiveness_checks", ["recall_id"]
    )
    _figures()


def _figures() -> None:
    run = op.get_bind().execute
    now = sa.bindparam("now", value=dt.datetime.now(dt.UTC), type_=sa.DateTime(timezone=True))

    def sql(statement: str) -> None:
        run(sa.text(statement).bindparams(now) if ":now" in statement else sa.text(statement))

    # The channel each case started with: today's, unless a letter or an earlier call says
    # otherwise. (Under `call_policy: all`, a case given both at launch reads as a letter case.)
    sql(
        "UPDATE cases SET first_channel = CASE WHEN call THEN 'call' WHEN letter THEN 'letter' "
        "ELSE 'notice' END"
    )
    sql(f"UPDATE cases SET first_channel = 'letter' WHERE {_LETTER_FIRST}")
    sql(f"UPDATE cases SET first_channel = 'call' WHERE {_CALL_FIRST}")
    # A do-not-call was recorded as a refusal: it is its own outcome of a reached call.
    dnc = (
        "cases.status = 'declined' AND cases.outcome IS NULL AND EXISTS (SELECT 1 FROM "
        "case_events e WHERE e.case_id = cases.id AND e.new_status = 'declined' "
        "AND e.note = 'asked not to be called')"
    )
    sql(
        "INSERT INTO case_events (case_id, at, actor, channel, old_status, new_status, note) "
        f"SELECT id, :now, '{ACTOR}', NULL, 'declined', 'contacted', 'correction: do-not-call is "
        f"its own outcome, not a refusal' FROM cases WHERE {dnc} ORDER BY id"
    )
    sql(f"UPDATE cases SET status = 'contacted', outcome = 'do_not_call' WHERE {dnc}")
    # Who was reached, and by what.
    posted = (  # a letter recorded as posted, and not back undelivered
        "EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = cases.id "
        "AND e.new_status = 'notified' AND e.channel = 'letter') AND NOT EXISTS (SELECT 1 "
        "FROM letters l WHERE l.case_id = cases.id AND l.returned_at IS NOT NULL)"
    )
    first_contact = (  # the channel through which the customer was first in touch
        "(SELECT e.channel FROM case_events e WHERE e.case_id = cases.id "
        "AND e.new_status = 'contacted' AND e.channel IS NOT NULL ORDER BY e.id LIMIT 1)"
    )
    sql(
        f"UPDATE cases SET notified_by = CASE WHEN {posted} THEN 'letter' "
        f"ELSE COALESCE({first_contact}, 'phone') END "
        "WHERE status IN ('contacted', 'escalated', 'declined', 'resolved')"
    )
    sql(
        f"UPDATE cases SET notified_by = 'letter' WHERE status IN ('notified', 'unreachable') "
        f"AND {posted}"
    )
    # Notified by nothing that reached the customer: back to identified, in the log first.
    unreached = "cases.status = 'notified' AND cases.notified_by IS NULL"
    sql(
        "INSERT INTO case_events (case_id, at, actor, channel, old_status, new_status, note) "
        f"SELECT id, :now, '{ACTOR}', NULL, 'notified', 'identified', 'correction: no notice "
        "reached the customer (an unanswered call or a returned letter is an attempt)' "
        f"FROM cases WHERE {unreached} ORDER BY id"
    )
    sql(f"UPDATE cases SET status = 'identified' WHERE {unreached}")
    sql(
        "UPDATE cases SET agreed_at = (SELECT MIN(e.at) FROM case_events e "
        "WHERE e.case_id = cases.id AND e.new_status = 'resolved') "
        "WHERE status = 'resolved' AND outcome IS NOT NULL AND outcome <> 'not_in_possession'"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_effectiveness_checks_recall_id"), table_name="effectiveness_checks")
    op.drop_table("effectiveness_checks")
    op.drop_index(op.f("ix_incidents_recall_id"), table_name="incidents")
    op.drop_index(op.f("ix_incidents_case_id"), table_name="incidents")
    op.drop_table("incidents")
    op.drop_index(op.f("ix_fulfilments_recall_id"), table_name="fulfilments")
    op.drop_table("fulfilments")
    # ALTER TABLE ... DROP COLUMN on both (SQLite >= 3.35): a copied table would lose 0006's
    # trigger.
    for column in ("agreed_at", "notified_by", "first_channel"):
        op.drop_column("cases", column)
