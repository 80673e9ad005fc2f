"""Tables of the loyalty data, recalls, cases and their event log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    func,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column, relationship

from recall.domain.calling import WORKABLE, claim_tier
from recall.domain.contacts import CustomerPhone
from recall.domain.emails import email_valid

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# SQLite only auto-increments an INTEGER PRIMARY KEY; BigInteger elsewhere.
BigId = BigInteger().with_variant(Integer, "sqlite")


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every database.

    SQLite keeps no time zone: values are stored as UTC wall time and come back naive,
    which would make every comparison with "now" fail; they are handed back as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is not None and value.tzinfo is not None:
            return value.astimezone(dt.UTC)
        return value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Customer(Base):
    __tablename__ = "customers"
    # The hotline finds a caller by e-mail whatever its case (inbound.find_callers).
    __table_args__ = (Index("ix_customers_email_lower", func.lower(text("email"))),)

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    # The address's syntax, read when the customer is stored (domain.emails); None: no address.
    email_valid: Mapped[bool | None] = mapped_column(Boolean)
    phone: Mapped[str | None] = mapped_column(String(64))
    # The phone read once, when the customer is stored (CustomerPhone), not at every launch.
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    phone_zone: Mapped[str | None] = mapped_column(String(40))
    phone_zones: Mapped[str | None] = mapped_column(String(200))
    address_line1: Mapped[str | None] = mapped_column(String(300))
    address_line2: Mapped[str | None] = mapped_column(String(300))
    postal_code: Mapped[str | None] = mapped_column(String(20), index=True)  # hotline search
    city: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    language: Mapped[str] = mapped_column(String(8))
    do_not_call: Mapped[bool] = mapped_column(Boolean, default=False)
    extra: Mapped[str | None] = mapped_column(Text)
    row_hash: Mapped[str] = mapped_column(String(32))


@event.listens_for(Customer, "before_insert")
@event.listens_for(Customer, "before_update")
def _read_phone(_mapper: Mapper[Customer], _connection: Connection, customer: Customer) -> None:
    # Bulk imports compute these columns themselves; this keeps any ORM write in step.
    phone = CustomerPhone.read(customer.phone, customer.country or "")
    customer.phone_e164, customer.phone_zone, customer.phone_zones = (
        phone.e164,
        phone.zone,
        phone.zones,
    )
    customer.email_valid = email_valid(customer.email)


class Product(Base):
    __tablename__ = "products"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(300))
    brand: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(200))
    extra: Mapped[str | None] = mapped_column(Text)
    row_hash: Mapped[str] = mapped_column(String(32))


class Store(Base):
    __tablename__ = "stores"

    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(200))
    extra: Mapped[str | None] = mapped_column(Text)
    row_hash: Mapped[str] = mapped_column(String(32))


class Purchase(Base):
    """One receipt line; a return is a line with a negative quantity."""

    __tablename__ = "purchases"
    # No index on sku: maintaining one costs more during a bulk import (about 3.7 s per
    # million lines on SQLite) than the one full scan a recall launch makes (docs/benchmarks.md).
    # No surrogate id either: the receipt line is the key, and one index is cheaper than two.

    # Byte order on PostgreSQL: the key's index compares with memcmp, not the locale's rules
    # (nothing sorts receipts for people to read); ~8 % of a 10M-line COPY (measured).
    transaction_id: Mapped[str] = mapped_column(
        String(64).with_variant(String(64, collation="C"), "postgresql"), primary_key=True
    )
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    customer_id: Mapped[str | None] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64))
    lot: Mapped[str | None] = mapped_column(String(64))
    store_id: Mapped[str | None] = mapped_column(String(64))
    purchased_on: Mapped[dt.date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    extra: Mapped[str | None] = mapped_column(Text)


class ImportRun(Base):
    """One file imported: what was read, loaded and rejected."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    table_name: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(Text)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    rejects_file: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class Recall(Base):
    __tablename__ = "recalls"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    hazard: Mapped[str] = mapped_column(String(10))
    definition: Mapped[str] = mapped_column(Text)
    launched_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    identified_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    already_returned: Mapped[int] = mapped_column(Integer, default=0)
    untraceable_units: Mapped[int] = mapped_column(Integer, default=0)
    unknown_customer_units: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())  # final report made
    purged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())  # personal data gone


class RecallBuyer(Base):
    """A buyer found by identification, waiting to become a case (batch work list).

    Rebuilt whole by every identification and read by batch, so it is keyed by batch and
    number (integers: cheap to keep in order while 345,000 rows go in), with neither a foreign
    key nor, on PostgreSQL, the write-ahead log (migration 0009 makes it UNLOGGED): a server
    crash that empties it is followed by the next launch's identification.
    """

    __tablename__ = "recall_buyers"
    __table_args__ = (
        PrimaryKeyConstraint("recall_id", "batch", "seq"),
        {"sqlite_with_rowid": False},  # one b-tree, the key, on SQLite
    )

    recall_id: Mapped[str] = mapped_column(String(64))
    batch: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    lots: Mapped[str] = mapped_column(Text)
    skus: Mapped[str] = mapped_column(Text)
    stores: Mapped[str] = mapped_column(Text)
    first_purchase: Mapped[dt.date] = mapped_column(Date)
    last_purchase: Mapped[dt.date] = mapped_column(Date)


class Case(Base):
    """One affected customer of one recall; `status` is the result of its events."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("recall_id", "customer_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # No foreign key to recalls (nor from case_events): PostgreSQL would check it row by row
    # as cases are built in bulk (migration 0011); recalls and cases are never deleted.
    recall_id: Mapped[str] = mapped_column(String(64))  # indexed by the key above
    customer_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    case_ref: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int] = mapped_column(Integer)
    lots: Mapped[str] = mapped_column(Text)
    skus: Mapped[str] = mapped_column(Text)
    stores: Mapped[str] = mapped_column(Text)
    first_purchase: Mapped[dt.date] = mapped_column(Date)
    last_purchase: Mapped[dt.date] = mapped_column(Date)
    letter: Mapped[bool] = mapped_column(Boolean)
    call: Mapped[bool] = mapped_column(Boolean)
    notice_only: Mapped[bool] = mapped_column(Boolean)
    phone_e164: Mapped[str | None] = mapped_column(String(20), index=True)  # hotline look-up
    phone_invalid: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    # Working the call list: queue order, attempts, callbacks and who holds the case right now.
    priority: Mapped[int | None] = mapped_column(BigInteger)  # smaller is more urgent
    call_zone: Mapped[str | None] = mapped_column(String(40))  # the customer's time zone
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # unanswered
    next_call_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    callback_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    callback_agent: Mapped[str | None] = mapped_column(String(64))
    claimed_by: Mapped[str | None] = mapped_column(String(64), index=True)  # a desk's held case
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    outcome: Mapped[str | None] = mapped_column(String(20))
    escalation_reason: Mapped[str | None] = mapped_column(String(40))
    # For the reports: the channel the case was identified with (letter, call, notice), kept
    # whatever moves follow; the channel of the notice that reached the customer (None: none
    # did); when a remedy was agreed (for the age of what is agreed and not yet done).
    first_channel: Mapped[str] = mapped_column(String(8), default="notice", server_default="notice")
    notified_by: Mapped[str | None] = mapped_column(String(16))
    agreed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    holder: Mapped[QueueEntry | None] = relationship(
        primaryjoin="Case.id == foreign(QueueEntry.case_id)",
        back_populates="case",
        cascade="all, delete-orphan",
        uselist=False,
        lazy="selectin",  # loaded with the case (a second SELECT ... IN), also under FOR UPDATE
    )
    # The agent who has the case on their list (None: nobody yet), read and set on the case.
    agent_id: AssociationProxy[str | None] = association_proxy(
        "holder", "agent_id", creator=lambda agent_id: QueueEntry(agent_id=agent_id)
    )


class QueueEntry(Base):
    """Which agent a case is given to: the call list split into agents' lists.

    A narrow table of its own, so that handing 350,000 cases out writes three small columns,
    not 350,000 wide case rows and their indexes (docs/decisions.md). `to_call` mirrors
    `cases.call AND cases.status IN WORKABLE`: set when the entry is written, then kept by a
    trigger on cases (migration 0006), so that an agent's list and every agent's load are
    read from this table's index alone. No foreign key: PostgreSQL would check it row by row
    (four times the cost of the insert itself); cases are never deleted.
    """

    __tablename__ = "call_queue"
    __table_args__ = (
        # By agent, then case: an agent's list, their load and their latest entries.
        Index("ix_call_queue_agent", "agent_id", "to_call", "case_id"),
        # By agent in claim order: the next case is the first entry whose case may be called.
        Index("ix_call_queue_claim", "agent_id", "tier", "priority", "case_id",
              postgresql_where=text("to_call"), sqlite_where=text("to_call = 1")),
    )  # fmt: skip

    case_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    agent_id: Mapped[str] = mapped_column(String(64))
    to_call: Mapped[bool] = mapped_column(Boolean)
    # The claim order, mirrored from the case like `to_call` (migration 0020): see claim_tier.
    tier: Mapped[int] = mapped_column(SmallInteger, server_default="5")
    priority: Mapped[int | None] = mapped_column(BigInteger)
    case: Mapped[Case] = relationship(
        primaryjoin="Case.id == foreign(QueueEntry.case_id)", back_populates="holder"
    )


@event.listens_for(QueueEntry, "before_insert")
def _still_to_call(_mapper: Mapper[QueueEntry], _connection: Connection, entry: QueueEntry) -> None:
    # At flush time: the case's own changes of this flush are written just before.
    case = entry.case
    entry.to_call = bool(case.call) and case.status in WORKABLE
    entry.tier = claim_tier(case.status, case.escalation_reason, case.callback_at)
    entry.priority = case.priority


class CaseEvent(Base):
    """Append-only log of status changes: who, when, through which channel, old -> new."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigId, index=True)  # no foreign key: see Case
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(16))
    old_status: Mapped[str | None] = mapped_column(String(16))
    new_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)


class Fulfilment(Base):
    """A remedy carried out on a case: a refund paid, a replacement shipped, a repair done,
    the product returned to a store, collected or destroyed; one of each kind per case."""

    __tablename__ = "fulfilments"
    __table_args__ = (UniqueConstraint("case_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(
        BigId
    )  # indexed by the key above; no foreign key: see Case
    recall_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    units: Mapped[int] = mapped_column(Integer)
    amount: Mapped[str | None] = mapped_column(String(20))  # a decimal as written, e.g. "49.90"
    currency: Mapped[str | None] = mapped_column(String(3))
    done_on: Mapped[dt.date] = mapped_column(Date)
    done_by: Mapped[str | None] = mapped_column(String(200))  # a store, a carrier, a technician
    reference: Mapped[str | None] = mapped_column(String(100))  # the retailer's own reference
    source: Mapped[str] = mapped_column(String(16))  # console, cli, file, till
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class Incident(Base):
    """Harm or damage the product caused, as a customer reported it on a case."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigId, index=True)
    recall_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(60))  # e.g. burn, fire, electric shock
    severity: Mapped[str] = mapped_column(String(16))  # none, property_damage, injury, death
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    text: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class EffectivenessCheck(Base):
    """A notified case drawn for the effectiveness check's short follow-up call, and its answer."""

    __tablename__ = "effectiveness_checks"

    case_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    recall_id: Mapped[str] = mapped_column(String(64), index=True)
    level: Mapped[str] = mapped_column(String(1))
    drawn_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    # received: the customer got the notice (True/False); acted: they did what it says;
    # both None until checked; answered False: the check call reached nobody.
    answered: Mapped[bool | None] = mapped_column(Boolean)
    received: Mapped[bool | None] = mapped_column(Boolean)
    acted: Mapped[bool | None] = mapped_column(Boolean)
    checked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    checked_by: Mapped[str | None] = mapped_column(String(64))


class RecallStore(Base):
    """Affected units a store sold, for its in-store poster and the effectiveness figures."""

    __tablename__ = "recall_stores"

    recall_id: Mapped[str] = mapped_column(ForeignKey("recalls.id"), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    units_sold: Mapped[int] = mapped_column(Integer)
    untraceable_units: Mapped[int] = mapped_column(Integer)


class LetterBatch(Base):
    """One print-ready PDF: planned first, rendered later, then mailed by the print house."""

    __tablename__ = "letter_batches"

    recall_id: Mapped[str] = mapped_column(ForeignKey("recalls.id"), primary_key=True)
    batch_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    file: Mapped[str] = mapped_column(String(200))
    letters: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int | None] = mapped_column(Integer)
    planned_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    rendered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    mailed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class Letter(Base):
    """The one letter of a case: where it sits in which batch, and how it was made."""

    __tablename__ = "letters"
    __table_args__ = (Index("ix_letters_batch", "recall_id", "batch_no", "position"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    recall_id: Mapped[str] = mapped_column(String(64))
    batch_no: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)  # order in the batch (postal presort)
    postal_code: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8))
    page: Mapped[int | None] = mapped_column(Integer)  # first page in the batch file
    pages: Mapped[int | None] = mapped_column(Integer)
    template_version: Mapped[str | None] = mapped_column(String(40))
    returned_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class AddressReview(Base):
    """A letter case whose address can't be printed as NF Z10-011 asks: why, and where the
    case went instead (the call list or the public notice)."""

    __tablename__ = "address_reviews"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    recall_id: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(Text)
    moved_to: Mapped[str] = mapped_column(String(16))  # call | notice
    found_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class Agent(Base):
    """A call-centre agent: who they are, what they speak, how much they take on."""

    __tablename__ = "agents"

    agent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    languages: Mapped[str] = mapped_column(String(200))  # comma-separated, e.g. "fr,en"
    skills: Mapped[str] = mapped_column(String(300), default="")  # comma-separated
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164; rung for click-to-call
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class CallAttempt(Base):
    """One call to a customer: placed by an agent, its line status, and what the agent noted."""

    __tablename__ = "call_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    agent_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    disposition: Mapped[str | None] = mapped_column(String(20))
    outcome: Mapped[str | None] = mapped_column(String(20))
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)  # the agent's leg
    leg_sid: Mapped[str | None] = mapped_column(String(64), unique=True)  # the customer's leg
    line_status: Mapped[str | None] = mapped_column(String(20))
    answered_by: Mapped[str | None] = mapped_column(String(30))
    duration_s: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)


class Message(Base):
    """A text message sent to a customer, with its delivery status: a notice of the recall, or
    the word ahead of a call (`purpose`: notice | pre_call)."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(16), default="pre_call", server_default="pre_call")
    sent_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class EmailNotice(Base):
    """A case's e-mail notice in the outbox: queued, handed over (the end of its data is on
    its way to the server: never sent again), sent (the server took it), bounced or failed."""

    __tablename__ = "email_notices"
    __table_args__ = (Index("ix_email_notices_recall_state", "recall_id", "state"),)

    case_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    recall_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    queued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    handed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    bounced_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    detail: Mapped[str | None] = mapped_column(Text)


class WebAnswer(Base):
    """What a customer said on their self-service page."""

    __tablename__ = "web_answers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigId, index=True)
    answered_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    possession: Mapped[str] = mapped_column(String(16))  # has_it, not_anymore, returned, call_me
    remedy: Mapped[str | None] = mapped_column(String(20))
    store_id: Mapped[str | None] = mapped_column(String(64))
    delivery_address: Mapped[str | None] = mapped_column(Text)
    callback_slot: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))


class AppSecret(Base):
    """Keys made once per database (migration 0016): the self-service links' signing key."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class User(Base):
    """Someone who logs in to the console: an agent, a quality lead, reporting, an admin."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.agent_id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    language: Mapped[str | None] = mapped_column(String(8))  # None: the home language
    time_zone: Mapped[str | None] = mapped_column(String(40))  # None: the home clock


class ConsoleSession(Base):
    """A console session, kept here rather than in the cookie: the cookie holds only an opaque
    token and this table only its SHA-256, so ending a session (logout, a deactivation) ends it
    at once on every worker, and a copied cookie is worth nothing afterwards."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    data: Mapped[str] = mapped_column(Text)  # JSON: the CSRF token, flashes, dialled calls
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class LoginThrottle(Base):
    """Failed logins per key (a username, a client address), to slow a password guesser down."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
