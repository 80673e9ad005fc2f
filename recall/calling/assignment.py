"""Giving every call-list case one active agent, and evening loads out when agents change."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.orm import Session

from recall.calling.agents import split_stored
from recall.calling.open_zones import forget_zones
from recall.calling.queue import add_entries, copy_rows, forget_callbacks, move_entries
from recall.calling.waiting import (
    Waiting,
    by_need,
    held_by_agents,
    latest_movable,
    never_given,
)
from recall.campaign import definitions
from recall.campaign.events import record_move
from recall.clock import Clock, utc_now
from recall.db.models import Agent, Case, CaseEvent, QueueEntry
from recall.domain.assignment import AgentSlot, excess, plan_groups
from recall.domain.calling import WORKABLE
from recall.domain.errors import Refused

SYSTEM = "assignment"


@dataclass
class AssignmentReport:
    recall_id: str
    agents: int
    assigned: int = 0  # cases that had no active agent and now have one
    moved: int = 0  # cases moved from an active agent to even loads out (rebalance)
    unplaced: dict[str, int] = field(default_factory=dict)  # why -> cases still without agent
    fallbacks: dict[str, int] = field(default_factory=dict)  # what was relaxed -> cases
    seconds: float = 0.0


def queue_loads(session: Session) -> dict[str, int]:
    """Open call-list cases held by each agent who holds any, active or not, every recall."""
    query = (
        select(QueueEntry.agent_id, func.count())
        .where(QueueEntry.to_call)
        .group_by(QueueEntry.agent_id)
    )
    return dict(session.execute(query).tuples().all())


def active_slots(session: Session, loads: dict[str, int] | None = None) -> list[AgentSlot]:
    """Active agents with the open call-list cases they hold (`loads`), across every recall."""
    loads = queue_loads(session) if loads is None else loads
    agents = session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.agent_id))
    return [
        AgentSlot(
            a.agent_id,
            a.capacity,
            frozenset(split_stored(a.languages)),
            frozenset(split_stored(a.skills)),
            loads.get(a.agent_id, 0),
        )
        for a in agents
    ]


def assign_call_list(
    *,
    engine: Engine,
    recall_id: str,
    home_language: str,
    rebalance: bool = False,
    clock: Clock = utc_now,
) -> AssignmentReport:
    """Give each call-list case without an active agent one; with `rebalance`, even loads out.

    Rebalancing moves only cases nobody has worked yet (no call, no callback promised), the
    fewest that bring every agent back to their fair share.
    """
    started = time.perf_counter()
    definition = definitions.get_definition(engine=engine, recall_id=recall_id)
    with Session(engine) as session, session.begin():
        connection = session.connection()
        loads = queue_loads(session)
        slots = active_slots(session, loads)
        active = [s.agent_id for s in slots]
        rows = never_given(connection, definition)
        rows += held_by_agents(connection, definition, sorted(set(loads) - set(active)))
        taken: list[Waiting] = []
        if rebalance and slots:
            counts = excess(slots, len(rows))
            candidates = latest_movable(connection, definition, counts, clock())
            taken = _surplus(candidates, counts, home_language)
            lighter = Counter(row[4] for row in taken)
            slots = [_lighter(s, lighter[s.agent_id]) for s in slots]
        rows += taken
        plan = plan_groups(by_need(connection, definition, rows), slots, home_language)
        _write(connection, plan.assigned, rows, clock())
    forget_zones()  # the claims of this process see the new cases' zones at once
    return AssignmentReport(
        recall_id=recall_id,
        agents=len(active),
        assigned=len(plan.assigned) - len(taken),
        moved=len(taken),
        unplaced=dict(plan.unplaced),
        fallbacks=dict(plan.fallbacks),
        seconds=time.perf_counter() - started,
    )


def _lighter(slot: AgentSlot, given_up: int) -> AgentSlot:
    return AgentSlot(
        slot.agent_id, slot.capacity, slot.languages, slot.skills, slot.load - given_up
    )


def _surplus(
    candidates: Iterable[tuple[str, list[Waiting]]], counts: dict[str, int], home_language: str
) -> list[Waiting]:
    """Cases to take from agents above their fair share: of twice the cases needed, their
    latest entries, the home-language ones first (anyone can take those).

    The latest entries are a cross-section of every priority (cases are numbered as buyers are
    found), so an agent who joins gets urgent customers too, as everyone else does.
    """
    taken: list[Waiting] = []
    for agent_id, found in candidates:
        found.sort(key=lambda row: row[2] != home_language)  # stable: keeps the order
        taken += found[: counts[agent_id]]
    return taken


def _write(
    connection: Connection, assigned: dict[int, str], rows: list[Waiting], now: dt.datetime
) -> None:
    """Store the agents: new entries in bulk, changed ones in one statement; moves from one
    agent to another get an event, and lose a callback promised by the old agent."""
    before = {row[1]: (row[4], row[5]) for row in rows if len(row) > 4}
    priority = {row[1]: row[0] for row in rows}
    # In case order: appended to the end of the primary key rather than all over it.
    add_entries(connection, [(c, assigned[c], priority[c]) for c in sorted(assigned)
                             if c not in before])  # fmt: skip
    moved = [c for c in sorted(before) if assigned.get(c, before[c][0]) != before[c][0]]
    move_entries(connection, [(c, assigned[c]) for c in moved])
    if moved:
        forget_callbacks(connection, moved)
    events = [_move_event(c, *before[c], assigned[c], now) for c in moved]
    if events and connection.dialect.name == "postgresql":
        copy_rows(connection, "case_events", list(events[0]), (tuple(e.values()) for e in events))
    elif events:
        connection.execute(insert(CaseEvent), events)


def _move_event(case_id: int, old: str, status: str, new: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "case_id": case_id, "at": now, "actor": SYSTEM, "channel": "phone",
        "old_status": status, "new_status": status,
        "note": f"call list: moved from agent {old} to agent {new}",
    }  # fmt: skip


class ReassignError(Refused):
    """A case that can't be moved as asked; nothing was written."""


def reassign_case(
    *, engine: Engine, case_ref: str, agent_id: str, actor: str, clock: Clock = utc_now
) -> str:
    """Move one open call-list case to another active agent (a lead's decision); its old agent."""
    now = clock()
    with Session(engine) as session, session.begin():
        case = session.scalar(
            select(Case).where(Case.case_ref == case_ref.strip().upper()).with_for_update()
        )
        if case is None:
            raise ReassignError(f"no case {case_ref!r}")
        if not (case.call and case.status in WORKABLE):
            raise ReassignError(f"case {case.case_ref} is not on a call list ({case.status})")
        agent = session.get(Agent, agent_id)
        if agent is None or not agent.active:
            raise ReassignError(f"no active agent {agent_id!r}")
        old = case.agent_id or "(none)"
        if case.agent_id == agent_id:
            return old
        if case.claimed_until is not None and case.claimed_until > now:
            raise ReassignError(f"case {case.case_ref} is being worked right now: try later")
        case.agent_id, case.callback_agent = agent_id, None
        note = f"call list: moved from agent {old} to agent {agent_id} by {actor}"
        record_move(session, case, actor=actor, channel="phone", note=note, clock=lambda: now)
        return old
