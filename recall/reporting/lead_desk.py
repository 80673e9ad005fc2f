"""What the quality lead's desk shows beside the figures: the recall's letter batches, every
agent of the roster (deactivated ones too), and what closing the recall would do."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from recall.calling.agents import AgentView
from recall.calling.queue import on_call_list
from recall.campaign.definitions import definition_of
from recall.db.models import Case, LetterBatch, Recall
from recall.domain.errors import NotFound, RecallNotFound
from recall.reporting.completion import AgentLine


@dataclass(frozen=True)
class BatchLine:
    batch_no: int
    file: str
    letters: int
    rendered_at: dt.datetime | None
    mailed_at: dt.datetime | None


@dataclass(frozen=True)
class RecallState:
    recall_id: str
    title: str
    closed_at: dt.datetime | None
    to_call: int  # open cases of the call list: closing takes them off it
    retention: dt.timedelta  # after closing, personal data is kept this long


def letter_batches(*, engine: Engine, recall_id: str) -> list[BatchLine]:
    """The recall's letter batches in order: planned, rendered, mailed."""
    with Session(engine) as session:
        batches = session.scalars(
            select(LetterBatch)
            .where(LetterBatch.recall_id == recall_id)
            .order_by(LetterBatch.batch_no)
        )
        return [
            BatchLine(b.batch_no, b.file, b.letters, b.rendered_at, b.mailed_at) for b in batches
        ]


def batch_file(*, engine: Engine, recall_id: str, batch_no: int) -> str:
    """The file of one of the recall's letter batches; NotFound when it has no such batch."""
    with Session(engine) as session:
        found = session.get(LetterBatch, (recall_id, batch_no))
        if found is None:
            raise NotFound(f"recall {recall_id} has no letter batch {batch_no}")
        return found.file


def recall_state(*, engine: Engine, recall_id: str) -> RecallState:
    """Whether the recall is closed, and what closing it would take off the call list."""
    with Session(engine) as session:
        recall = session.get(Recall, recall_id)
        if recall is None:
            raise RecallNotFound(recall_id)
        to_call = session.scalar(select(func.count(Case.id)).where(on_call_list(recall_id)))
        retention = definition_of(session, recall_id).follow_up.retention
        return RecallState(recall.id, recall.title, recall.closed_at, int(to_call or 0), retention)


def roster_lines(lines: Iterable[AgentLine], roster: Iterable[AgentView]) -> list[AgentLine]:
    """Every agent of the roster with their figures on the recall, deactivated ones too (their
    cases have gone to others, they have not left), the active first, by name."""
    known = {line.agent_id: line for line in lines}
    for agent in roster:
        line = known.get(agent.agent_id) or AgentLine(agent.agent_id, agent.name, agent.active)
        known[agent.agent_id] = replace(line, name=agent.name, active=agent.active)
    return sorted(known.values(), key=lambda a: (not a.active, a.name.casefold(), a.agent_id))
