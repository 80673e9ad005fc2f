"""A customer's answer as the page's form sends it, and the checks it must pass.

Each refusal names the field to fix and says why in a message id (English) that the page
shows in the customer's language.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from recall.db.models import Customer, Store
from recall.domain.contacts import normalise_phone
from recall.domain.definition import RecallDefinition
from recall.domain.emails import email_valid
from recall.domain.errors import Refused
from recall.selfservice.slots import Slot, slot_named


class Possession(StrEnum):
    HAS_IT = "has_it"
    NOT_ANYMORE = "not_anymore"
    RETURNED = "returned"  # brought back to a store already
    CALL_ME = "call_me"


# Where each remedy is carried out: a refund at the store the customer picks, a repair
# collected from their address (and brought back), a replacement at a store or delivered.
PLACES = {"refund": ("store",), "replacement": ("store", "address"), "repair": ("address",)}
MAX_ADDRESS = 500


class AnswerRefused(Refused):
    """An answer the page must ask again: `field` to fix, the message (an English msgid)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Answer:
    possession: str
    remedy: str = ""
    store_id: str = ""
    delivery_address: str = ""
    callback_slot: str = ""
    phone: str = ""  # a correction, when given
    email: str = ""
    language: str = "fr"

    def cleaned(self) -> Answer:
        """Only the fields the answer uses: a store kept for a refund, a slot for a call."""
        places = PLACES.get(self.remedy, ()) if self.possession == Possession.HAS_IT else ()
        store = self.store_id.strip() if "store" in places else ""
        address = "\n".join(line.strip() for line in self.delivery_address.strip().splitlines())
        return dataclasses.replace(
            self,
            remedy=self.remedy if self.possession == Possession.HAS_IT else "",
            store_id=store,
            delivery_address=address if "address" in places and not store else "",
            callback_slot=self.callback_slot if self.possession == Possession.CALL_ME else "",
            phone=self.phone.strip(), email=self.email.strip(),
        )  # fmt: skip

    def key(self) -> tuple[str | None, ...]:
        """What a repeated answer repeats (a double click): all but the corrections."""
        said = (self.remedy, self.store_id, self.delivery_address, self.callback_slot)
        return (self.possession, *(value or None for value in said))


@dataclass(frozen=True)
class Checked:
    answer: Answer
    slot: Slot | None = None  # the callback asked for


def check_answer(
    session: Session, answer: Answer, definition: RecallDefinition, customer: Customer,
    zone: str, now: dt.datetime,
) -> Checked:  # fmt: skip
    """The answer, checked against the recall, the stores and the calling hours."""
    if answer.possession not in tuple(Possession):
        raise AnswerRefused("possession", "Tell us whether you still have the product.")
    check_contacts(answer, customer)
    if answer.possession == Possession.HAS_IT:
        _check_remedy(session, answer, definition)
    if answer.possession != Possession.CALL_ME:
        return Checked(answer)
    slot = slot_named(answer.callback_slot, definition.call, zone, now, customer.country)
    if slot is None:
        raise AnswerRefused("callback_slot", "Choose a time for our call.")
    if not (answer.phone or customer.phone_e164):
        raise AnswerRefused("phone", "Give us a phone number to call you on.")
    return Checked(answer, slot)


def _check_remedy(session: Session, answer: Answer, definition: RecallDefinition) -> None:
    if answer.remedy not in definition.remedies:
        raise AnswerRefused("remedy", "Choose one of the remedies offered.")
    places = PLACES.get(answer.remedy, ())
    if answer.store_id and session.get(Store, answer.store_id) is None:
        raise AnswerRefused("store_id", "Choose a store from the list.")
    if answer.store_id or answer.delivery_address:
        if len(answer.delivery_address) > MAX_ADDRESS:
            raise AnswerRefused("delivery_address", "This address is too long.")
        return
    if "address" not in places:
        if session.scalar(select(Store.store_id).limit(1)) is None:
            return  # no store to choose from: the customer goes to any of them
        raise AnswerRefused("store_id", "Choose the store where you will bring the product.")
    if "store" not in places:
        raise AnswerRefused("delivery_address", "Give the address where we collect the product.")
    raise AnswerRefused("store_id", "Choose a store, or give a delivery address.")


def check_contacts(answer: Answer, customer: Customer) -> None:
    """A new phone or e-mail, when given, must be one we can use."""
    if answer.phone and normalise_phone(answer.phone, customer.country) is None:
        raise AnswerRefused("phone", "This phone number is not valid.")
    if answer.email and not email_valid(answer.email):
        raise AnswerRefused("email", "This e-mail address is not valid.")
