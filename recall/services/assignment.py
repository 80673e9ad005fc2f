"""Giving every call-list case one active agent, and evening loads out when agents change."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    Select,
    and_,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from recall.clock import Clock, utc_now
from recall.db.models import Agent, Case, CaseEvent, QueueEntry
from recall.domain.assignment import AgentSlot, Item, excess, plan_assignment
from recall.domain.calling import NOT_WORKED_YET, SPECIALIST_SKILL, WORKABLE, call_priority
from recall.domain.cases import Status
from recall.domain.definition import RecallDefinition
from recall.services import recalls
from recall.services.agents import split_stored
from recall.services.cases import record_move

SYSTEM = "assignment"
_CHUNK = 5_000  # ids per UPDATE: far below SQLite's bound-parameter limit
_WORKABLE = [s.value for s in WORKABLE]


@dataclass
class AssignmentReport:
    recall_id: str
    agents: int
    assigned: int = 0  # cases that had no active agent and now have one
    moved: int = 0  # cases moved from an active agent to even loads out (rebalance)
    unplaced: dict[str, int] = field(default_factory=dict)  # why -> cases still without agent
    fallbacks: dict[str, int] = field(default_factory=dict)  # what was relaxed -> cases
    seconds: float = 0.0


def on_call_list(recall_id: str | None = None) -> ColumnElement[bool]:
    """Cases someone still has to phone."""
    clause = and_(Case.call.is_(True), Case.status.in_(_WORKABLE))
    return clause if recall_id is None else and_(Case.recall_id == recall_id, clause)


def listed_for(agent_id: str) -> ColumnElement[bool]:
    """Cases to call on the agent's list, once cases are joined to their `QueueEntry`."""
    return and_(QueueEntry.agent_id == agent_id, QueueEntry.to_call.is_(True))


def held_by() -> tuple[type[QueueEntry], ColumnElement[bool]]:
    """The join from cases to the agent holding them: `.join(*held_by())`."""
    return QueueEntry, QueueEntry.case_id == Case.id


def active_slots(session: Session) -> list[AgentSlot]:
    """Active agents with the open call-list cases they hold, across every recall."""
    loads = dict(
        session.execute(
            select(QueueEntry.agent_id, func.count())
            .where(QueueEntry.to_call.is_(True))
            .group_by(QueueEntry.agent_id)
        )
        .tuples()
        .all()
    )
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
    definition = recalls.get_definition(engine=engine, recall_id=recall_id)
    with Session(engine) as session, session.begin():
        slots = active_slots(session)
        active = [s.agent_id for s in slots]
        rows = _waiting(session, definition, active)
        taken: dict[int, str] = {}
        if rebalance and slots:
            taken = _surplus(session, definition, slots, len(rows), home_language, clock())
            rows += _rows(session, list(taken))
            lighter = Counter(taken.values())
            slots = [_lighter(s, lighter[s.agent_id]) for s in slots]
        plan = plan_assignment([_item(definition, row) for row in rows], slots, home_language)
        _write(session, plan.assigned, rows, clock())
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


_COLUMNS = (
    Case.id, Case.priority, Case.language, Case.status, Case.escalation_reason,
    QueueEntry.agent_id, Case.quantity, Case.last_purchase,
)  # fmt: skip


def _with_holder() -> Select[Any]:
    return select(*_COLUMNS).outerjoin(*held_by())


def _waiting(session: Session, definition: RecallDefinition, active: list[str]) -> list[Row[Any]]:
    """Cases of the call list with no agent, or an agent no longer active."""
    no_agent = or_(QueueEntry.agent_id.is_(None), QueueEntry.agent_id.not_in(active or [""]))
    query = _with_holder().where(on_call_list(definition.id), no_agent)
    return list(session.connection().execute(query))  # Core rows: a third cheaper than ORM


def _rows(session: Session, ids: list[int]) -> list[Row[Any]]:
    found: list[Row[Any]] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        found += session.connection().execute(_with_holder().where(Case.id.in_(chunk))).all()
    return found


def _item(definition: RecallDefinition, row: Row[Any]) -> Item:
    case_id, priority, language, status, reason = row[:5]
    if priority is None:
        priority = call_priority(definition.hazard, row.quantity, row.last_purchase)
    skill = (reason or SPECIALIST_SKILL) if status == Status.ESCALATED.value else None
    return Item(case_id, priority, language, skill, definition.hazard == "high")


def _surplus(
    session: Session,
    definition: RecallDefinition,
    slots: list[AgentSlot],
    incoming: int,
    home_language: str,
    now: dt.datetime,
) -> dict[int, str]:
    """Cases to take from agents above their fair share: their latest entries, home language
    first (anyone can take those), never one already worked, promised or held right now.

    The latest entries are a cross-section of every priority (cases are numbered as buyers are
    found), so an agent who joins gets urgent customers too, as everyone else; and they come
    straight from the end of the queue's index, not from sorting each agent's whole list.
    """
    taken: dict[int, str] = {}
    for agent_id, count in sorted(excess(slots, incoming).items()):
        # Among twice the cases needed, the home-language ones go first.
        query = (
            select(Case.id, Case.language)
            .join(QueueEntry, QueueEntry.case_id == Case.id)
            .where(
                QueueEntry.agent_id == agent_id,
                QueueEntry.to_call.is_(True),
                Case.recall_id == definition.id,
                Case.status.in_([s.value for s in NOT_WORKED_YET]),
                Case.attempts == 0,
                Case.callback_agent.is_(None),
                Case.callback_at.is_(None),  # a callback handed on by the follow-up stays put
                or_(Case.claimed_until.is_(None), Case.claimed_until < now),
            )
            .order_by(QueueEntry.case_id.desc())
            .limit(2 * count)
        )
        found = list(session.execute(query))
        found.sort(key=lambda row: row.language != home_language)  # stable: keeps the order
        taken.update((row.id, agent_id) for row in found[:count])
    return taken


def _write(
    session: Session, assigned: dict[int, str], rows: list[Row[Any]], now: dt.datetime
) -> None:
    """Store the agents: new entries in bulk (COPY on PostgreSQL), changed ones in one
    statement; moves from one agent to another get an event, and lose a callback promised by
    the old agent."""
    before = {row.id: (row.agent_id, row.status) for row in rows if row.agent_id is not None}
    fresh = [(c, a) for c, a in sorted(assigned.items()) if c not in before]
    changed = [(c, a) for c, a in sorted(assigned.items()) if c in before and before[c][0] != a]
    connection = session.connection()
    _insert_entries(connection, fresh)
    _update_entries(connection, changed)
    moved = [c for c, _ in changed]
    for start in range(0, len(moved), _CHUNK):
        session.execute(
            update(Case)
            .where(Case.id.in_(moved[start : start + _CHUNK]))
            .values(callback_agent=None)
            .execution_options(synchronize_session=False)
        )
    if moved:
        events = [_move_event(c, *before[c], assigned[c], now) for c in moved]
        session.execute(insert(CaseEvent), events)


def _insert_entries(connection: Connection, pairs: list[tuple[int, str]]) -> None:
    """New queue entries of cases read from the call list in this transaction: still to call."""
    if not pairs:
        return
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy("COPY call_queue (case_id, agent_id, to_call) FROM STDIN") as copy:
            for case_id, agent_id in pairs:
                copy.write_row((case_id, agent_id, True))
    else:
        connection.exec_driver_sql(
            "INSERT INTO call_queue (case_id, agent_id, to_call) VALUES (?, ?, 1)", pairs
        )


def _update_entries(connection: Connection, pairs: list[tuple[int, str]]) -> None:
    if not pairs:
        return
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            "UPDATE call_queue SET agent_id = v.agent_id FROM unnest(%s::bigint[], %s::text[])"
            " AS v(id, agent_id) WHERE call_queue.case_id = v.id",
            ([case_id for case_id, _ in pairs], [agent_id for _, agent_id in pairs]),
        )
    else:
        connection.exec_driver_sql(
            "UPDATE call_queue SET agent_id = ? WHERE case_id = ?", [(a, c) for c, a in pairs]
        )


def _move_event(case_id: int, old: str, status: str, new: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "case_id": case_id, "at": now, "actor": SYSTEM, "channel": "phone",
        "old_status": status, "new_status": status,
        "note": f"call list: moved from agent {old} to agent {new}",
    }  # fmt: skip


class ReassignError(ValueError):
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
        if not (case.call and case.status in _WORKABLE):
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
