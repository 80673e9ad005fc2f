"""Returns at the till: units back correct the case, every unit back closes it, a case with a
specialist is left alone, and the same purchases passed over twice change nothing."""

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from recall.db.models import Case, CaseEvent, Fulfilment
from recall.remedies.incidents import IncidentReport, record_incident
from recall.remedies.till import apply_till_returns
from recall.reporting.progress import progress
from tests.support import agent, callers, line, seed
from tests.support import launch as launch_sample

LAUNCHED = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
RECALL = "R-2026-014"


def case_of(engine, customer_id) -> Case:
    with Session(engine) as session:
        return session.scalars(select(Case).where(Case.customer_id == customer_id)).one()


def units_back(engine, customer_id) -> int:
    with Session(engine) as session:
        return session.scalar(
            select(Fulfilment.units).join(Case, Case.id == Fulfilment.case_id).where(
                Case.customer_id == customer_id, Fulfilment.kind == "returned_to_store")
        ) or 0  # fmt: skip


def test_units_back_correct_the_case_and_all_of_them_close_it(engine):
    seed(engine, *callers(3), agent("A1"), agent("H1", skills="health"),
         line("C00000", "2026-03-01", quantity=2))  # C00000 holds 3 units  # fmt: skip
    launch_sample(engine, clock=lambda: LAUNCHED)
    # A return netted at identification (before the launch) and one of another product.
    seed(engine, line("C00001", "2026-11-24", quantity=-1, sku="3276000999999"))
    seed(engine, line("C00000", "2026-11-24", quantity=-1))  # one of three back
    first = apply_till_returns(engine=engine, recall_id=RECALL, clock=lambda: LATER)
    assert (first.cases, first.units, first.closed) == (1, 1, 0)
    partly = case_of(engine, "C00000")
    assert (partly.status, partly.notified_by, partly.outcome) == ("contacted", "store", None)
    assert units_back(engine, "C00000") == 1
    again = apply_till_returns(engine=engine, recall_id=RECALL, clock=lambda: LATER)
    assert (again.cases, again.units) == (0, 0)  # the same lines: nothing more
    seed(engine, line("C00000", "2026-11-26", quantity=-2, lot=None))  # the rest, lot unknown
    seed(engine, line("C00002", "2026-11-30", quantity=-1))  # dated after today: waits
    last = apply_till_returns(engine=engine, recall_id=RECALL, clock=lambda: LATER)
    assert (last.cases, last.units, last.closed) == (1, 2, 1)
    done = case_of(engine, "C00000")
    assert (done.status, done.outcome) == ("resolved", "returned_in_store")
    assert units_back(engine, "C00000") == 3
    assert case_of(engine, "C00001").status == "identified"
    assert case_of(engine, "C00002").status == "identified"
    report = progress(engine=engine, recall_id=RECALL, clock=lambda: LATER)
    assert report.units.by_kind == {"returned_to_store": 3}
    with Session(engine) as session:
        events = session.scalars(
            select(CaseEvent.new_status).where(CaseEvent.case_id == done.id).order_by(CaseEvent.id)
        ).all()
    assert [e for e in events if e != "identified"][:3] == ["notified", "contacted", "contacted"]
    assert events[-1] == "resolved"


def test_a_case_with_a_specialist_is_left_to_them(engine):
    seed(engine, *callers(1), agent("A1"), agent("H1", skills="health"))
    launch_sample(engine, clock=lambda: LAUNCHED)
    ref = case_of(engine, "C00000").case_ref
    record_incident(engine=engine, actor="lead", channel="cli", clock=lambda: LAUNCHED,
                    given=IncidentReport(ref, "burn", "injury", "2026-11-20"))  # fmt: skip
    seed(engine, line("C00000", "2026-11-24", quantity=-1))
    done = apply_till_returns(engine=engine, recall_id=RECALL, clock=lambda: LATER)
    assert (done.cases, done.skipped) == (0, [ref])
    assert case_of(engine, "C00000").status == "escalated"
