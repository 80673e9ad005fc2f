"""Completion of a recall for the reporting team: figures only, never a phone or an address.

The funnel counts each case at the furthest stage it has reached: every case is identified;
notified when a notice reached the customer (a letter posted and not returned, a call that
reached them, ...: `cases.notified_by`), never for an unanswered attempt; contacted when the
customer answered (a reached customer stays contacted whether they then declined, were
escalated or resolved). A case is counted under the channel it was identified with; its later
moves between channels are counted as moves.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Engine, case, cast, func, select
from sqlalchemy.orm import Session

from recall import spreadsheet
from recall.calling.queue import held_by, on_call_list
from recall.db.models import Agent, CallAttempt, Case, CaseEvent, QueueEntry, Recall, Store
from recall.domain.cases import SIDE_STATUSES, STAGES, channel_of, stages_of
from recall.domain.errors import RecallNotFound
from recall.reporting.reach import Reach, reach


@dataclass
class Funnel:
    identified: int = 0
    notified: int = 0
    contacted: int = 0
    resolved: int = 0
    unreachable: int = 0
    declined: int = 0
    escalated: int = 0

    def add(self, status: str, count: int, notified: bool = False) -> None:
        for name in stages_of(status, notified):
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
class StoreName:
    name: str | None  # None: a store the stores file does not name
    city: str | None


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
    moves: dict[tuple[str, str], int] = field(default_factory=dict)  # (first, now) -> cases
    # channel of the notice -> day (on the clock of `zone`) -> cases notified that day
    notified_days: dict[str, dict[dt.date, int]] = field(default_factory=dict)
    reach: Reach = field(default_factory=Reach)  # notices, contacts, resolutions per channel
    stores: dict[str, StoreName] = field(default_factory=dict)  # by_store's keys named
    zone: str = "UTC"  # the clock by_day and notified_days count their days on


def completion(*, engine: Engine, recall_id: str, zone: str = "UTC") -> Completion:
    """Where the recall stands: its funnel as a whole, by channel, agent, store and day (the
    days on the clock of `zone`)."""
    with Session(engine) as session:
        recall = session.get(Recall, recall_id)
        if recall is None:
            raise RecallNotFound(recall_id)
        mine = Case.recall_id == recall_id
        total = Funnel()
        by_channel: defaultdict[str, Funnel] = defaultdict(Funnel)
        by_store: defaultdict[str, Funnel] = defaultdict(Funnel)
        moves: defaultdict[tuple[str, str], int] = defaultdict(int)
        notified = Case.notified_by.is_not(None)
        columns = (Case.first_channel, Case.letter, Case.call, Case.notice_only, Case.stores,
                   Case.status, notified)  # fmt: skip
        grouped = session.execute(select(*columns, func.count()).where(mine).group_by(*columns))
        for first, letter, call, notice_only, stores, status, reached, count in grouped:
            total.add(status, count, bool(reached))
            by_channel[first].add(status, count, bool(reached))
            now = channel_of(letter, call, notice_only)
            if now != first:
                moves[(first, now)] += count
            for store in _split(stores):
                by_store[store].add(status, count, bool(reached))
        by_day, notified_days = _days(session, recall_id, ZoneInfo(zone))
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
            by_store=dict(sorted(by_store.items())), by_day=by_day, notified_days=notified_days,
            outcomes=dict(sorted(outcomes.items())), moves=dict(sorted(moves.items())),
            reach=reach(session, recall_id), stores=_store_names(session, by_store), zone=zone,
        )  # fmt: skip


def _agents(session: Session, recall_id: str) -> list[AgentLine]:
    lines = {
        a.agent_id: AgentLine(a.agent_id, a.name, a.active)
        for a in session.scalars(select(Agent).order_by(Agent.agent_id))
    }
    notified = Case.notified_by.is_not(None)
    statuses = session.execute(
        select(QueueEntry.agent_id, Case.status, notified, func.count())
        .select_from(Case)
        .join(*held_by())
        .where(Case.recall_id == recall_id)
        .group_by(QueueEntry.agent_id, Case.status, notified)
    )
    for agent_id, status, reached, count in statuses:
        _line(lines, agent_id).funnel.add(status, count, bool(reached))
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


def _days(
    session: Session, recall_id: str, zone: ZoneInfo
) -> tuple[list[DayLine], dict[str, dict[dt.date, int]]]:
    """Cases first reaching each stage, per day on the clock of `zone`; a case counts as
    notified on the day of the notice that stands (a returned letter's day does not count), if
    any stands. Also the notified ones by the channel that reached them, for the regulator's."""
    stage = ("notified", "contacted", "resolved")
    counts: dict[dt.date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(stage, 0))
    by_channel: defaultdict[str, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    notified = notified_moments(session, recall_id)
    hour = utc_hour(session, notified.c.at)
    rows = session.execute(
        select(notified.c.channel, hour, func.count()).group_by(notified.c.channel, hour)
    )
    for channel, when, count in rows:
        if when is not None:
            by_channel[channel][local_day(when, zone)] += count
            counts[local_day(when, zone)]["notified"] += count
    for name in ("contacted", "resolved"):
        moments = first_moments(session, recall_id, name)
        hour = utc_hour(session, moments.c.at)
        for when, count in session.execute(select(hour, func.count()).group_by(hour)):
            if when is not None:
                counts[local_day(when, zone)][name] += count
    days = {channel: dict(per_day) for channel, per_day in by_channel.items()}
    return [DayLine(d, **counts[d]) for d in sorted(counts)], days


def first_moments(session: Session, recall_id: str, *statuses: str) -> Any:
    """(case_id, at): each case's first step to one of `statuses`."""
    return (
        select(CaseEvent.case_id, func.min(CaseEvent.at).label("at"))
        .join(Case, Case.id == CaseEvent.case_id)
        .where(Case.recall_id == recall_id, CaseEvent.new_status.in_(statuses))
        .group_by(CaseEvent.case_id)
        .subquery()
    )


# Notices that reach the customer on their own (a letter posted, a message left or
# delivered); through any other channel, the customer was reached when they were in touch.
NOTICE_ALONE = ("letter", "voicemail", "email", "sms")


def notified_moments(session: Session, recall_id: str) -> Any:
    """(case_id, channel, at): when the notice that stands reached each notified case: for a
    notice that arrives on its own, its latest step to notified; else its first contact."""
    latest = (
        select(CaseEvent.case_id, func.max(CaseEvent.at).label("at"))
        .join(Case, Case.id == CaseEvent.case_id)
        .where(Case.recall_id == recall_id, CaseEvent.new_status == "notified")
        .group_by(CaseEvent.case_id)
        .subquery()
    )
    contacted = first_moments(session, recall_id, "contacted")
    return (
        select(
            Case.id.label("case_id"),
            Case.notified_by.label("channel"),
            case(
                (Case.notified_by.in_(NOTICE_ALONE), latest.c.at),
                else_=func.coalesce(contacted.c.at, latest.c.at),
            ).label("at"),
        )
        .outerjoin(latest, latest.c.case_id == Case.id)
        .outerjoin(contacted, contacted.c.case_id == Case.id)
        .where(Case.recall_id == recall_id, Case.notified_by.is_not(None))
        .subquery()
    )


def utc_day(session: Session, column: Any) -> Any:
    """The UTC day of a timestamp column (SQLite has no DATE type: date() gives text)."""
    return func.date(column) if session.get_bind().dialect.name == "sqlite" else cast(column, Date)


def utc_hour(session: Session, column: Any) -> Any:
    """The UTC hour of a timestamp column; its day on a clock is decided in Python, to the hour
    (a clock off the hour, India's, may count its day's first minutes on the day before)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m-%d %H:00:00", column)
    return func.date_trunc("hour", func.timezone("UTC", column))


def local_day(hour: object, zone: ZoneInfo) -> dt.date:
    """The day on the clock of `zone` of a UTC hour read back from utc_hour."""
    at = dt.datetime.fromisoformat(hour) if isinstance(hour, str) else hour
    return at.replace(tzinfo=dt.UTC).astimezone(zone).date()  # type: ignore[attr-defined]


def _store_names(session: Session, by_store: dict[str, Funnel]) -> dict[str, StoreName]:
    """The name and city of each store of the figures, as the stores file gives them."""
    named = session.execute(
        select(Store.store_id, Store.name, Store.city).where(Store.store_id.in_(list(by_store)))
    )
    return {store_id: StoreName(name, city) for store_id, name, city in named}


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
    for (first, now), count in report.moves.items():
        writer.writerow((report.recall_id, "move", f"{first}->{now}", *[""] * 9, count))
    return out.getvalue()
