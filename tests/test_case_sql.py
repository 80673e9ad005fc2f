"""Cases are built by SQL statements: each rule they carry gives what the domain's Python rule
gives, on SQLite and on PostgreSQL."""

import datetime as dt
import itertools

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from recall.db.models import Case, Customer
from recall.db.spelling import Spelling, decided_by
from recall.domain.calling import call_priority, customer_zone
from recall.domain.cases import choose_channels
from recall.domain.contacts import CustomerPhone, normalise_phone, phone_zones
from tests.support import DRILL, SANDER, customer, launch, line, seed


def cases_by_customer(engine, recall_id="R-2026-014") -> dict[str, Case]:
    with Session(engine) as session:
        found = session.scalars(select(Case).where(Case.recall_id == recall_id))
        return {c.customer_id: c for c in found}


def sql_value(engine, expression: str):
    with engine.connect() as connection:
        return connection.scalar(text(f"SELECT {expression}"))


@pytest.mark.parametrize("policy", ["without_letter", "all"])
def test_channels_follow_the_domain_rule_for_every_kind_of_customer(engine, policy):
    phones = {"valid": "06 12 34 56 78", "invalid": "06 12", "none": None}
    kinds = list(itertools.product([True, False], phones, [True, False]))
    rows = []
    for n, (address, phone, refuses) in enumerate(kinds):
        cid = f"K{n:02d}"
        rows += [
            customer(cid, address_line1="3 rue Pasteur" if address else None,
                     phone=phones[phone], do_not_call=refuses),
            line(cid, "2026-02-01"),
        ]  # fmt: skip
    seed(engine, *rows)
    launch(engine, call_policy=policy)
    cases = cases_by_customer(engine)
    for n, (address, phone, refuses) in enumerate(kinds):
        expected = choose_channels(
            has_address=address, has_phone=phone == "valid", do_not_call=refuses,
            call_policy=policy,
        )  # fmt: skip
        case = cases[f"K{n:02d}"]
        assert (case.letter, case.call, case.notice_only) == (
            expected.letter, expected.call, expected.notice_only,
        ), (address, phone, refuses)  # fmt: skip
        assert case.phone_invalid == (phone == "invalid")


@pytest.mark.parametrize("hazard", ["high", "medium", "low"])
def test_queue_order_is_call_priority(engine, hazard):
    bought = [("Q1", 1, "2026-01-01"), ("Q2", 3, "2026-06-30"), ("Q3", 9_999, "2026-03-15"),
              ("Q4", 12_000, "2026-02-28")]  # fmt: skip
    seed(engine, *(row for cid, units, day in bought
                   for row in (customer(cid), line(cid, day, units))))  # fmt: skip
    launch(engine, hazard=hazard)
    cases = cases_by_customer(engine)
    for cid, units, day in bought:
        assert cases[cid].priority == call_priority(hazard, units, dt.date.fromisoformat(day))


@pytest.mark.parametrize(
    "recall_zone", ["Europe/Paris", "Europe/London", "Europe/Isle_of_Man", "America/New_York"]
)
def test_a_case_is_called_on_its_phone_s_clock(engine, recall_zone):
    phones = {"fr": "06 12 34 56 78", "uk": "+44 20 7946 0000", "us": "+1 212 555 0100",
              "uk_mobile": "+44 7911 123456",  # Guernsey, Isle of Man or London
              "hawaii": "+1 808 555 0100", "es": "+34 912 345 678", "reunion": "+262 262 12 34 56",
              "be": "+32 470 12 34 56"}  # fmt: skip
    seed(engine, *(row for cid, phone in phones.items()
                   for row in (customer(cid, phone=phone, address_line1=None),
                               line(cid, "2026-02-01"))))  # fmt: skip
    launch(engine, call={"timezone": recall_zone})
    cases = cases_by_customer(engine)
    for cid, phone in phones.items():
        e164 = normalise_phone(phone, "FR")
        assert cases[cid].phone_e164 == e164
        assert cases[cid].call_zone == customer_zone(e164, recall_zone), cid


def test_what_a_case_lists_is_sorted_as_python_sorts(engine):
    lots = ["l4415", "L4433", "L4410", "L4412"]
    stores = ["S010", "S002", "s001"]
    seed(
        engine,
        customer("many"),
        *(line("many", "2026-02-01", lot=lot, store_id=store)
          for lot, store in zip(lots, itertools.cycle(stores), strict=False)),
        line("many", "2026-02-02", sku=SANDER, lot="A9", store_id="S002"),
        line("many", "2026-02-03", lot=" L4418 ", store_id=stores[2]),
    )  # fmt: skip
    launch(engine, products=[{"sku": DRILL, "lots": ["L4410..L4420", "L4433"]}, {"sku": SANDER}])
    case = cases_by_customer(engine)["many"]
    assert case.lots == ",".join(sorted([*lots, "A9", "L4418"]))
    assert case.stores == ",".join(sorted(stores))
    assert case.skus == ",".join(sorted([DRILL, SANDER]))


@pytest.mark.parametrize("number", [1, 42, 999_999, 1_000_000, 12_345_678])
def test_a_reference_number_keeps_every_digit(engine, number):
    spell = Spelling(engine.dialect.name)
    assert sql_value(engine, spell.zero_padded(str(number), 6)) == f"{number:06d}"


@pytest.mark.parametrize("day", ["1970-01-01", "2024-02-29", "2026-11-23", "9999-12-31"])
def test_day_numbers_are_python_ordinals(engine, day):
    spell = Spelling(engine.dialect.name)
    date = f"DATE '{day}'" if spell.postgres else f"'{day}'"
    assert sql_value(engine, spell.day_number(date)) == dt.date.fromisoformat(day).toordinal()


def test_a_rule_spelled_in_sql_answers_as_the_rule_itself(engine):
    def rule(a: bool, b: bool, c: bool) -> bool:
        return (a and not c) or (b and c)

    for inputs in itertools.product([True, False], repeat=3):
        conditions = ["(1 = 1)" if value else "(1 = 0)" for value in inputs]
        expression = f"CASE WHEN {decided_by(rule, conditions)} THEN 1 ELSE 0 END"
        assert sql_value(engine, expression) == int(rule(*inputs)), inputs


def test_a_customer_s_phone_is_read_once_when_stored(engine):
    seed(engine, customer("uk", phone="+44 20 7946 0000", country="GB"),
         customer("none", phone=None), customer("bad", phone="06 12"))  # fmt: skip
    with Session(engine) as session:
        stored = {c.customer_id: c for c in session.scalars(select(Customer))}
    uk = stored["uk"]
    assert (uk.phone_e164, uk.phone_zone) == ("+442079460000", phone_zones("+442079460000")[-1])
    assert CustomerPhone.read("+44 20 7946 0000", "GB").zones == uk.phone_zones
    assert stored["none"].phone_e164 is None and stored["bad"].phone_e164 is None
    with Session(engine) as session, session.begin():
        session.get(Customer, "bad").phone = "07 98 76 54 32"  # a newer phone, by the ORM
    with Session(engine) as session:
        assert session.get(Customer, "bad").phone_e164 == "+33798765432"
