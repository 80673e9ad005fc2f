"""Working a call list: next case, calling hours, retries, callbacks, outcomes, concurrency."""

import datetime as dt
import threading
from collections import Counter

import pytest
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from recall.calling import open_zones as open_zones_module
from recall.calling import queue
from recall.calling.assignment import assign_call_list
from recall.calling.claiming import (
    NotYourCase,
    WorkError,
    _claim_statement,
    claim_case,
    next_case,
)
from recall.calling.open_zones import open_zones
from recall.calling.outcomes import record_disposition, record_outcome
from recall.db.engine import make_engine, upgrade
from recall.db.models import CallAttempt, Case, CaseEvent, Customer, QueueEntry
from recall.domain.calling import claim_tier, may_call_at, next_opening
from recall.domain.definition import CallPolicy
from tests.support import agent, callers, customer, launch, line, seed

PARIS = "Europe/Paris"
UTC = dt.UTC
MONDAY_10H_PARIS = dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock():
    return Clock(MONDAY_10H_PARIS)


def work(engine, clock, count=3, agents=("A1",), **recall):
    seed(engine, *callers(count), *(agent(a) for a in agents))
    launch(engine, **recall)
    assign_call_list(engine=engine, recall_id="R-2026-014", home_language="fr", clock=clock)


def case_of(engine, case_id) -> Case:
    with Session(engine) as session:
        return session.get(Case, case_id)


def events_of(engine, case_id) -> list[tuple[str | None, str, str | None]]:
    with Session(engine) as session:
        return [
            tuple(row)
            for row in session.execute(
                select(CaseEvent.old_status, CaseEvent.new_status, CaseEvent.note)
                .where(CaseEvent.case_id == case_id)
                .order_by(CaseEvent.id)
            )
        ]


def test_calling_hours_follow_the_customers_clock_across_a_dst_change():
    policy = CallPolicy()  # mon-fri 09:00-20:00, sat 10:00-18:00
    # 07:30 UTC is 09:30 in Paris on Friday 23 October (summer time), 08:30 on Monday 26 (winter).
    assert may_call_at(policy, PARIS, dt.datetime(2026, 10, 23, 7, 30, tzinfo=UTC))
    assert not may_call_at(policy, PARIS, dt.datetime(2026, 10, 26, 7, 30, tzinfo=UTC))
    saturday_evening = dt.datetime(2026, 10, 24, 17, 0, tzinfo=UTC)  # 19:00 in Paris
    assert next_opening(policy, PARIS, saturday_evening) == dt.datetime(
        2026, 10, 26, 8, 0, tzinfo=UTC
    )
    # A London customer is called on London time: 08:30 there while it is 09:30 in Paris.
    monday = dt.datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    assert may_call_at(policy, PARIS, monday) and not may_call_at(policy, "Europe/London", monday)


def test_nobody_is_called_outside_calling_hours(engine, clock):
    work(engine, clock)
    clock.now = dt.datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # a Sunday
    assert next_case(engine=engine, agent_id="A1", clock=clock) is None
    clock.now = dt.datetime(2026, 11, 23, 19, 30, tzinfo=UTC)  # Monday 20:30 in Paris
    assert next_case(engine=engine, agent_id="A1", clock=clock) is None


def test_a_london_customer_waits_for_nine_in_london(engine, clock):
    seed(
        engine,
        customer("UK", phone="+44 7911 123456", address_line1=None, language="en", country="GB"),
    )
    seed(engine, line("UK", "2026-03-01"), agent("A1", "fr,en"))
    launch(engine)
    assign_call_list(engine=engine, recall_id="R-2026-014", home_language="fr", clock=clock)
    clock.now = dt.datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    assert next_case(engine=engine, agent_id="A1", clock=clock) is None
    clock.advance(minutes=30)
    assert next_case(engine=engine, agent_id="A1", clock=clock).call_zone == "Europe/London"


def test_the_next_case_is_the_most_urgent_and_stays_with_the_desk_until_recorded(engine, clock):
    seed(engine, *callers(2), customer("BIG", phone="06 55 55 55 55", address_line1=None))
    seed(engine, line("BIG", "2026-02-01", quantity=3), agent("A1"))
    launch(engine)
    assign_call_list(engine=engine, recall_id="R-2026-014", home_language="fr", clock=clock)
    first = next_case(engine=engine, agent_id="A1", clock=clock)
    assert first.customer.endswith("Lefèvre") and first.quantity == 3
    assert next_case(engine=engine, agent_id="A1", clock=clock).case_id == first.case_id
    other_desk = next_case(engine=engine, agent_id="A1", desk="2", clock=clock)
    assert other_desk.case_id != first.case_id


def test_an_unanswered_call_waits_out_retry_after(engine, clock):
    work(engine, clock, count=1, call={"retry_after": "4h"})
    card = next_case(engine=engine, agent_id="A1", clock=clock)
    result = record_disposition(
        engine=engine, agent_id="A1", case_id=card.case_id, disposition="no_answer", clock=clock
    )
    # An unanswered call is an attempt, never a notice (the contract): the case stays identified
    # and the attempt is in its history, an event that keeps the status.
    assert result.status == "identified"
    assert events_of(engine, card.case_id)[1:] == [("identified", "identified", "call: no_answer")]
    assert case_of(engine, card.case_id).notified_by is None
    assert result.next_call_at == clock.now + dt.timedelta(hours=4)
    clock.advance(hours=3, minutes=59)
    assert next_case(engine=engine, agent_id="A1", clock=clock) is None
    clock.advance(minutes=1)
    assert next_case(engine=engine, agent_id="A1", clock=clock).attempts == 1


def test_max_attempts_without_an_address_ends_unreachable(engine, clock):
    work(engine, clock, count=1, call={"max_attempts": 3, "retry_after": "1h"})
    for disposition in ("no_answer", "busy", "voicemail"):
        card = next_case(engine=engine, agent_id="A1", clock=clock)
        result = record_disposition(
            engine=engine, agent_id="A1", case_id=card.case_id, disposition=disposition,
            clock=clock,
        )  # fmt: skip
        clock.advance(hours=1)
    assert (result.status, result.on_call_list) == ("unreachable", False)
    assert next_case(engine=engine, agent_id="A1", clock=clock) is None
    assert case_of(engine, card.case_id).attempts == 3
    # Straight from identified: no call ever reached the customer.
    steps = [(old, new) for old, new, _ in events_of(engine, card.case_id) if old != new]
    assert steps == [(None, "identified"), ("identified", "unreachable")]


def test_max_attempts_with_an_address_sends_a_letter_instead(engine, clock):
    seed(engine, customer("ADDR", phone="06 11 22 33 44"), line("ADDR", "2026-03-01"))
    seed(engine, agent("A1"))
    launch(engine, call_policy="all", call={"max_attempts": 1})
    assign_call_list(engine=engine, recall_id="R-2026-014", home_language="fr", clock=clock)
    card = next_case(engine=engine, agent_id="A1", clock=clock)
    record_disposition(
        engine=engine, agent_id="A1", case_id=card.case_id, disposition="no_answer", clock=clock
    )
    case = case_of(engine, card.case_id)
    # The unanswered call notified nobody: the case waits, identified, for its letter.
    assert (case.call, case.letter, case.status) == (False, True, "identified")
    assert case.notified_by is None and case.attempts == 1
    assert "notified" not in [new for _, new, _ in events_of(engine, card.case_id)]


def test_a_wrong_number_leaves_the_call_list_at_once(engine, clock):
    work(engine, clock, count=1)
    card = next_case(engine=engine, agent_id="A1", clock=clock)
    result = record_disposition(
        engine=engine, agent_id="A1", case_id=card.case_id, disposition="wrong_number", clock=clock
    )
    assert (result.status, result.on_call_list) == ("unreachable", False)


def test_a_callback_comes_first_at_its_time_and_stays_with_its_agent(engine, clock):
    work(engine, clock, count=4, agents=("A1", "A2"))
    card = next_case(engine=engine, agent_id="A1", clock=clock)
    at = clock.now + dt.timedelta(hours=2)
    record_disposition(
        engine=engine, agent_id="A1", case_id=card.case_id, disposition="callback_requested",
        callback_at=at, clock=clock,
    )  # fmt: skip
    seed(engine, agent("A3"))
    assign_call_list(
        engine=engine, recall_id="R-2026-014", home_language="fr", rebalance=True, clock=clock
    )
    assert case_of(engine, card.case_id).agent_id == "A1"
    clock.now = at
    assert next_case(engine=engine, agent_id="A1", clock=clock).case_id == card.case_id


def test_the_claim_order_kept_on_the_lists_follows_every_write_to_the_cases(engine, clock):
    work(engine, clock, count=5)
    seed(engine, agent("DOC", skills="health"))
    first, second, third, fourth = (
        next_case(engine=engine, agent_id="A1", desk=desk, clock=clock).case_id for desk in "abcd"
    )
    save = {"engine": engine, "agent_id": "A1", "clock": clock}
    record_disposition(**save, desk="a", case_id=first, disposition="callback_requested",
                       callback_at=clock.now + dt.timedelta(hours=2))  # fmt: skip
    record_disposition(**save, desk="b", case_id=second, disposition="reached",
                       outcome="escalated", skill="health", note="burned")  # fmt: skip
    record_disposition(**save, desk="c", case_id=third, disposition="reached", outcome="refund")
    record_disposition(**save, desk="d", case_id=fourth, disposition="no_answer")
    with Session(engine) as session:
        session.get(Case, fourth).priority = -1  # a priority changed by hand
        session.commit()
    expected = {first: 4, second: 1, third: 5, fourth: 5}
    with Session(engine) as session:
        entries = session.execute(
            select(QueueEntry.case_id, QueueEntry.tier, QueueEntry.priority, Case)
            .join(Case, Case.id == QueueEntry.case_id)
        ).all()  # fmt: skip
    assert len(entries) == 5
    for case_id, tier, priority, case in entries:
        assert tier == claim_tier(case.status, case.escalation_reason, case.callback_at)
        assert tier == expected.get(case_id, 5) and priority == case.priority
    assert [e.priority for e in entries if e.case_id == fourth] == [-1]


def test_cases_given_out_already_escalated_or_with_a_callback_get_their_claim_order(engine, clock):
    seed(engine, *callers(3), agent("A1"), agent("DOC", skills="health"))
    launch(engine)
    with Session(engine) as session:  # before any agent has them
        first, second, _ = session.scalars(select(Case).order_by(Case.id)).all()
        first.status, first.escalation_reason = "escalated", "health"
        second.callback_at = second.next_call_at = clock.now + dt.timedelta(hours=1)
        session.commit()
    assign_call_list(engine=engine, recall_id="R-2026-014", home_language="fr", clock=clock)
    with Session(engine) as session:
        entries = session.execute(
            select(QueueEntry.tier, QueueEntry.priority, Case).join(
                Case, Case.id == QueueEntry.case_id
            )
        ).all()
    assert sorted(tier for tier, _, _ in entries) == [1, 4, 5]
    for tier, priority, case in entries:
        assert tier == claim_tier(case.status, case.escalation_reason, case.callback_at)
        assert priority == case.priority is not None


def test_a_large_assignment_builds_the_queue_indexes_again(engine, clock, monkeypatch):
    monkeypatch.setattr(queue, "BULK", 2)  # three entries count as many
    work(engine, clock, count=3)
    indexes = {index["name"] for index in inspect(engine).get_indexes("call_queue")}
    assert {"ix_call_queue_agent", "ix_call_queue_claim"} <= indexes
    assert next_case(engine=engine, agent_id="A1", clock=clock) is not None


def test_the_claim_walks_the_claim_index_on_sqlite(tmp_path):
    """SQLite has no statistics by default: a claim that scanned the recall's cases instead
    took 100 ms at 350,000 cases."""
    engine = make_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    upgrade(engine)
    zones = (("R-2026-014", "Europe/Paris", ()),)

    def explained(conn, cursor, statement, parameters, context, executemany):
        return "EXPLAIN QUERY PLAN " + statement, parameters

    values = {"agent_id": "A1", "who": "A1", "now": MONDAY_10H_PARIS, "until": MONDAY_10H_PARIS}
    event.listen(engine, "before_cursor_execute", explained, retval=True)
    with engine.connect() as connection:
        plan = connection.execute(_claim_statement(zones, False), values).all()
    assert "ix_call_queue_claim" in str(plan) and "SCAN" not in str(plan), plan
    engine.dispose()


def test_a_claim_goes_on_with_the_zones_as_last_read_while_another_reads_them(engine, clock):
    work(engine, clock, count=2)
    with Session(engine) as session:
        read = open_zones(session, "A1", clock.now, fresh=False)
    at, triples = open_zones_module._zones_read[engine]
    open_zones_module._zones_read[engine] = (at - 3600, triples)  # an hour old
    sent: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    found: list[tuple] = []

    def claim_zones() -> None:
        with Session(engine) as session:
            found.append(open_zones(session, "A1", clock.now, fresh=False))

    with open_zones_module._reading:  # another claim is reading them
        beside = threading.Thread(target=claim_zones)
        beside.start()
        beside.join(timeout=30)
        assert not beside.is_alive(), "the claim waited for the other read"
    assert found == [read] and not [s for s in sent if "DISTINCT" in s]
    claim_zones()  # nobody else reading: this claim reads them again
    assert found[-1] == read and [s for s in sent if "DISTINCT" in s]


def test_a_callback_in_the_past_is_refused(engine, clock):
    work(engine, clock, count=1)
    card = next_case(engine=engine, agent_id="A1", clock=clock)
    with pytest.raises(WorkError, match="not in the future"):
        record_disposition(
            engine=engine, agent_id="A1", case_id=card.case_id,
            disposition="callback_requested", callback_at=clock.now, clock=clock,
        )  # fmt: skip


def test_reached_with_a_remedy_resolves_the_case_with_its_history(engine, clock):
    work(engine, clock, count=1)
    card = next_case(engine=engine, agent_id="A1", clock=clock)
    result = record_disposition(
        engine=engine, agent_id="A1", case_id=card.case_id, disposition="reached",
        outcome="refund", clock=clock,
    )  # fmt: skip
    assert result.status == "resolved"
    with Session(engine) as session:
        steps = session.scalars(
            select(CaseEvent.new_status).where(CaseEvent.case_id == card.case_id)
            .order_by(CaseEvent.id)
        ).all()  # fmt: skip
        attempt = session.scalars(select(CallAttempt)).one()
    assert steps == ["identified", "notified", "contacted", "resolved"]
    assert (attempt.disposition, attempt.outcome, attempt.agent_id) == ("reached", "refund", "A1")


def test_an_outcome_the_recall_does_not_offer_is_refused_and_changes_nothing(engine, clock):
    work(engine, clock, count=1, remedies=["refund"])
    card = next_case(engine=engine, agent_id="A1", clock=clock)
    with pytest.raises(WorkError, match="'repair' is not an outcome of this recall"):
        record_disposition(
            engine=engine, agent_id="A1", case_id=card.case_id, disposition="reached",
            outcome="repair", clock=clock,
        )  # fmt: skip
    assert case_of(engine, card.case_id).status == "identified"


def test_an_escalation_goes_to_a_specialist_with_the_skill(engine, clock):
    work(engine, clock, count=1, agents=("A1",))
    seed(engine, agent("DOC", skills="health"))
    card = next_case(engine=engine, agent_id="A1", clock=clock)
    with pytest.raises(WorkError, match="needs a reason"):
        record_disposition(
            engine=engine, agent_id="A1", case_id=card.case_id, disposition="reached",
            outcome="escalated", clock=clock,
        )  # fmt: skip
    assert case_of(engine, card.case_id).status == "identified"  # refused: nothing written
    result = record_disposition(
        engine=engine, agent_id="A1", case_id=card.case_id, disposition="reached",
        outcome="escalated", skill="health",
        note="customer is pregnant and was exposed to the fumes", clock=clock,
    )  # fmt: skip
    assert (result.status, result.agent_id) == ("escalated", "DOC")
    doc = next_case(engine=engine, agent_id="DOC", clock=clock)
    assert doc.case_id == card.case_id
    done = record_outcome(
        engine=engine, agent_id="DOC", case_id=card.case_id, outcome="replacement", clock=clock
    )
    assert done.status == "resolved"


def test_do_not_call_takes_the_customer_off_every_call_list(engine, clock):
    work(engine, clock, count=1)
    card = next_case(engine=engine, agent_id="A1", clock=clock)
    result = record_disposition(
        engine=engine, agent_id="A1", case_id=card.case_id, disposition="do_not_call", clock=clock
    )
    # Its own outcome, not a refusal of the remedy: reached (so notified, then contacted), and
    # off the call list; with no letter either, the public notice is all that is left.
    assert (result.status, result.on_call_list) == ("contacted", False)
    case = case_of(engine, card.case_id)
    assert (case.outcome, case.call, case.letter, case.notice_only) == (
        "do_not_call", False, False, True,
    )  # fmt: skip
    steps = [(old, new) for old, new, _ in events_of(engine, card.case_id) if old != new]
    assert steps == [(None, "identified"), ("identified", "notified"), ("notified", "contacted")]
    with Session(engine) as session:
        assert session.scalar(select(Customer.do_not_call).where(Customer.customer_id == "C00000"))


def test_an_agent_cannot_touch_another_agents_case(engine, clock):
    work(engine, clock, count=2, agents=("A1", "A2"))
    mine = next_case(engine=engine, agent_id="A1", clock=clock)
    with pytest.raises(NotYourCase):
        record_disposition(
            engine=engine, agent_id="A2", case_id=mine.case_id, disposition="reached",
            outcome="refund", clock=clock,
        )  # fmt: skip
    with pytest.raises(NotYourCase):
        claim_case(engine=engine, agent_id="A2", case_id=mine.case_id, clock=clock)
    with pytest.raises(WorkError, match="another desk"):  # an inbound call while A1 holds it
        claim_case(engine=engine, agent_id="A2", case_id=mine.case_id, inbound=True, clock=clock)


def test_many_desks_claiming_from_one_list_never_share_a_case_and_lose_none(engine, clock):
    work(engine, clock, count=120)
    claims: list[int] = []
    errors: list[BaseException] = []

    def desk(number: int) -> None:
        try:
            while card := next_case(engine=engine, agent_id="A1", desk=str(number), clock=clock):
                claims.append(card.case_id)
                record_disposition(
                    engine=engine, agent_id="A1", desk=str(number), case_id=card.case_id,
                    disposition="reached", outcome="refund", clock=clock,
                )  # fmt: skip
        except BaseException as exc:  # reported below, with the thread's error
            errors.append(exc)

    threads = [threading.Thread(target=desk, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(claims) == len(set(claims)) == 120
    with Session(engine) as session:
        statuses = Counter(session.scalars(select(Case.status)))
        attempts = session.scalar(select(func.count()).select_from(CallAttempt))
    assert statuses == {"resolved": 120} and attempts == 120


def test_an_inbound_call_opens_any_free_case_but_never_an_unknown_one(engine, clock):
    work(engine, clock, count=1, agents=("A1", "A2"))
    with Session(engine) as session:
        case_id = session.scalar(select(Case.id).where(Case.agent_id == "A1"))
    card = claim_case(engine=engine, agent_id="A2", case_id=case_id, inbound=True, clock=clock)
    assert card.case_id == case_id
    with pytest.raises(NotYourCase):
        claim_case(engine=engine, agent_id="A2", case_id=999_999, inbound=True, clock=clock)


def test_a_deactivated_agent_claims_records_and_takes_over_nothing(engine, clock):
    from recall.calling.agents import set_agent_active
    from recall.calling.claiming import AgentInactive

    work(engine, clock, count=4, agents=("A1", "A2"))
    held = next_case(engine=engine, agent_id="A1", clock=clock)  # claimed before the lead acts
    set_agent_active(engine=engine, agent_id="A1", active=False, clock=clock)
    with Session(engine) as session:
        elsewhere = session.scalar(select(Case.id).where(Case.agent_id == "A2"))
    refused = [
        lambda: next_case(engine=engine, agent_id="A1", clock=clock),
        lambda: claim_case(engine=engine, agent_id="A1", case_id=held.case_id, clock=clock),
        lambda: record_disposition(engine=engine, agent_id="A1", case_id=held.case_id,
                                   disposition="reached", outcome="refund", clock=clock),
        lambda: claim_case(engine=engine, agent_id="A1", case_id=elsewhere, inbound=True,
                           clock=clock),  # the hotline's take-over
        lambda: record_disposition(engine=engine, agent_id="A1", case_id=elsewhere,
                                   disposition="reached", outcome="refund", inbound=True,
                                   clock=clock),
    ]  # fmt: skip
    for attempt in refused:
        with pytest.raises(AgentInactive, match="no longer active"):
            attempt()
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(CallAttempt)) == 0
        assert session.get(Case, elsewhere).agent_id == "A2"
        assert session.get(Case, held.case_id).status == "identified"
    assert next_case(engine=engine, agent_id="A2", clock=clock) is not None  # the others work on
