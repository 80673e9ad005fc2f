"""Sending a recall's waiting SMS notices through the telephony port, each one at most once.

A notice is marked `sending` and committed before the provider is asked: after a crash between
the two, the notice stays `sending` and is never sent again (a text sent twice costs twice and
looks like a scam; one never sent leaves the case where it was). A notice goes only within the
recall's calling hours on the customer's clock, and never to a customer who asked for no calls.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from recall.campaign.definitions import definition_of
from recall.campaign.events import SYSTEM
from recall.clock import Clock, utc_now
from recall.db.models import Case, Customer, Message, Product
from recall.db.secrets import page_key
from recall.domain.calling import customer_zone, may_call_at
from recall.domain.cases import Status
from recall.domain.contacts import mask_phone, normalise_phone
from recall.domain.definition import CallPolicy, RecallDefinition
from recall.domain.errors import Refused
from recall.domain.page_tokens import make_token, page_link
from recall.domain.reach import SMS
from recall.reach.moves import move_on
from recall.reach.sms.text import NoticeTexts, load_texts
from recall.settings import PROJECT_TEMPLATES, Settings
from recall.telephony.port import Callbacks, MessageRequest, Telephony, TelephonyError

log = logging.getLogger(__name__)
NOTICE = "notice"  # messages.purpose of the notices (the pre-call texts are "pre_call")
WAITING, SENDING, QUEUED, FAILED, CANCELLED = "waiting", "sending", "queued", "failed", "cancelled"


@dataclass(frozen=True)
class SmsSettings:
    public_url: str  # where the provider reaches our webhooks
    page_base: str  # the self-service page's address, the start of every link
    hotline: str = ""  # the sender when the recall names no hotline
    home_country: str = "FR"
    home_language: str = "fr"
    templates_dir: Path = PROJECT_TEMPLATES / "scripts"
    rate: int = 10  # notices a second at most from one sender number
    sender: str = ""  # the texts' sender, when not the hotline

    @classmethod
    def from_settings(cls, settings: Settings) -> SmsSettings:
        return cls(
            public_url=settings.public_url, page_base=settings.page_base,
            hotline=settings.hotline, home_country=settings.home_country,
            home_language=settings.home_language,
            templates_dir=settings.templates_dir / "scripts", rate=settings.sms_rate,
            sender=settings.sms_sender,
        )  # fmt: skip


@dataclass(frozen=True)
class SmsReport:
    sent: int = 0  # handed to the provider
    waiting_for_hours: int = 0  # outside the calling hours on the customer's clock: a later pass
    skipped: int = 0  # cancelled: the case no longer needs it, or the customer asked for no calls
    failed: int = 0  # refused by the provider for good: the case moved on
    deferred: int = 0  # the provider unavailable: still waiting, the pass stopped there
    in_doubt: int = 0  # left `sending` by an earlier stop, no answer yet: never sent again


@dataclass(frozen=True)
class _Claim:
    """A notice marked `sending`, with what its text needs."""

    message_id: int
    case_id: int
    case_ref: str
    phone: str
    language: str


class Pacing:
    """At most `rate` sends a second from each sender: each send waits for its slot."""

    def __init__(self, rate: int, sleep: Callable[[float], None] = time.sleep) -> None:
        self.gap, self.sleep = 1 / rate, sleep
        self.slots: dict[str, float] = {}

    def wait(self, sender: str) -> None:
        now = time.monotonic()
        slot = max(now, self.slots.get(sender, now))
        if slot > now:
            self.sleep(slot - now)
        self.slots[sender] = slot + self.gap


def send_sms_notices(
    *,
    engine: Engine,
    telephony: Telephony,
    settings: SmsSettings,
    recall_id: str,
    clock: Clock = utc_now,
    limit: int | None = None,
) -> SmsReport:
    """Send the recall's waiting SMS notices that may go now, at most `limit` of them."""
    with Session(engine) as session:
        definition = definition_of(session, recall_id)
        texts = _texts(session, definition, settings)
    sender = _sender(definition, settings)
    key, pacing, counts = page_key(engine), Pacing(settings.rate), Counter[str]()
    counts["in_doubt"] = len(_notices(engine, recall_id, SENDING, no_sid=True))
    for message_id in _notices(engine, recall_id, WAITING):
        if limit is not None and counts["sent"] + counts["failed"] >= limit:
            break
        claim = _claim(engine, message_id, definition.call, clock())
        if not isinstance(claim, _Claim):
            counts[claim] += 1
            continue
        link = page_link(settings.page_base, make_token(claim.case_id, key))
        request = MessageRequest(
            to=claim.phone, sender=sender, body=texts.body(claim.language, link),
            status_url=Callbacks(settings.public_url).message_status(claim.message_id),
        )  # fmt: skip
        pacing.wait(sender)
        counts[_send(engine, telephony, claim, request, clock)] += 1
        if counts["deferred"]:
            break  # the provider is not answering: the rest wait for the next pass
    return SmsReport(**{field: counts[field] for field in SmsReport.__dataclass_fields__})


def _sender(definition: RecallDefinition, settings: SmsSettings) -> str:
    """RECALL_SMS_SENDER (a number or an alphanumeric sender ID: a freephone number can't
    send texts in France), else the recall's hotline."""
    if settings.sender:
        return settings.sender
    number = normalise_phone(definition.hotline or settings.hotline, settings.home_country)
    if number is None:
        raise Refused(f"recall {definition.id}: no hotline number to send SMS notices from")
    return number


def _texts(session: Session, definition: RecallDefinition, settings: SmsSettings) -> NoticeTexts:
    """The notice's texts, naming the product as the recall does, else as the catalogue does."""
    names = select(Product.name).where(Product.sku.in_(definition.skus), Product.name.is_not(None))
    product = definition.product_name or session.scalar(names.order_by(Product.sku).limit(1))
    return load_texts(
        settings.templates_dir, home_language=settings.home_language,
        product=product or definition.title, page_base=settings.page_base,
    )  # fmt: skip


def _notices(engine: Engine, recall_id: str, status: str, *, no_sid: bool = False) -> list[int]:
    """The ids of the recall's notices at `status` (`no_sid`: those the provider never named)."""
    query = (
        select(Message.id).join(Case, Case.id == Message.case_id)
        .where(Case.recall_id == recall_id, Message.purpose == NOTICE, Message.status == status)
    )  # fmt: skip
    if no_sid:
        query = query.where(Message.sid.is_(None))
    with Session(engine) as session:
        return list(session.scalars(query.order_by(Message.id)))


def _claim(engine: Engine, message_id: int, policy: CallPolicy, now: dt.datetime) -> _Claim | str:
    """Mark the notice `sending` (committed) when it may go now; else what became of it."""
    with Session(engine) as session, session.begin():
        found = session.execute(
            select(Case, Customer.do_not_call, Customer.country)
            .join(Message, Message.case_id == Case.id)
            .join(Customer, Customer.customer_id == Case.customer_id)
            .where(Message.id == message_id, Message.status == WAITING)
        ).first()  # fmt: skip
        if found is None:
            return "gone"  # taken by another pass meanwhile
        case, do_not_call, country = found
        if case.status != Status.IDENTIFIED or do_not_call or not case.phone_e164:
            return _cancel(session, message_id, case, bool(do_not_call), now)
        zone = case.call_zone or customer_zone(case.phone_e164, policy.timezone)
        if not may_call_at(policy, zone, now, country=country):  # a public holiday too
            return "waiting_for_hours"
        if not _take(session, message_id, WAITING, SENDING, now, sent_at=now):
            return "gone"
        return _Claim(message_id, case.id, case.case_ref, case.phone_e164, case.language)


def _cancel(
    session: Session, message_id: int, case: Case, do_not_call: bool, now: dt.datetime
) -> str:
    if not _take(session, message_id, WAITING, CANCELLED, now):
        return "gone"
    if case.status == Status.IDENTIFIED:  # no text may reach this customer: the next channel
        why = "not sent: the customer asked not to be called" if do_not_call else "no mobile"
        move_on(session, case, SMS, actor=SYSTEM, now=now, why=why)
    return "skipped"


def _take(
    session: Session, message_id: int, old: str, new: str, now: dt.datetime, **values: object
) -> bool:
    """Move the notice from `old` to `new` unless someone else moved it first."""
    moved = session.execute(
        update(Message).where(Message.id == message_id, Message.status == old)
        .values(status=new, updated_at=now, **values)
    )  # fmt: skip
    return bool(moved.rowcount)  # type: ignore[attr-defined]


def _send(
    engine: Engine, telephony: Telephony, claim: _Claim, request: MessageRequest, clock: Clock
) -> str:
    try:
        sid = telephony.send_message(request)
    except TelephonyError as exc:
        return _not_sent(engine, claim, exc, clock())
    with Session(engine) as session, session.begin():
        # A status callback may have come first: it set the sid and moved the status on.
        session.execute(update(Message).where(Message.id == claim.message_id,
                                              Message.sid.is_(None)).values(sid=sid))  # fmt: skip
        _take(session, claim.message_id, SENDING, QUEUED, clock())
    log.info("case %s: SMS notice %s sent to %s", claim.case_ref, sid, mask_phone(claim.phone))
    return "sent"


def _not_sent(engine: Engine, claim: _Claim, exc: TelephonyError, now: dt.datetime) -> str:
    """A refusal for good fails the notice and moves the case on; else it waits again."""
    log.warning("case %s: SMS notice not sent: %s", claim.case_ref, exc)  # numbers masked
    with Session(engine) as session, session.begin():
        if not exc.permanent:
            # The provider answered "not now" or was not reached: the text did not leave.
            _take(session, claim.message_id, SENDING, WAITING, now)
            return "deferred"
        if _take(session, claim.message_id, SENDING, FAILED, now):
            case = session.get_one(Case, claim.case_id)
            move_on(session, case, SMS, actor=SYSTEM, now=now, why=f"refused: {exc}")
    return "failed"
