"""What a customer's self-service page shows, and the postal code that lets them answer.

Whatever is wrong with a link (a forged or mistyped token, a case that does not exist, a
recall closed or purged), the customer gets one and the same answer: PageUnavailable. Before
they confirm their postal code the page holds the recall and their first name only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recall.calling.web_answer import RecordedAnswer, latest_answer
from recall.campaign.definitions import definition_of
from recall.clock import Clock, utc_now
from recall.db.models import Case, Customer, LoginThrottle, Product, Recall, Store
from recall.db.secrets import page_key
from recall.domain.access import Failures, ThrottlePolicy, after_failure, locked
from recall.domain.cases import Status
from recall.domain.contacts import mask_phone
from recall.domain.definition import RecallDefinition
from recall.domain.emails import mask_email
from recall.domain.errors import NotFound
from recall.domain.page_tokens import read_token
from recall.i18n import LANGUAGES
from recall.selfservice.slots import Slot, offered_slots

# Five wrong postal codes lock the link for an hour: 5 tries in 100,000 codes.
POSTAL_POLICY = ThrottlePolicy(limit=5, window=dt.timedelta(hours=1), lockout=dt.timedelta(hours=1))
DEFAULT_LANGUAGE = "fr"


class PageUnavailable(NotFound):
    """No page for this link: the same answer whatever the reason, so nothing leaks."""

    def __init__(self) -> None:
        super().__init__("this page is not available")


class Confirmation(StrEnum):
    CONFIRMED = "confirmed"
    WRONG = "wrong"
    LOCKED = "locked"  # too many wrong codes: refused for a while, even the right one


@dataclass(frozen=True)
class StoreChoice:
    store_id: str
    name: str
    city: str


@dataclass(frozen=True)
class SelfServicePage:
    token: str  # upper case, as signed
    language: str
    recall_title: str
    product: str
    hazard: str  # high | medium | low
    risk: str  # the danger, in the page's language when the recall tells it so
    hotline: str
    remedies: tuple[str, ...]
    first_name: str
    confirmed: bool = False
    closed: bool = False  # resolved already: nothing left to answer
    # Once the postal code is confirmed: what they bought and where to send or call them.
    quantity: int | None = None
    phone_hint: str = ""  # masked: the customer recognises it, nobody else learns it
    email_hint: str = ""
    stores: tuple[StoreChoice, ...] = ()
    slots: tuple[Slot, ...] = ()
    recorded: RecordedAnswer | None = None


def case_of(*, engine: Engine, token: str) -> int:
    """The case a link names; PageUnavailable for anything not signed with this database's key."""
    case_id = read_token(token, page_key(engine))
    if case_id is None:
        raise PageUnavailable()
    return case_id


def page_language(case_language: str | None, asked: str | None = None) -> str:
    """The language asked for by the page's switch, else the case's, else French."""
    for language in (asked, case_language):
        if language in LANGUAGES:
            return str(language)
    return DEFAULT_LANGUAGE


def open_page(
    *, engine: Engine, token: str, confirmed: bool = False, language: str | None = None,
    clock: Clock = utc_now,
) -> SelfServicePage:  # fmt: skip
    """The page of a link; the customer's details only once `confirmed` (their postal code)."""
    case_id = case_of(engine=engine, token=token)
    with Session(engine) as session:
        case, _, customer = open_case(session, case_id)
        definition = definition_of(session, case.recall_id)
        lang = page_language(case.language, language)
        page = SelfServicePage(
            token=token.strip().upper(), language=lang, recall_title=definition.title,
            product=_product(session, definition), hazard=definition.hazard,
            risk=definition.risk_in(lang), hotline=definition.hotline,
            remedies=definition.remedies, first_name=customer.first_name or "",
            closed=case.status == Status.RESOLVED,
        )  # fmt: skip
        if not confirmed:
            return page
        return _with_details(session, page, case, customer, definition, clock())


def open_case(session: Session, case_id: int) -> tuple[Case, Recall, Customer]:
    """The case, its recall and its customer; PageUnavailable once the recall is over."""
    found = session.execute(
        select(Case, Recall, Customer)
        .join(Recall, Recall.id == Case.recall_id)
        .join(Customer, Customer.customer_id == Case.customer_id)
        .where(Case.id == case_id)
    ).first()
    if found is None or found.Recall.closed_at is not None or found.Recall.purged_at is not None:
        raise PageUnavailable()
    return found.Case, found.Recall, found.Customer


def _product(session: Session, definition: RecallDefinition) -> str:
    if definition.product_name:
        return definition.product_name
    named = session.scalar(select(Product.name).where(Product.sku.in_(definition.skus)).limit(1))
    return named or definition.title


def _with_details(
    session: Session, page: SelfServicePage, case: Case, customer: Customer,
    definition: RecallDefinition, now: dt.datetime,
) -> SelfServicePage:  # fmt: skip
    zone = case.call_zone or definition.call.timezone
    return dataclasses.replace(
        page, confirmed=True, quantity=case.quantity,
        phone_hint=mask_phone(customer.phone_e164) if customer.phone_e164 else "",
        email_hint=mask_email(customer.email) if customer.email_valid and customer.email else "",
        stores=store_choices(session),
        slots=offered_slots(definition.call, zone, now, customer.country),
        recorded=latest_answer(session, case.id),
    )  # fmt: skip


def store_choices(session: Session) -> tuple[StoreChoice, ...]:
    """Every store, by town: a recalled product may be brought back to any of them."""
    rows = session.execute(
        select(Store.store_id, Store.name, Store.city).order_by(Store.city, Store.name)
    )
    return tuple(StoreChoice(r.store_id, r.name or r.store_id, r.city or "") for r in rows)


def confirm_postal_code(
    *, engine: Engine, token: str, postal_code: str, clock: Clock = utc_now
) -> Confirmation:
    """Whether the postal code is the customer's; after 5 wrong ones, the link is locked."""
    case_id, now = case_of(engine=engine, token=token), clock()
    try:
        return _confirm(engine, case_id, postal_code, now)
    except IntegrityError:  # a concurrent wrong code counted first: count this one again
        return _confirm(engine, case_id, postal_code, now)


def _confirm(engine: Engine, case_id: int, postal_code: str, now: dt.datetime) -> Confirmation:
    key = f"page:{case_id}"  # beside the console's login keys (user:, address:)
    with Session(engine) as session, session.begin():
        _, _, customer = open_case(session, case_id)
        record = session.get(LoginThrottle, key, with_for_update=True)
        if locked(_failures(record), now):
            return Confirmation.LOCKED
        if same_postal_code(postal_code, customer.postal_code):
            if record is not None:
                session.delete(record)
            return Confirmation.CONFIRMED
        failures = after_failure(_failures(record), POSTAL_POLICY, now)
        if record is None:
            record = LoginThrottle(key=key)
            session.add(record)
        record.failures, record.first_failure_at = failures.count, failures.first_at
        record.locked_until = failures.locked_until
        return Confirmation.LOCKED if failures.locked_until else Confirmation.WRONG


def normal_postal_code(text: str | None) -> str:
    """A postal code as compared: no spaces or dashes, upper case ("sw1a 1aa" = "SW1A1AA")."""
    return "".join(ch for ch in (text or "") if ch.isalnum()).upper()


def same_postal_code(given: str, kept: str | None) -> bool:
    """Whether the customer typed the postal code on file (compared in constant time)."""
    expected = normal_postal_code(kept).encode()
    return bool(expected) and hmac.compare_digest(normal_postal_code(given).encode(), expected)


def _failures(record: LoginThrottle | None) -> Failures | None:
    if record is None:
        return None
    return Failures(record.failures, record.first_failure_at, record.locked_until)
