"""Identification and case building, against the data contract, on SQLite and PostgreSQL."""

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recall.campaign.definitions import register_recall
from recall.campaign.events import change_status
from recall.db.models import Case, CaseEvent
from recall.domain.cases import IllegalTransition, replay
from recall.identification.buyers import identify_buyers
from recall.identification.cases import build_case_batch
from recall.reporting.overview import recall_status
from tests.support import DRILL, SANDER, customer, definition, line, seed


def launch(engine, recall=None, batch_size=1000):
    recall = recall or definition()
    register_recall(engine=engine, definition=recall, raw={"id": recall.id})
    found = identify_buyers(engine=engine, definition=recall, batch_size=batch_size)
    for batch in range(found.batches):
        build_case_batch(engine=engine, definition=recall, batch=batch)
    return found


def cases_of(engine) -> dict[str, Case]:
    with Session(engine) as session:
        return {c.customer_id: c for c in session.scalars(select(Case))}


def test_only_lines_with_covered_lots_make_cases(engine):
    seed(
        engine,
        customer("in-range"),
        customer("exact"),
        customer("below"),
        customer("longer"),
        customer("prefix"),
        line("in-range", "2026-02-01", lot="l4415"),
        line("exact", "2026-02-01", lot="L4433 "),
        line("below", "2026-02-01", lot="L4409"),
        line("longer", "2026-02-01", lot="L44150"),
        line("prefix", "2026-02-01", lot="X4415"),
    )
    launch(engine)
    assert set(cases_of(engine)) == {"in-range", "exact"}


def test_a_line_without_a_lot_is_covered_since_it_cannot_be_ruled_out(engine):
    seed(
        engine,
        customer("no-lot"),
        customer("blank-lot"),
        customer("other-lot"),
        line("no-lot", "2026-02-01", lot=None),
        line("blank-lot", "2026-02-01", lot="  "),
        line("other-lot", "2026-02-01", lot="L9999"),
    )
    launch(engine)
    assert set(cases_of(engine)) == {"no-lot", "blank-lot"}


def test_the_sale_window_is_inclusive_at_both_ends(engine):
    seed(
        engine,
        customer("first-day"),
        customer("last-day"),
        customer("day-before"),
        customer("day-after"),
        line("first-day", "2026-01-01"),
        line("last-day", "2026-06-30"),
        line("day-before", "2025-12-31"),
        line("day-after", "2026-07-01"),
    )
    launch(engine)
    assert set(cases_of(engine)) == {"first-day", "last-day"}


def test_a_buyer_who_returned_everything_is_counted_not_contacted(engine):
    seed(
        engine,
        customer("returned"),
        customer("half"),
        line("returned", "2026-02-01", 1),
        line("returned", "2026-08-15", -1),
        line("half", "2026-02-01", 2),
        line("half", "2026-03-01", -1),
    )
    found = launch(engine)
    cases = cases_of(engine)
    assert set(cases) == {"half"}
    assert cases["half"].quantity == 1
    assert found.already_returned == 1


def test_quantities_are_summed_over_every_recalled_product(engine):
    recall = definition(products=[{"sku": DRILL, "lots": ["L4415"]}, {"sku": SANDER}])
    seed(
        engine,
        customer("both"),
        line("both", "2026-02-01", 1),
        line("both", "2026-03-01", 2, sku=SANDER, lot="Z1"),
        line("both", "2026-03-01", 5, sku="3276000000001"),
    )
    launch(engine, recall)
    case = cases_of(engine)["both"]
    assert case.quantity == 3
    assert case.skus == f"{DRILL},{SANDER}"
    assert case.lots == "L4415,Z1"


def test_lines_without_a_known_customer_are_untraceable_units(engine):
    seed(
        engine,
        customer("known"),
        line("known", "2026-02-01"),
        line(None, "2026-02-01", 3),
        line("not-in-customers", "2026-02-02", 2),
    )
    found = launch(engine)
    assert set(cases_of(engine)) == {"known"}
    assert found.untraceable_units == 5
    assert found.unknown_customer_units == 2


def test_a_store_list_limits_the_sales_that_count(engine):
    seed(
        engine,
        customer("lyon"),
        customer("paris"),
        line("lyon", "2026-02-01", store_id="S001"),
        line("paris", "2026-02-01", store_id="S002"),
    )
    launch(engine, definition(stores=["S001"]))
    assert set(cases_of(engine)) == {"lyon"}


def test_a_case_records_the_customer_s_purchase(engine):
    seed(
        engine,
        customer("00042"),
        line("00042", "2026-02-01", lot="L4415", store_id="S001"),
        line("00042", "2026-04-11", lot="L4433", store_id="S007"),
    )
    launch(engine)
    case = cases_of(engine)["00042"]
    assert (case.quantity, case.lots, case.stores) == (2, "L4415,L4433", "S001,S007")
    assert (str(case.first_purchase), str(case.last_purchase)) == ("2026-02-01", "2026-04-11")
    assert case.case_ref == "R-2026-014-000001"


def test_channels_follow_address_phone_and_do_not_call(engine):
    seed(
        engine,
        customer("letter", phone="06 12 34 56 78"),
        customer("call", address_line1=None, phone="+33 6 12 34 56 79"),
        customer("refuses-calls", address_line1=None, phone="0612345680", do_not_call=True),
        customer("nothing", city=None, phone=None),
        customer("bad-phone", postal_code=None, phone="06 12"),
        *(
            line(c, "2026-02-01")
            for c in ("letter", "call", "refuses-calls", "nothing", "bad-phone")
        ),
    )
    launch(engine)
    cases = cases_of(engine)
    channels = {k: (c.letter, c.call, c.notice_only) for k, c in cases.items()}
    assert channels == {
        "letter": (True, False, False),
        "call": (False, True, False),
        "refuses-calls": (False, False, True),
        "nothing": (False, False, True),
        "bad-phone": (False, False, True),
    }
    assert cases["call"].phone_e164 == "+33612345679"
    assert cases["bad-phone"].phone_e164 is None and cases["bad-phone"].phone_invalid


def test_call_policy_all_also_calls_customers_who_get_a_letter(engine):
    seed(engine, customer("both", phone="06 12 34 56 78"), line("both", "2026-02-01"))
    launch(engine, definition(call_policy="all"))
    case = cases_of(engine)["both"]
    assert (case.letter, case.call) == (True, True)


def test_a_belgian_customer_s_phone_is_read_in_belgium(engine):
    seed(
        engine,
        customer("be", address_line1=None, country="BE", phone="0470 12 34 56"),
        line("be", "2026-02-01"),
    )
    launch(engine)
    assert cases_of(engine)["be"].phone_e164 == "+32470123456"


def test_each_case_starts_with_an_identified_event(engine):
    seed(engine, customer("a"), customer("b"), line("a", "2026-02-01"), line("b", "2026-02-01"))
    launch(engine)
    with Session(engine) as session:
        events = session.scalars(select(CaseEvent)).all()
        assert [(e.old_status, e.new_status, e.actor) for e in events] == [
            (None, "identified", "system")
        ] * 2


def test_launching_again_resumes_without_duplicates_and_keeps_references(engine):
    seed(engine, customer("a"), customer("c"), line("a", "2026-02-01"), line("c", "2026-02-01"))
    launch(engine, batch_size=1)
    before = {k: c.case_ref for k, c in cases_of(engine).items()}
    seed(engine, customer("b"), line("b", "2026-03-01"))
    launch(engine, batch_size=1)
    after = {k: c.case_ref for k, c in cases_of(engine).items()}
    assert {k: after[k] for k in before} == before
    assert after["b"] == "R-2026-014-000003"
    with Session(engine) as session:
        assert len(session.scalars(select(CaseEvent)).all()) == 3


def test_a_batch_built_twice_creates_nothing_the_second_time(engine):
    seed(engine, customer("a"), line("a", "2026-02-01"))
    recall = definition()
    launch(engine, recall)
    again = build_case_batch(engine=engine, definition=recall, batch=0)
    assert (again.created, again.already_there) == (0, 1)


def test_status_is_the_result_of_its_events_and_illegal_moves_change_nothing(engine):
    seed(engine, customer("a"), line("a", "2026-02-01"))
    launch(engine)
    with Session(engine) as session, session.begin():
        case = session.scalars(select(Case)).one()
        change_status(session, case, "notified", actor="letters", channel="letter")
        change_status(session, case, "contacted", actor="agent-7", channel="call")
    with Session(engine) as session:
        case = session.scalars(select(Case)).one()
        with pytest.raises(IllegalTransition):
            change_status(session, case, "identified", actor="agent-7")
        session.rollback()
    with Session(engine) as session:
        case = session.scalars(select(Case)).one()
        events = session.scalars(select(CaseEvent).order_by(CaseEvent.id)).all()
        assert case.status == "contacted"
        assert replay([e.new_status for e in events]) == case.status


def test_status_counts_match_the_cases(engine):
    seed(
        engine,
        customer("letter"),
        customer("call", address_line1=None, phone="0612345678"),
        customer("notice", city=None),
        customer("back"),
        line("back", "2026-02-01"),
        line("back", "2026-02-02", -1),
        line(None, "2026-02-01", 4),
        *(line(c, "2026-02-01") for c in ("letter", "call", "notice")),
    )
    launch(engine)
    figures = recall_status(engine=engine, recall_id="R-2026-014")
    assert {
        k: figures[k]
        for k in ("cases", "letter", "call", "notice_only", "already_returned", "untraceable_units")
    } == {
        "cases": 3,
        "letter": 1,
        "call": 1,
        "notice_only": 1,
        "already_returned": 1,
        "untraceable_units": 4,
    }
    assert figures["by_status"] == {"identified": 3}
