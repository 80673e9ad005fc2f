"""The monthly report's figures, for one calendar month and since the launch. Every figure
is counted from the log, never estimated:
- units corrected: carried out (fulfilments), not merely agreed;
- consumers notified: a notice that reached them, on the day it did (an unanswered call, a
  returned letter are not notices);
- consumers who contacted the firm: their first contact through a channel they chose
  (the hotline, a store, the web page), which a call the firm made is not.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from recall.campaign.definitions import definition_of
from recall.clock import Clock, utc_now
from recall.db.models import Case, CaseEvent, Fulfilment, Incident, Recall
from recall.domain.errors import RecallNotFound, Refused
from recall.domain.remedies import FulfilmentKind, Severity
from recall.reporting.completion import as_date, utc_day
from recall.reporting.effectiveness import CheckFigures, check_figures
from recall.reporting.progress import NOTIFIED_BY, Agreed, Progress, progress

# Where a consumer's own contact came through; the firm's own calls are not among them.
CONSUMER_CHANNELS = ("hotline", "store", "web", "email", "letter")
INCIDENT_ROWS = ("incidents", "injuries", "deaths")


@dataclass(frozen=True)
class Figure:
    """One line of the report: this month, and since the launch up to the month's end."""

    key: str
    month: int
    cumulative: int


@dataclass(frozen=True)
class IncidentLine:
    key: str  # incidents, injuries, deaths
    before_month: int  # reported this month, occurred before the recall's launch
    after_month: int
    before_total: int
    after_total: int


@dataclass(frozen=True)
class MonthlyReport:
    recall_id: str
    title: str
    hazard: str
    launched_on: dt.date
    month_start: dt.date
    month_end: dt.date
    as_of: dt.datetime
    units_affected: int
    untraceable_units: int
    corrected: Figure  # units carried out, with consumers (the only location the firm knows)
    corrected_by_kind: list[Figure]
    agreed: Agreed  # agreed, not carried out: as of the report's making, like cases, resolved
    incidents: list[IncidentLine]
    notified: list[Figure]  # consumers notified by mail, phone, e-mail, SMS
    attempts: Figure  # every call recorded, answered or not (an unanswered one is no notice)
    contacted_firm: list[Figure]  # consumers who contacted the firm, by channel
    checks: CheckFigures
    completion_expected: dt.datetime | None
    ends_on: dt.date | None
    cases: int
    resolved: int
    notes: list[str] = field(default_factory=list)


def month_bounds(month: str | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """`2026-11` -> its first and last day; None: the current month."""
    if month is None:
        first = today.replace(day=1)
    else:
        try:
            first = dt.date.fromisoformat(f"{month.strip()}-01")
        except ValueError:
            raise Refused(f"month {month!r} is not a month like 2026-11") from None
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def monthly_report(
    *, engine: Engine, recall_id: str, month: str | None = None, clock: Clock = utc_now
) -> MonthlyReport:
    """The report for one calendar month (UTC days) of a recall."""
    now = clock()
    start, end = month_bounds(month, now.date())
    with Session(engine) as session:
        recall = session.get(Recall, recall_id)
        if recall is None:
            raise RecallNotFound(recall_id)
        if start > now.date():
            raise Refused(f"month {start:%Y-%m} has not begun")
        definition = definition_of(session, recall_id)
        launched = recall.launched_at.date()
        if end < launched.replace(day=1):
            raise Refused(f"recall {recall_id} was launched on {launched}, after {start:%Y-%m}")
        kinds = _kind_days(session, recall_id)
        contacts = _contact_days(session, recall_id)
        incidents = _incidents(session, recall_id, launched, start, end)
    state: Progress = progress(engine=engine, recall_id=recall_id, clock=clock)
    firsts = state.per_day

    def figure(key: str, per_day: dict[dt.date, int]) -> Figure:
        month_sum = sum(v for d, v in per_day.items() if start <= d <= end)
        return Figure(key, month_sum, sum(v for d, v in per_day.items() if d <= end))

    total = state.completion.total
    return MonthlyReport(
        recall_id=recall.id, title=recall.title, hazard=recall.hazard, launched_on=launched,
        month_start=start, month_end=end, as_of=now, units_affected=state.units.affected,
        untraceable_units=state.units.untraceable,
        corrected=figure("corrected", firsts["corrected"]),
        corrected_by_kind=[figure(k.value, kinds.get(k.value, {})) for k in FulfilmentKind],
        agreed=state.units.agreed, incidents=incidents,
        notified=[figure(name, firsts[f"notified_{name}"]) for name in NOTIFIED_BY],
        attempts=figure("call_attempts", firsts["attempts"]),
        contacted_firm=[figure(c, contacts.get(c, {})) for c in CONSUMER_CHANNELS],
        checks=check_figures(
            engine=engine, recall_id=recall_id,
            until=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC),
        ),
        completion_expected=state.forecast.done_by, ends_on=definition.ends_on,
        cases=total.identified, resolved=total.resolved,
    )  # fmt: skip


def _kind_days(session: Session, recall_id: str) -> dict[str, dict[dt.date, int]]:
    per: dict[str, dict[dt.date, int]] = defaultdict(dict)
    day = utc_day(session, Fulfilment.done_on)
    rows = session.execute(
        select(Fulfilment.kind, day, func.sum(Fulfilment.units))
        .where(Fulfilment.recall_id == recall_id)
        .group_by(Fulfilment.kind, day)
    )
    for kind, when, units in rows:
        per[kind][as_date(when)] = int(units)
    return per


def _contact_days(session: Session, recall_id: str) -> dict[str, dict[dt.date, int]]:
    """Cases first in touch through a channel of their own, per channel and day."""
    first = (
        select(CaseEvent.case_id, func.min(CaseEvent.id).label("event_id"))
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            Case.recall_id == recall_id,
            CaseEvent.new_status == "contacted",
            CaseEvent.old_status != "contacted",
            CaseEvent.old_status != "declined",  # migration 0015's corrections
        )
        .group_by(CaseEvent.case_id)
        .subquery()
    )
    day = utc_day(session, CaseEvent.at)
    rows = session.execute(
        select(CaseEvent.channel, day, func.count())
        .join(first, first.c.event_id == CaseEvent.id)
        .where(CaseEvent.channel.in_(CONSUMER_CHANNELS))
        .group_by(CaseEvent.channel, day)
    )
    per: dict[str, dict[dt.date, int]] = defaultdict(dict)
    for channel, when, count in rows:
        per[channel][as_date(when)] = int(count)
    return per


def _incidents(
    session: Session, recall_id: str, launched: dt.date, start: dt.date, end: dt.date
) -> list[IncidentLine]:
    """Incidents reported (recorded) this month and since the launch, by when they occurred."""
    counts: dict[tuple[str, bool, bool], int] = defaultdict(int)
    rows = session.execute(
        select(Incident.severity, Incident.occurred_on, Incident.recorded_at).where(
            Incident.recall_id == recall_id
        )
    )
    for severity, occurred, recorded in rows:
        reported = recorded.date()
        if reported > end:
            continue
        before = occurred < launched
        keys = ["incidents"]
        if severity == Severity.INJURY:
            keys.append("injuries")
        if severity == Severity.DEATH:
            keys.append("deaths")
        for key in keys:
            counts[(key, before, True)] += 1
            if reported >= start:
                counts[(key, before, False)] += 1
    return [
        IncidentLine(
            key,
            counts[(key, True, False)],
            counts[(key, False, False)],
            counts[(key, True, True)],
            counts[(key, False, True)],
        )
        for key in INCIDENT_ROWS
    ]
