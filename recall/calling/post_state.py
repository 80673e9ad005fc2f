"""What the post knows of a case's customer, for the consequences of a call: an address to
write to, a letter sent, a letter come back."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from recall.db.models import Case, Customer, Letter
from recall.domain.cases import usable_address


def letter_state(session: Session, case_id: int) -> tuple[bool, bool]:
    """(a letter went out and stands, it came back undelivered)."""
    letter = session.get(Letter, case_id)
    if letter is None:
        return False, False
    return letter.returned_at is None, letter.returned_at is not None


_POST = (
    select(Customer.address_line1, Customer.postal_code, Customer.city, Letter.case_id,
           Letter.returned_at)
    .select_from(Customer)
    .outerjoin(Letter, Letter.case_id == bindparam("case_id"))
    .where(Customer.customer_id == bindparam("customer_id"))
)  # fmt: skip


def post_state(session: Session, case: Case) -> tuple[bool, bool, bool]:
    """(the customer has a usable address, a letter went out and stands, it came back
    undelivered), in one statement."""
    found = (
        session.connection()
        .execute(_POST, {"case_id": case.id, "customer_id": case.customer_id})
        .first()
    )
    if found is None:  # no customer row: no address, the letter read alone
        return (False, *letter_state(session, case.id))
    line1, postal_code, city, letter, returned_at = found
    sent = letter is not None and returned_at is None
    return usable_address(line1, postal_code, city), sent, returned_at is not None
