"""The hourly follow-up over simulated days: unanswered letters, missed callbacks, the SLA."""

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recall.calling.assignment import assign_call_list
from recall.calling.claiming import claim_case
from recall.calling.follow_up import follow_up
from recall.calling.outcomes import record_disposition
from recall.db.models import Case, CaseEvent, Letter
from recall.domain.cases import replay
from recall.notices.mailing import mark_mailed
from tests.support import agent, callers, customer, line, seed
from tests.support import launch as launch_sample
from tests.test_letters import config_for, make_letters

DAY0 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)  # Monday 09:00 in Paris
RECALL = "R-2026-014"
FOLLOW_UP = {"call_letters_after": "10d", "callback_grace": "2h", "contact_sla": "48h"}


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def to(self, days: float = 0, hours: float = 0) -> "Clock":
        self.now = DAY0 + dt.timedelta(days=days, hours=hours)
        return self


@pytest.fixture
def running(engine, tmp_path):
    """Letters posted on day 0 to three customers (two with a phone), four callers, two agents."""
    clock = Clock(DAY0)
    seed(
        engine, *callers(4), agent("A1"), agent("A2"),
        customer("WRITTEN", phone="06 70 00 00 01", postal_code="01000"),
        line("WRITTEN", "2026-02-01"),
        customer("ANSWERED", phone="06 70 00 00 02", postal_code="02000"),
        line("ANSWERED", "2026-02-01"),
        customer("NOPHONE", postal_code="03000"), line("NOPHONE", "2026-02-01"),
    )  # fmt: skip
    recall = launch_sample(engine, clock=clock, follow_up=FOLLOW_UP)
    assign_call_list(engine=engine, recall_id=RECALL, home_language="fr", clock=clock)
    make_letters(engine, recall, config_for(tmp_path))
    mark_mailed(engine=engine, recall_id=RECALL, clock=clock)
    return clock


def case(engine, customer_id) -> Case:
    with Session(engine) as session:
        return session.scalars(select(Case).where(Case.customer_id == customer_id)).one()


def notes(engine, case_id) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(CaseEvent.note).where(CaseEvent.case_id == case_id)))


def not_contacted(engine) -> set[str]:
    """Counted here from the cases themselves, not by the service."""
    with Session(engine) as session:
        rows = session.execute(select(Case.case_ref, Case.status, Case.notice_only)).all()
    return {
        ref for ref, status, notice in rows if status in ("identified", "notified") and not notice
    }


def test_a_missed_callback_is_flagged_and_handed_to_another_agent(engine, running):
    clock = running.to(hours=1)
    mine = case(engine, "C00000")
    first = mine.agent_id
    claim_case(engine=engine, agent_id=first, case_id=mine.id, clock=clock)
    record_disposition(
        engine=engine, agent_id=first, case_id=mine.id, disposition="callback_requested",
        callback_at=DAY0 + dt.timedelta(hours=3), clock=clock,
    )  # fmt: skip
    early = follow_up(engine=engine, recall_id=RECALL, home_language="fr", clock=clock.to(hours=4))
    assert early.callbacks_overdue == 0  # due at 3h, grace 2h: not yet
    assert case(engine, "C00000").agent_id == first
    late = follow_up(engine=engine, recall_id=RECALL, home_language="fr", clock=clock.to(hours=6))
    assert (late.callbacks_overdue, late.callbacks_moved) == (1, 1)
    moved = case(engine, "C00000")
    assert moved.agent_id not in (first, None) and moved.callback_agent is None
    assert any("callback overdue by 3.0 h: handed from agent" in n for n in notes(engine, moved.id))
    again = follow_up(engine=engine, recall_id=RECALL, home_language="fr", clock=clock)
    assert (again.callbacks_overdue, again.moved, again.assigned) == (0, 0, 0)


def test_letters_unanswered_after_the_recall_s_delay_join_the_call_list(engine, running):
    answered = case(engine, "ANSWERED")
    clock = running.to(days=3)
    claim_case(engine=engine, agent_id="A1", case_id=answered.id, inbound=True, clock=clock)
    # Reached, and asked to talk it over the next day: the case stays contacted and open.
    record_disposition(engine=engine, agent_id="A1", case_id=answered.id, disposition="reached",
                       callback_at=clock.now + dt.timedelta(days=1), inbound=True,
                       clock=clock)  # fmt: skip
    assert case(engine, "ANSWERED").status == "contacted"
    before = follow_up(engine=engine, recall_id=RECALL, home_language="fr", clock=clock.to(days=9))
    assert before.letters_to_calls == 0
    after = follow_up(engine=engine, recall_id=RECALL, home_language="fr", clock=clock.to(days=10))
    assert after.letters_to_calls == 1  # WRITTEN; ANSWERED got in touch, NOPHONE has no phone
    written = case(engine, "WRITTEN")
    assert written.call and written.agent_id in ("A1", "A2") and written.status == "notified"
    assert not case(engine, "NOPHONE").call
    assert "letter unanswered: on the call list" in notes(engine, written.id)
    with Session(engine) as session:
        assert session.get(Letter, written.id).returned_at is None
        for (case_id,) in session.execute(select(Case.id)):
            statuses = session.scalars(
                select(CaseEvent.new_status)
                .where(CaseEvent.case_id == case_id)
                .order_by(CaseEvent.id)
            ).all()
            assert replay(statuses) == session.get(Case, case_id).status
    again = follow_up(engine=engine, recall_id=RECALL, home_language="fr", clock=clock)
    assert again.letters_to_calls == 0


def test_high_hazard_cases_not_contacted_within_the_sla_raise_an_alert(engine, running):
    assert follow_up(engine=engine, recall_id=RECALL, home_language="fr",
                     clock=running.to(hours=47)).breach is None  # fmt: skip
    reached = case(engine, "C00001")
    clock = running.to(
        hours=47,
    )
    claim_case(engine=engine, agent_id=reached.agent_id, case_id=reached.id, clock=clock)
    record_disposition(engine=engine, agent_id=reached.agent_id, case_id=reached.id,
                       disposition="reached", outcome="refund", clock=clock)  # fmt: skip
    report = follow_up(engine=engine, recall_id=RECALL, home_language="fr", clock=clock.to(days=3))
    expected = not_contacted(engine)
    assert report.breach is not None
    assert report.breach.cases == len(expected) == 6  # 3 callers and 3 letters, of 7 cases
    assert set(report.breach.case_refs) == expected
    assert report.breach.oldest_hours == pytest.approx(72)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 7
