"""The inbound desk: finding the case of a customer who calls the hotline.

A caller is found by the reference on their letter (whole, or its number: "000211", "211"),
their phone number, their last name with their postal code, or their e-mail address. The
desk sees just enough to tell callers apart (first name and last initial, postal code), and
only the cases it found may be opened. Each look-up is one indexed read at full scale: the
unique case reference, `cases.phone_e164`, `customers.postal_code` or `lower(customers.email)`
(the customers' two want an index each), then cases by their (recall, customer) key.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Engine, func, select
from sqlalchemy.orm import Session

from recall.calling.queue import held_by
from recall.db.models import Case, Customer, QueueEntry, Recall
from recall.domain.contacts import normalise_phone
from recall.domain.errors import Refused
from recall.identification.cases import case_ref

SHOWN = 20  # callers listed at most: a caller is told apart among a few, never browsed
_TAIL = re.compile(r"\d{1,7}")  # the reference's number, as read out: "000211" or "211"
_REFERENCE = re.compile(r"[A-Z0-9-]*[A-Z][A-Z0-9-]*-\d+")  # R-2026-014-000211
_SEPARATORS = re.compile(r"[\s'’\-.]+")


@dataclass(frozen=True)
class Caller:
    """A case the search found, as much of it as tells one caller from another."""

    case_id: int
    case_ref: str
    recall_title: str
    customer: str  # first name and last initial: "Élodie L."
    postal_code: str
    status: str
    agent_id: str | None  # whose list the case is on: the call takes it over


@dataclass(frozen=True)
class Lookup:
    """What a typed search asks for: its kind and the key to look for."""

    kind: str  # reference, tail, phone, name or email
    key: str
    postal_codes: tuple[str, ...] = ()  # with a name: as typed, and without spaces


def read_search(text: str, country: str = "FR") -> Lookup | None:
    """The look-up a typed text asks for; None for one that can match nothing; Refused for a
    name without its postal code (a name alone would list strangers)."""
    text = " ".join(text.split())
    if "@" in text:
        return Lookup("email", text.lower())  # as the database's lower() reads the column
    if _TAIL.fullmatch(text):
        return Lookup("tail", str(int(text))) if int(text) else None
    if _REFERENCE.fullmatch(text.upper()):
        return Lookup("reference", text.upper())
    if not any(ch.isalpha() for ch in text):
        phone = normalise_phone(text, country)
        return Lookup("phone", phone) if phone else None
    return _name_lookup(text)


def _name_lookup(text: str) -> Lookup:
    words = text.split()
    name = folded(" ".join(w for w in words if not any(ch.isdigit() for ch in w)))
    typed = " ".join(w for w in words if any(ch.isdigit() for ch in w)).upper()
    code = compact_postal_code(typed)
    if not code:
        raise Refused(
            "a name alone would list strangers: add the caller's postal code (e.g. Laurent 69001)"
        )
    if not name:
        raise Refused("add the caller's last name to the postal code (e.g. Laurent 69001)")
    return Lookup("name", name, tuple(sorted({typed, code})))


def folded(name: str) -> str:
    """A name as compared: no accents, no case, hyphens and apostrophes as spaces."""
    bare = unicodedata.normalize("NFKD", name)
    bare = "".join(ch for ch in bare if not unicodedata.combining(ch)).casefold()
    return " ".join(part for part in _SEPARATORS.split(bare) if part)


def compact_postal_code(text: str | None) -> str:
    """A postal code as compared: letters and digits, upper case ("sw1a 1aa" = "SW1A1AA")."""
    return "".join(ch for ch in (text or "") if ch.isalnum()).upper()


def find_callers(*, engine: Engine, query: str, country: str = "FR") -> list[Caller]:
    """The cases a hotline caller may be, newest recall first (at most SHOWN); raises Refused
    for a name typed without a postal code."""
    lookup = read_search(query, country)
    if lookup is None:
        return []
    with Session(engine) as session:
        matches = _matches(session, lookup)
        return [] if matches is None else _callers(session, matches)


def _matches(session: Session, lookup: Lookup) -> Sequence[ColumnElement[bool]] | None:
    """The cases' filter: a reference or a phone in any recall, as today; a number, a name or
    an address among the open recalls only (they find more than one case by nature)."""
    if lookup.kind == "reference":
        return [Case.case_ref == lookup.key]
    if lookup.kind == "phone":
        return [Case.phone_e164 == lookup.key]
    open_recalls = list(session.scalars(select(Recall.id).where(Recall.closed_at.is_(None))))
    if not open_recalls:
        return None
    if lookup.kind == "tail":
        return [Case.case_ref.in_([case_ref(r, int(lookup.key)) for r in open_recalls])]
    customers = _by_name(session, lookup) if lookup.kind == "name" else _by_email(session, lookup)
    if not customers:
        return None
    return [Case.recall_id.in_(open_recalls), Case.customer_id.in_(customers)]


def _by_name(session: Session, lookup: Lookup) -> list[str]:
    """Customers at the postal code whose last name (or first and last name) is the one
    typed; names are compared here, as a database compares accents in its own ways."""
    rows = session.execute(
        select(Customer.customer_id, Customer.first_name, Customer.last_name).where(
            Customer.postal_code.in_(lookup.postal_codes)
        )
    )
    return [row.customer_id for row in rows if lookup.key in _names(row.first_name, row.last_name)]


def _names(first: str | None, last: str | None) -> set[str]:
    """The ways a caller gives their name: last, first and last, last and first."""
    last_name, first_name = folded(last or ""), folded(first or "")
    if not last_name:
        return set()
    return {last_name, f"{first_name} {last_name}".strip(), f"{last_name} {first_name}".strip()}


def _by_email(session: Session, lookup: Lookup) -> list[str]:
    return list(
        session.scalars(
            select(Customer.customer_id).where(func.lower(Customer.email) == lookup.key)
        )
    )


def _callers(session: Session, matches: Sequence[ColumnElement[bool]]) -> list[Caller]:
    rows = session.execute(
        select(
            Case.id,
            Case.case_ref,
            Recall.title,
            Customer.first_name,
            Customer.last_name,
            Customer.postal_code,
            Case.status,
            QueueEntry.agent_id,
        )
        .outerjoin(*held_by())
        .join(Recall, Recall.id == Case.recall_id)
        .join(Customer, Customer.customer_id == Case.customer_id)
        .where(*matches)
        .order_by(Recall.launched_at.desc(), Case.id)
        .limit(SHOWN)
    )
    return [
        Caller(
            r.id,
            r.case_ref,
            r.title,
            short_name(r.first_name, r.last_name),
            r.postal_code or "-",
            r.status,
            r.agent_id,
        )
        for r in rows
    ]


def short_name(first: str | None, last: str | None) -> str:
    """First name and last initial ("Élodie L."): enough to tell callers apart."""
    initial = f"{last.strip()[:1].upper()}." if last and last.strip() else ""
    return " ".join(part for part in ((first or "").strip(), initial) if part) or "(no name)"


def postal_code_of(*, engine: Engine, case_id: int) -> str:
    """The case's postal code on file, for the inbound script's identity check ("-": none)."""
    with Session(engine) as session:
        code = session.scalar(
            select(Customer.postal_code)
            .join(Case, Case.customer_id == Customer.customer_id)
            .where(Case.id == case_id)
        )
    return code or "-"
