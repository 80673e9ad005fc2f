"""Splitting the call list: balance, capacity, language, skills, priority, and rebalancing."""

import datetime as dt
import random
from collections import Counter

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from recall.calling.assignment import active_slots, assign_call_list
from recall.db.models import Agent, Case, CaseEvent, QueueEntry
from recall.domain.assignment import AgentSlot, Item, deal, excess, plan_assignment, targets
from recall.domain.calling import call_priority
from tests.support import agent, callers, customer, launch, line, seed


def slots(*specs: tuple[str, str], capacity: int = 1, skills: str = "") -> list[AgentSlot]:
    return [
        AgentSlot(a, capacity, frozenset(langs.split(",")), frozenset(filter(None, [skills])))
        for a, langs in specs
    ]


def items(count: int, language: str = "fr", start: int = 0, **fields) -> list[Item]:
    return [Item(n, priority=n, language=language, **fields) for n in range(start, start + count)]


def test_agents_of_equal_capacity_get_lists_differing_by_at_most_one_case():
    agents = slots(*[(f"A{n}", "fr") for n in range(7)])
    plan = plan_assignment(items(1003), agents, "fr")
    counts = Counter(plan.assigned.values())
    assert len(plan.assigned) == 1003
    assert max(counts.values()) - min(counts.values()) <= 1


def test_an_agent_with_twice_the_capacity_gets_twice_the_cases():
    agents = [AgentSlot("FULL", 2, frozenset({"fr"})), AgentSlot("HALF", 1, frozenset({"fr"}))]
    counts = Counter(plan_assignment(items(300), agents, "fr").assigned.values())
    assert counts == {"FULL": 200, "HALF": 100}


def test_customers_are_called_by_an_agent_who_speaks_their_language():
    agents = slots(("FR1", "fr"), ("FR2", "fr"), ("BI", "fr,en"))
    plan = plan_assignment(items(90) + items(10, "en", start=90), agents, "fr")
    english = {plan.assigned[n] for n in range(90, 100)}
    assert english == {"BI"}
    assert (
        max(Counter(plan.assigned.values()).values())
        - min(Counter(plan.assigned.values()).values())
        <= 1
    )  # the bilingual agent takes fewer French cases to make up


def test_a_language_nobody_speaks_goes_to_home_language_agents_and_is_reported():
    plan = plan_assignment(items(4, "de"), slots(("FR1", "fr"), ("EN1", "en")), "fr")
    assert set(plan.assigned.values()) == {"FR1"}
    assert plan.fallbacks == {"no agent speaks 'de': called in 'fr'": 4}


def test_high_hazard_escalations_go_only_to_agents_with_the_skill():
    agents = slots(("GEN1", "fr"), ("GEN2", "fr")) + slots(("DOC", "fr"), skills="health")
    plan = plan_assignment(items(6, skill="health", strict=True) + items(6, start=6), agents, "fr")
    assert {plan.assigned[n] for n in range(6)} == {"DOC"}
    nobody = plan_assignment(items(2, skill="legal", strict=True), agents, "fr")
    assert nobody.assigned == {}
    assert nobody.unplaced == {"no active agent with the skill 'legal'": 2}


def test_the_most_urgent_cases_are_spread_over_every_agent():
    agents = slots(*[(f"A{n}", "fr") for n in range(5)])
    plan = plan_assignment(items(100), agents, "fr")
    assert {plan.assigned[n] for n in range(5)} == {f"A{n}" for n in range(5)}


def test_agents_with_different_shares_are_interleaved_ties_in_agent_order():
    assert deal({"C": 2, "B": 1, "A": 2}) == ["A", "C", "B", "A", "C"]
    assert deal({"B": 3, "A": 1}) == ["B", "A", "B", "B"]  # both at the middle: A first


def test_dealing_by_share_gives_the_order_of_sorting_every_place():
    rng = random.Random(2026)
    for _ in range(200):
        counts = {f"A{n:02d}": rng.choice([1, 2, 3, 7, 8, 40]) for n in rng.sample(range(60), 9)}
        places = sorted(((j + 0.5) / n, a) for a, n in counts.items() for j in range(n))
        assert deal(counts) == [agent_id for _, agent_id in places]


def test_fair_shares_follow_capacity_and_add_up():
    agents = [AgentSlot("A", 3, frozenset()), AgentSlot("B", 1, frozenset())]
    assert targets(10, agents) == {"A": 8, "B": 2}
    assert sum(targets(1001, slots(*[(f"A{n}", "fr") for n in range(7)])).values()) == 1001


def test_a_new_agent_takes_only_the_surplus_of_the_others():
    agents = [AgentSlot(f"A{n}", 1, frozenset({"fr"}), load=110) for n in range(10)]
    agents.append(AgentSlot("NEW", 1, frozenset({"fr"})))
    assert excess(agents, 0) == {f"A{n}": 10 for n in range(10)}


# The same rules on a launched recall, in the database.

MONDAY_10H_PARIS = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def clock():
    return MONDAY_10H_PARIS


def call_list(engine) -> dict[str, str | None]:
    with Session(engine) as session:
        rows = session.execute(
            select(Case.customer_id, QueueEntry.agent_id)
            .outerjoin(QueueEntry, QueueEntry.case_id == Case.id)
            .where(Case.call.is_(True))
        )
        return dict(rows.tuples().all())


@pytest.fixture
def sixty_callers(engine):
    seed(engine, *callers(57), *callers(3, start=57, language="en"))
    seed(engine, agent("A1"), agent("A2"), agent("A3", "fr,en"))
    return launch(engine)


def assign(engine, **options):
    return assign_call_list(
        engine=engine, recall_id="R-2026-014", home_language="fr", clock=clock, **options
    )


def test_every_call_list_case_gets_exactly_one_active_agent(engine, sixty_callers):
    report = assign(engine)
    cases = call_list(engine)
    assert report.assigned == len(cases) == 60
    assert Counter(cases.values()) == {"A1": 20, "A2": 20, "A3": 20}
    assert {cases[f"C{n:05d}"] for n in range(57, 60)} == {"A3"}


def test_assigning_again_moves_nothing(engine, sixty_callers):
    assign(engine)
    before = call_list(engine)
    again = assign(engine)
    assert (again.assigned, again.moved) == (0, 0)
    assert call_list(engine) == before


def test_a_case_moved_to_the_call_list_later_joins_the_lightest_list(engine, sixty_callers):
    seed(engine, customer("LATE", phone="06 99 99 99 99", address_line1=None))
    assign(engine)
    with Session(engine) as session, session.begin():
        moved = update(QueueEntry).where(QueueEntry.agent_id == "A2").values(agent_id="A1")
        session.execute(moved)
    # 40 / 0 / 20: a late case goes to the agent with the fewest cases.
    seed(engine, line("LATE", "2026-03-01"))
    launch(engine)
    assign(engine)
    assert call_list(engine)["LATE"] == "A2"


def test_rebalancing_after_an_agent_joins_moves_only_the_surplus(engine, sixty_callers):
    assign(engine)
    worked = _work_some(engine)
    seed(engine, agent("A4"))
    report = assign(engine, rebalance=True)
    after = call_list(engine)
    assert Counter(after.values()) == {"A1": 15, "A2": 15, "A3": 15, "A4": 15}
    assert report.moved == 15
    for customer_id, agent_id in worked.items():
        assert after[customer_id] == agent_id
    with Session(engine) as session:
        notes = session.scalars(select(CaseEvent.note).where(CaseEvent.actor == "assignment"))
        assert sum("moved from agent" in n for n in notes) == 15


def test_a_rebalance_takes_each_agents_latest_home_language_cases(engine, sixty_callers):
    assign(engine)
    with Session(engine) as session:
        held = session.execute(
            select(QueueEntry.agent_id, Case.id, Case.language).join(QueueEntry.case)
        ).all()
    seed(engine, agent("A4"))
    assign(engine, rebalance=True)
    with Session(engine) as session:
        moved = set(session.scalars(select(QueueEntry.case_id).where(QueueEntry.agent_id == "A4")))
    for agent_id in ("A1", "A2", "A3"):
        french = sorted((c for a, c, lang in held if a == agent_id and lang == "fr"), reverse=True)
        assert {c for a, c, _ in held if a == agent_id} & moved == set(french[:5])


def test_cases_stored_without_a_priority_are_ranked_as_if_it_were_stored(engine, sixty_callers):
    with Session(engine) as session, session.begin():
        for case in session.scalars(select(Case)):  # purchases spread over two months
            case.last_purchase = dt.date(2026, 1, 1) + dt.timedelta(days=case.id * 7 % 60)
            case.priority = call_priority("high", case.quantity, case.last_purchase)
    assign(engine)
    stored = call_list(engine)
    with Session(engine) as session, session.begin():
        session.execute(delete(QueueEntry))
        session.execute(update(Case).values(priority=None))
    report = assign(engine)
    assert report.assigned == 60
    assert call_list(engine) == stored


def test_a_move_is_logged_at_the_instant_of_the_clock_whatever_its_time_zone(engine, sixty_callers):
    assign(engine)
    seed(engine, agent("A4"))
    paris = MONDAY_10H_PARIS.astimezone(dt.timezone(dt.timedelta(hours=1)))
    assign_call_list(
        engine=engine, recall_id="R-2026-014", home_language="fr", rebalance=True,
        clock=lambda: paris,
    )  # fmt: skip
    with Session(engine) as session:
        times = set(session.scalars(select(CaseEvent.at).where(CaseEvent.actor == "assignment")))
    assert times == {MONDAY_10H_PARIS}


def test_a_deactivated_agents_cases_go_to_the_others_even_the_worked_ones(engine, sixty_callers):
    assign(engine)
    worked = _work_some(engine)
    with Session(engine) as session, session.begin():
        session.execute(update(Agent).where(Agent.agent_id == "A1").values(active=False))
    report = assign(engine)
    after = call_list(engine)
    assert "A1" not in after.values()
    assert report.assigned == 20
    assert Counter(after.values()) == {"A2": 30, "A3": 30}
    assert all(after[c] != "A1" for c in worked)


def _work_some(engine) -> dict[str, str]:
    """Mark two cases of each agent as already called (one with a promised callback)."""
    with Session(engine) as session, session.begin():
        worked = {}
        for agent_id in ("A1", "A2", "A3"):
            first, second = session.scalars(
                select(Case).where(Case.agent_id == agent_id).order_by(Case.id).limit(2)
            ).all()
            first.attempts = 1
            second.callback_agent = agent_id
            worked |= {first.customer_id: agent_id, second.customer_id: agent_id}
        return worked


def test_loads_within_their_share_rounded_either_way_give_nothing_up():
    # 16 agents of capacity 2 hold one case above their share of 2,052.8; it rounds up.
    agents = [AgentSlot(f"D{n:02d}", 2, frozenset({"fr"}), load=2_053) for n in range(16)]
    agents += [AgentSlot(f"S{n:03d}", 1, frozenset({"fr"}), load=1_026) for n in range(100)]
    assert excess(agents, 0) == {}


def test_a_new_agent_is_brought_up_to_their_share_even_when_it_rounds_down():
    agents = [AgentSlot(f"A{n}", 1, frozenset({"fr"}), load=101) for n in range(10)]
    agents.append(AgentSlot("NEW", 1, frozenset({"fr"})))
    given = excess(agents, 0)  # shares are 91.8: everyone must end with 91 or 92
    assert sum(given.values()) == 91
    loads = [101 - given.get(f"A{n}", 0) for n in range(10)]
    assert set(loads) <= {91, 92}


def test_a_rebalance_of_fair_loads_moves_nothing_even_with_mixed_capacities(engine):
    # Shares of 2,052.8 and 1,026.4 cases: 2,053 and 1,027 are fair; nothing must bounce.
    agents = [AgentSlot(f"D{n:02d}", 2, frozenset({"fr"}), load=2_053) for n in range(16)]
    agents += [AgentSlot(f"S{n:03d}", 1, frozenset({"fr"}), load=1_026) for n in range(100)]
    given = excess(agents, 0)
    pool = items(sum(given.values()))
    lighter = [
        AgentSlot(a.agent_id, a.capacity, a.languages, load=a.load - given.get(a.agent_id, 0))
        for a in agents
    ]
    plan = plan_assignment(pool, lighter, "fr")
    back = Counter(plan.assigned.values())
    assert all(back[a] == given.get(a, 0) for a in back)


def queue_flags(engine) -> dict[int, bool]:
    with Session(engine) as session:
        return dict(session.execute(select(QueueEntry.case_id, QueueEntry.to_call)).tuples().all())


def test_an_agents_list_follows_each_case_off_and_back_onto_the_call_list(engine, sixty_callers):
    assign(engine)
    with Session(engine) as session, session.begin():
        ids = session.scalars(select(Case.id).order_by(Case.id).limit(4)).all()
        off, resolved, _, back = (session.get(Case, n) for n in ids)
        off.call = False
        resolved.status = "resolved"
        back.call = False
    with Session(engine) as session, session.begin():  # a bulk statement, as the mailing makes
        session.execute(update(Case).where(Case.id == ids[2]).values(status="unreachable"))
        session.get(Case, ids[3]).call = True
    flags = queue_flags(engine)
    assert [flags[n] for n in ids] == [False, False, False, True]
    assert sum(flags.values()) == 57
    with Session(engine) as session:  # loads count only the cases still to call
        assert sum(slot.load for slot in active_slots(session)) == 57


def test_a_case_given_an_agent_after_leaving_the_list_is_not_counted_as_to_call(engine):
    seed(engine, *callers(2), agent("A1"))
    launch(engine)
    with Session(engine) as session, session.begin():
        first, second = session.scalars(select(Case).order_by(Case.id)).all()
        first.status = "resolved"  # changed in the same flush that writes its entry
        first.agent_id = second.agent_id = "A1"
    assert sorted(queue_flags(engine).values()) == [False, True]
