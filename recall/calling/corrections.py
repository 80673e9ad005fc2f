"""An agent corrects the contacts of a case's customer: a phone, an e-mail, a postal address.

Each value is checked by the domain's rules (phones, e-mail syntax, NF Z10-011); a refused one
names its field and nothing is written. The customer is shared by every recall: each of their
open cases gets the facts the new value gives it, as when cases are built. The worked case's
event holds the old and new values (its recall's purge clears event notes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass, fields, replace

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from recall.calling.claiming import WorkError, claimant, hold_case
from recall.calling.correction_effects import ADDRESS, PHONE, Correction, Effects
from recall.calling.other_cases import open_cases_besides
from recall.campaign.events import record_move
from recall.clock import Clock, utc_now
from recall.db.models import (
    Case,
    Customer,
)
from recall.db.secrets import page_key
from recall.domain.addresses import address_block
from recall.domain.contacts import normalise_phone
from recall.domain.emails import email_valid
from recall.domain.reach import EMAIL

log = logging.getLogger(__name__)
CHANNEL = "console"  # the events' channel: typed in by an agent


@dataclass(frozen=True)
class Contacts:
    """A customer's contacts as the agent sees and types them ("" for none)."""

    phone: str = ""
    email: str = ""
    line1: str = ""
    line2: str = ""
    postal_code: str = ""
    city: str = ""

    def stripped(self) -> Contacts:
        return Contacts(*(" ".join(getattr(self, f.name).split()) for f in fields(self)))

    @property
    def address(self) -> tuple[str, str, str, str]:
        return (self.line1, self.line2, self.postal_code, self.city)


@dataclass(frozen=True)
class ContactCard:
    """The contacts on file, for the case page's form, and whether each can be used."""

    contacts: Contacts
    country: str
    phone_usable: bool
    email_valid: bool | None  # None: no address
    do_not_call: bool


@dataclass(frozen=True)
class Problem:
    """A value refused: its field, why (required, invalid, incomplete, foreign,
    too_many_lines, too_long, unprintable) and what the rule quotes (a country, a line)."""

    field: str
    code: str
    value: str = ""


class ContactsRefused(WorkError):
    """A correction with values the rules refuse; nothing was written."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.code}" for p in problems))
        self.problems = problems


def contact_card(*, engine: Engine, case_id: int) -> ContactCard:
    """The contacts on file of the case's customer."""
    with Session(engine) as session:
        customer = session.scalars(
            select(Customer).join(Case, Case.customer_id == Customer.customer_id)
            .where(Case.id == case_id)
        ).one()  # fmt: skip
        return contact_card_of(customer)


def contact_card_of(customer: Customer) -> ContactCard:
    """The contacts on file of a customer read already."""
    usable = customer.phone_e164 is not None
    return ContactCard(contacts_of(customer), customer.country, usable, customer.email_valid,
                       bool(customer.do_not_call))  # fmt: skip


def contacts_of(customer: Customer) -> Contacts:
    values = (customer.phone, customer.email, customer.address_line1, customer.address_line2,
              customer.postal_code, customer.city)  # fmt: skip
    return Contacts(*(value or "" for value in values)).stripped()


def correct_contacts(
    *,
    engine: Engine,
    agent_id: str,
    case_id: int,
    given: Contacts,
    home_country: str,
    sender_language: str,
    mail_domain: str,
    desk: str = "",
    clock: Clock = utc_now,
) -> Correction:
    """Correct the contacts of the case's customer, for the agent holding the case; raise
    ContactsRefused naming each refused value. `mail_domain`: the right part of Message-IDs."""
    now, given = clock(), given.stripped()
    message_ids = f"{hashlib.sha256(page_key(engine)).hexdigest()[:8]}@{mail_domain}"
    with Session(engine) as session, session.begin():
        case = hold_case(session, case_id, agent_id, claimant(agent_id, desk), now)
        customer = session.get_one(Customer, case.customer_id)
        old = contacts_of(customer)
        changed = _changed(old, given, customer.country or "")
        problems = _problems(customer, given, changed, home_country, sender_language)
        if problems:
            raise ContactsRefused(problems)
        if not changed:
            return Correction(case.case_ref)
        _write(customer, given, changed)
        session.flush()  # the customer's listener reads the phone and the e-mail again
        effects = Effects(session, customer, changed, message_ids, now)
        done = replace(effects.apply(case), changed=changed)
        others = open_cases_besides(session, case)
        for other in others:
            what = f"on case {case.case_ref} ({', '.join(changed)})"
            _noted(session, other, agent_id, effects.apply(other), what, now)
        _noted(session, case, agent_id, done, _old_and_new(old, given, changed), now)
    log.info("case %s: %s corrected by agent %s; %d other open case(s) updated",
             done.case_ref, ", ".join(changed), agent_id, len(others))  # fmt: skip
    return replace(done, other_cases=len(others))


def _changed(old: Contacts, new: Contacts, country: str) -> tuple[str, ...]:
    """The parts typed differently; a phone is the same when it reads to the same number."""
    phone = normalise_phone(new.phone, country) if new.phone else None
    same_phone = new.phone == old.phone or (phone and phone == normalise_phone(old.phone, country))
    parts = {PHONE: not same_phone, EMAIL: new.email.lower() != old.email.lower(),
             ADDRESS: new.address != old.address}  # fmt: skip
    return tuple(part for part, differs in parts.items() if differs)


def _problems(
    customer: Customer, given: Contacts, changed: tuple[str, ...], home: str, language: str
) -> tuple[Problem, ...]:
    """Every value refused, at once; a value left as it was is not checked again."""
    country, found = customer.country or home, []
    if PHONE in changed and not given.phone:
        found.append(Problem(PHONE, "required"))
    elif PHONE in changed and normalise_phone(given.phone, customer.country or "") is None:
        found.append(Problem(PHONE, "invalid", country))
    if EMAIL in changed and not email_valid(given.email):
        found.append(Problem(EMAIL, "invalid" if given.email else "required"))
    if ADDRESS in changed and not (given.line1 and given.postal_code and given.city):
        found.append(Problem(ADDRESS, "incomplete"))
    elif ADDRESS in changed:
        block = address_block(
            first_name=customer.first_name, last_name=customer.last_name, line1=given.line1,
            line2=given.line2, postal_code=given.postal_code, city=given.city, country=country,
            home_country=home, sender_language=language,
        )  # fmt: skip
        found += [_unprintable(block.problem, country)] if block.problem else []
    return tuple(found)


_TOO_LONG = re.compile(r"^'(.*)' is longer than")


def _unprintable(problem: str, country: str) -> Problem:
    """The address rule's reason (domain/addresses.py `_problem`) as a field and a code."""
    if problem.startswith("postal code"):
        return Problem("postal_code", "foreign", country)
    too_long = _TOO_LONG.match(problem)
    if too_long:
        return Problem(ADDRESS, "too_long", too_long.group(1))
    return Problem(ADDRESS, "too_many_lines" if " lines: " in problem else "unprintable", problem)


def _write(customer: Customer, given: Contacts, changed: tuple[str, ...]) -> None:
    if PHONE in changed:
        customer.phone = given.phone
    if EMAIL in changed:
        customer.email = given.email
    if ADDRESS in changed:
        customer.address_line1, customer.address_line2 = given.line1, given.line2 or None
        customer.postal_code, customer.city = given.postal_code, given.city


_SAID = {
    "back": "back on the call list",
    "do_not_call": "not back on the call list: the customer asked not to be called",
    "to_make": "a letter will be made at the next letters run",
    "not_printed_yet": "its letter, not printed yet, will carry the new address",
    "printed_already": "its letter was printed with the address before",
    "returned": "its letter came back undelivered: no second letter",
}


def _old_and_new(old: Contacts, new: Contacts, changed: tuple[str, ...]) -> str:
    """What was on file and what is now: personal data, kept in the event's note alone."""

    def said(contacts: Contacts, part: str) -> str:
        if part != ADDRESS:
            return str(getattr(contacts, part))
        line1, line2, code, city = contacts.address
        return ", ".join(p for p in (line1, line2, f"{code} {city}".strip()) if p)

    return "; ".join(
        f"{part} '{said(old, part) or '-'}' -> '{said(new, part)}'" for part in changed
    )


def _noted(
    session: Session, case: Case, actor: str, done: Correction, what: str, now: dt.datetime
) -> None:
    """The correction in the case's history, with what followed for the case."""
    then = [_SAID[k] for k in (done.call_list, done.letter) if k]
    if done.call_list == "back":
        then[0] += f" ({case.call_zone})"
    then += ["e-mail notice queued"] if done.email_queued else []
    note = "; ".join([f"contacts corrected: {what}", *then])
    record_move(session, case, actor=actor, channel=CHANNEL, note=note, clock=lambda: now)
