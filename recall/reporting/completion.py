"""Completion of a recall for the reporting team: figures only, never a phone or an address.

The funnel counts each case at the furthest stage it has reached: every case is identified;
a case whose status moved on was notified; contacted when the customer was reached (a reached
customer stays contacted whether they then declined, were escalated or resolved).
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Date, Engine, cast, func, select
from sqlalchemy.orm import Session

from recall import spreadsheet
from recall.calling.queue import held_by, on_call_list
from recall.db.models import Agent, CallAttempt, Case, CaseEvent, QueueEntry, Recall
from recall.domain.cases import SIDE_STATUSES, STAGES, channel_of, stages_of
from recall.domain.errors import RecallNotFound


@dataclass
class Funnel:
    identified: int = 0
    notified: int = 0
    contacted: int = 0
    resolved: int = 0
    unreachable: int = 0
    declined: int = 0
    escalated: int = 0

    def add(self, status: str, count: int) -> None:
        for name in stages_of(status):
            setattr(self, name, getattr(self, name) + count)
        if status in SIDE_STATUSES:
            setattr(self, status, getattr(self, status) + count)

    @property
    def resolved_share(self) -> float:
        return self.resolved / self.identified if self.identified else 0.0


@dataclass
class AgentLine:
    agent_id: str
    name: str
    active: bool
    funnel: Funnel = field(default_factory=Funnel)
    to_call: int = 0  # open call-list cases on their list
    calls: int = 0  # calls recorded by the agent on this recall


@dataclass(frozen=True)
class DayLine:
    day: dt.date
    notified: int
    contacted: int
    resolved: int


@dataclass
class Completion:
    recall_id: str
    title: str
    hazard: str
    launched_at: dt.datetime
    total: Funnel
    by_channel: dict[str, Funnel]
    by_agent: list[AgentLine]
    by_store: dict[str, Funnel]
    by_day: list[DayLine]
    outcomes: dict[str, int]


def completion(*, engine: Engine, recall_id: str) -> Completion:
    """Where the recall stands: its funnel as a whole, by channel, agent, store and day."""
    with Session(engine) as session:
        recall = session.get(Recall, recall_id)
        if recall is None:
            raise RecallNotFound(recall_id)
        mine = Case.recall_id == recall_id
        total = Funnel()
        by_channel: defaultdict[str, Funnel] = defaultdict(Funnel)
        by_store: defaultdict[str, Funnel] = defaultdict(Funnel)
        grouped = session.execute(
            select(Case.letter, Case.call, Case.stores, Case.status, func.count())
            .where(mine)
            .group_by(Case.letter, Case.call, Case.stores, Case.status)
        )
        for letter, call, stores, status, count in grouped:
            total.add(status, count)
            by_channel[channel_of(letter, call)].add(status, count)
            for store in _split(stores):
                by_store[store].add(status, count)
        outcomes: dict[str, int] = {
            str(outcome): count
            for outcome, count in session.execute(
                select(Case.outcome, func.count())
                .where(mine, Case.outcome.is_not(None))
                .group_by(Case.outcome)
            )
        }
        return Completion(
            recall_id=recall.id, title=recall.title, hazard=recall.hazard,
            launched_at=recall.launched_at, total=total,
            by_channel=dict(sorted(by_channel.items())), by_agent=_agents(session, recall_id),
            by_store=dict(sorted(by_store.items())), by_day=_days(session, recall_id),
            outcomes=dict(sorted(outcomes.items())),
        )  # fmt: skip


def _agents(session: Session, recall_id: str) -> list[AgentLine]:
    lines = {
        a.agent_id: AgentLine(a.agent_id, a.name, a.active)
        for a in session.scalars(select(Agent).order_by(Agent.agent_id))
    }
    statuses = session.execute(
        select(QueueEntry.agent_id, Case.status, func.count())
        .select_from(Case)
        .join(*held_by())
        .where(Case.recall_id == recall_id)
        .group_by(QueueEntry.agent_id, Case.status)
    )
    for agent_id, status, count in statuses:
        _line(lines, agent_id).funnel.add(status, count)
    open_ = session.execute(
        select(QueueEntry.agent_id, func.count())
        .select_from(Case)
        .join(*held_by())
        .where(on_call_list(recall_id))
        .group_by(QueueEntry.agent_id)
    )
    for agent_id, count in open_:
        _line(lines, agent_id).to_call = count
    calls = session.execute(
        select(CallAttempt.agent_id, func.count())
        .join(Case, Case.id == CallAttempt.case_id)
        .where(Case.recall_id == recall_id, CallAttempt.disposition.is_not(None))
        .group_by(CallAttempt.agent_id)
    )
    for agent_id, count in calls:
        _line(lines, agent_id).calls = count
    return [line for line in lines.values() if line.funnel.identified or line.calls]


def _line(lines: dict[str, AgentLine], agent_id: str) -> AgentLine:
    if agent_id not in lines:  # an agent removed from the agents file since
        lines[agent_id] = AgentLine(agent_id, agent_id, False)
    return lines[agent_id]


def _days(session: Session, recall_id: str) -> list[DayLine]:
    """Cases first reaching each stage, per UTC day."""
    stage = ("notified", "contacted", "resolved")
    first = (
        select(CaseEvent.case_id, CaseEvent.new_status, func.min(CaseEvent.at).label("at"))
        .join(Case, Case.id == CaseEvent.case_id)
        .where(Case.recall_id == recall_id, CaseEvent.new_status.in_(list(stage)))
        .group_by(CaseEvent.case_id, CaseEvent.new_status)
        .subquery()
    )
    day = utc_day(session, first.c.at)
    counts: dict[dt.date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(stage, 0))
    rows = session.execute(
        select(day, first.c.new_status, func.count()).group_by(day, first.c.new_status)
    )
    for when, status, count in rows:
        counts[as_date(when)][status] = count
    return [DayLine(d, **counts[d]) for d in sorted(counts)]


def utc_day(session: Session, column: Any) -> Any:
    """The UTC day of a timestamp column (SQLite has no DATE type: date() gives text)."""
    return func.date(column) if session.get_bind().dialect.name == "sqlite" else cast(column, Date)


def as_date(value: object) -> dt.date:
    """A day read back from utc_day, on either database."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value  # type: ignore[return-value]


def _split(stores: str | None) -> Iterable[str]:
    return [s.strip() for s in (stores or "").split(",") if s.strip()] or ["(none)"]


def completion_csv(report: Completion) -> str:
    """The completion figures as one CSV table: a row per (section, key)."""
    out = io.StringIO()
    writer = spreadsheet.writer(out, lineterminator="\n")
    columns = (*STAGES, *SIDE_STATUSES)
    writer.writerow(("recall_id", "section", "key", *columns, "to_call", "calls", "cases"))
    rows: list[tuple[str, str, Funnel, tuple[object, ...]]] = [
        ("total", "all", report.total, ("", ""))
    ]
    rows += [("channel", k, f, ("", "")) for k, f in report.by_channel.items()]
    rows += [("agent", a.agent_id, a.funnel, (a.to_call, a.calls)) for a in report.by_agent]
    rows += [("store", k, f, ("", "")) for k, f in report.by_store.items()]
    for section, key, funnel, extra in rows:
        figures = (getattr(funnel, c) for c in columns)
        writer.writerow((report.recall_id, section, key, *figures, *extra, ""))
    for line in report.by_day:
        writer.writerow(
            (report.recall_id, "day", line.day.isoformat(), "", line.notified, line.contacted,
             line.resolved, "", "", "", "", "", "")
        )  # fmt: skip
    for outcome, count in report.outcomes.items():
        writer.writerow((report.recall_id, "outcome", outcome, *[""] * 9, count))
    return out.getvalue()
