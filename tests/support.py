"""Small builders for test data: memorable customers and receipts straight into the database."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from recall.db.models import Customer, Purchase
from recall.domain.definition import RecallDefinition, parse_definition

DRILL = "3276000123456"
SANDER = "3276000999999"
_receipts = itertools.count(1)


def customer(customer_id: str, **fields) -> Customer:
    values = {
        "first_name": "Élodie",
        "last_name": "Lefèvre",
        "phone": None,
        "address_line1": "3 rue de l'Église",
        "postal_code": "69001",
        "city": "Lyon",
        "country": "FR",
        "language": "fr",
        "do_not_call": False,
        "row_hash": "x",
    }
    values.update(fields)
    return Customer(customer_id=customer_id, **values)


def line(customer_id: str | None, day: str, quantity: int = 1, **fields) -> Purchase:
    values = {"sku": DRILL, "lot": "L4415", "store_id": "S001"}
    values.update(fields)
    return Purchase(
        transaction_id=f"T{next(_receipts):06d}",
        line_no=1,
        customer_id=customer_id,
        purchased_on=dt.date.fromisoformat(day),
        quantity=quantity,
        **values,
    )


def seed(engine: Engine, *rows) -> None:
    with Session(engine) as session, session.begin():
        session.add_all(rows)


def definition(**changes) -> RecallDefinition:
    raw = {
        "id": "R-2026-014",
        "title": "Perceuse X200 - risque de brûlure",
        "hazard": "high",
        "products": [{"sku": DRILL, "lots": ["L4410..L4420", "L4433"]}],
        "sold_from": "2026-01-01",
        "sold_to": "2026-06-30",
    }
    raw.update(changes)
    return parse_definition(raw)
