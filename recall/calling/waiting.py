"""Call-list cases waiting for an agent, read in bulk: hundreds of thousands per assignment.

A waiting case is read as a plain tuple: (priority, case id, language, skill needed or None),
followed by (agent holding it, status) when an agent holds it and must give it up.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    String,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from recall.calling.queue import CHUNK, held_by, on_call_list, plain_rows
from recall.db.models import Case, QueueEntry
from recall.domain.assignment import Need
from recall.domain.calling import NOT_WORKED_YET, SPECIALIST_SKILL, call_priority
from recall.domain.cases import Status
from recall.domain.definition import RecallDefinition

Waiting = tuple[Any, ...]

_SKILL = case(
    (
        Case.status == Status.ESCALATED.value,
        func.coalesce(func.nullif(Case.escalation_reason, ""), SPECIALIST_SKILL),
    )
)  # an escalation waits for a specialist of its reason
_NEED = (Case.priority, Case.id, Case.language, _SKILL)
_HELD = (*_NEED, QueueEntry.agent_id, Case.status)


def never_given(connection: Connection, definition: RecallDefinition) -> list[Waiting]:
    """Cases of the call list that no agent has ever had."""
    never = ~exists().where(QueueEntry.case_id == Case.id)
    return plain_rows(connection, select(*_NEED).where(on_call_list(definition.id), never))


def held_by_agents(
    connection: Connection, definition: RecallDefinition, agents: list[str]
) -> list[Waiting]:
    """Cases of the call list held by these agents (those no longer active)."""
    if not agents:
        return []
    query = (
        select(*_HELD)
        .join(*held_by())
        .where(on_call_list(definition.id), QueueEntry.agent_id.in_(agents))
    )
    return plain_rows(connection, query)


def latest_movable(
    connection: Connection, definition: RecallDefinition, counts: dict[str, int], now: dt.datetime
) -> Iterator[tuple[str, list[Waiting]]]:
    """Each agent's `2 * count` latest entries that may move to another agent, latest first:
    nobody has called them, promised them a callback, or holds them right now.

    They are read from the end of each agent's part of the queue index (agent, to call, case):
    on SQLite one short query per agent; on PostgreSQL one query for all of them (a lateral
    join), since there each round trip costs more than the rows it reads.
    """
    movable = and_(
        QueueEntry.to_call,
        Case.recall_id == definition.id,
        Case.status.in_([s.value for s in NOT_WORKED_YET]),
        Case.attempts == 0,
        Case.callback_agent.is_(None),
        Case.callback_at.is_(None),  # a callback handed on by the follow-up stays put
        or_(Case.claimed_until.is_(None), Case.claimed_until < now),
    )
    agents = sorted(counts)
    if not agents:
        return
    if connection.dialect.name != "postgresql":
        for agent_id in agents:
            query = (
                select(*_HELD)
                .join(*held_by())
                .where(QueueEntry.agent_id == agent_id, movable)
                .order_by(QueueEntry.case_id.desc())
                .limit(2 * counts[agent_id])
            )
            yield agent_id, plain_rows(connection, query)
        return
    wanted = (
        func.unnest(
            literal(agents, ARRAY(String)), literal([2 * counts[a] for a in agents], ARRAY(Integer))
        )
        .table_valued("agent_id", "n")
        .render_derived(name="wanted")
    )
    latest = (
        select(*_HELD)
        .join(*held_by())
        .where(QueueEntry.agent_id == wanted.c.agent_id, movable)
        .order_by(QueueEntry.case_id.desc())
        .limit(wanted.c.n)
        .lateral("latest")
    )
    found: dict[str, list[Waiting]] = defaultdict(list)
    for row in plain_rows(connection, select(latest).select_from(wanted).join(latest, true())):
        found[row[4]].append(row)
    for agent_id in agents:
        yield agent_id, sorted(found[agent_id], key=lambda row: -row[1])  # latest first


def by_need(
    connection: Connection, definition: RecallDefinition, rows: list[Waiting]
) -> dict[Need, list[int]]:
    """Case ids by need, most urgent first (ties: the case found first)."""
    rows = _with_priority(connection, definition, rows)
    rows.sort()  # by priority, then case id: unique, so nothing further is compared
    groups: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for row in rows:
        groups[row[2:4]].append(row[1])
    strict = definition.hazard == "high"
    return {(language, skill, strict): ids for (language, skill), ids in groups.items()}


def _with_priority(
    connection: Connection, definition: RecallDefinition, rows: list[Waiting]
) -> list[Waiting]:
    """Rows with the call priority of cases stored without one (made before it was stored)."""
    missing = [row[1] for row in rows if row[0] is None]
    if not missing:
        return rows
    computed: dict[int, int] = {}
    for start in range(0, len(missing), CHUNK):
        query = select(Case.id, Case.quantity, Case.last_purchase).where(
            Case.id.in_(missing[start : start + CHUNK])
        )
        for case_id, quantity, last in connection.execute(query):
            computed[case_id] = call_priority(definition.hazard, quantity, last)
    return [row if row[0] is not None else (computed[row[1]], *row[1:]) for row in rows]
