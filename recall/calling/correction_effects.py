"""What a customer's corrected contacts do to one of their cases: its number and clock, the
call list again, an e-mail notice queued, a letter planned or re-addressed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from recall.calling.post_state import letter_state
from recall.campaign.definitions import definition_of
from recall.db.models import (
    AddressReview,
    CallAttempt,
    Case,
    Customer,
    EmailNotice,
    Letter,
    LetterBatch,
    Message,
)
from recall.domain.calling import WORKABLE, Disposition, customer_zone
from recall.domain.cases import Status, choose_channels
from recall.domain.definition import RecallDefinition
from recall.domain.message_status import MESSAGE_FINAL
from recall.domain.reach import EMAIL, Reach, next_digital

PHONE, ADDRESS = "phone", "address"  # the parts corrected (and EMAIL)


@dataclass(frozen=True)
class Correction:
    """What changed (phone, email, address) and what followed for the case: `call_list`
    "back" or "do_not_call"; `letter` "to_make", "not_printed_yet", "printed_already" or
    "returned"."""

    case_ref: str
    changed: tuple[str, ...] = ()
    call_list: str | None = None
    email_queued: bool = False
    letter: str | None = None
    other_cases: int = 0  # the customer's other open cases, given the new facts too


@dataclass
class Effects:
    """What the customer's new contacts do to one of their cases."""

    session: Session
    customer: Customer
    changed: tuple[str, ...]
    message_ids: str  # the right part of the Message-IDs of this database's e-mails
    now: dt.datetime

    def apply(self, case: Case) -> Correction:
        definition = definition_of(self.session, case.recall_id)
        open_ = Status(case.status) in WORKABLE
        call_list = self._phone(case, definition) if PHONE in self.changed else None
        queued = open_ and EMAIL in self.changed and self._email(case, definition)
        letter = self._letter(case, definition) if open_ and ADDRESS in self.changed else None
        return Correction(case.case_ref, call_list=call_list, email_queued=queued, letter=letter)

    def _phone(self, case: Case, definition: RecallDefinition) -> str | None:
        """The number and its clock; the call list again when it was off for want of one."""
        had_phone, e164 = case.phone_e164 is not None, self.customer.phone_e164
        case.phone_e164, case.phone_invalid = e164, False
        case.call_zone = customer_zone(e164, definition.call.timezone)
        if case.call or not _off_for_want_of_a_phone(self.session, case, had_phone, definition):
            return None
        if self.customer.do_not_call:
            return "do_not_call"
        case.call, case.notice_only = True, False
        return "back"

    def _email(self, case: Case, definition: RecallDefinition) -> bool:
        """The recall's e-mail (as reach/queue.py queues it), when it is the case's next
        notice, the case had none and the customer was not notified yet."""
        if not self.customer.email_valid or case.status != Status.IDENTIFIED:
            return False
        if EMAIL not in definition.digital or self.session.get(EmailNotice, case.id) is not None:
            return False
        texting = self.session.scalar(select(exists().where(
            Message.case_id == case.id, Message.purpose == "notice",
            Message.status.not_in(MESSAGE_FINAL),
        )))  # fmt: skip
        if next_digital(Reach(email=True, mobile=bool(texting)), definition.digital) != EMAIL:
            return False
        self.session.add(EmailNotice(
            case_id=case.id, recall_id=case.recall_id, state="queued", queued_at=self.now,
            message_id=f"<{case.case_ref}.{self.message_ids}>",
        ))  # fmt: skip
        return True

    def _letter(self, case: Case, definition: RecallDefinition) -> str | None:
        """A case without a letter gets one at the next letters run (off the address-review
        list); a letter planned prints the new address; one printed or returned stays."""
        if "letter" not in definition.notify:
            return None
        letter = self.session.get(Letter, case.id)
        if letter is None:
            case.letter, case.notice_only = True, False
            review = self.session.get(AddressReview, case.id)
            if review is not None:
                self.session.delete(review)
            return "to_make"
        if letter.returned_at is not None:
            return "returned"
        rendered = self.session.scalar(select(LetterBatch.rendered_at).where(
            LetterBatch.recall_id == letter.recall_id, LetterBatch.batch_no == letter.batch_no
        ))  # fmt: skip
        if rendered is None:
            letter.postal_code = self.customer.postal_code  # its place in the postal presort
            return "not_printed_yet"
        return "printed_already"


def _off_for_want_of_a_phone(
    session: Session, case: Case, had_phone: bool, definition: RecallDefinition
) -> bool:
    """An open case whose last call was a wrong number, or which had no phone to call and
    would have been called with one (the channel rule it was built with, its letter as it
    stands)."""
    if Status(case.status) not in WORKABLE:
        return False
    last_call = session.scalar(
        select(CallAttempt.disposition)
        .where(CallAttempt.case_id == case.id, CallAttempt.disposition.is_not(None))
        .order_by(CallAttempt.id.desc())
        .limit(1)
    )
    if last_call == Disposition.WRONG_NUMBER:
        return True
    _sent, returned = letter_state(session, case.id)
    return not had_phone and choose_channels(
        has_address=case.letter and not returned, has_phone=True, do_not_call=False,
        call_policy=definition.call_policy,
    ).call  # fmt: skip
