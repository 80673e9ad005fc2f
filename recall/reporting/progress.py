"""The recall's progress report: completion, burn-down, units corrected, the regulator's
figures per week, the SLA and a forecast. Counts are made by the database, days in UTC."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, func, select
from sqlalchemy.orm import Session

from recall.calling.follow_up import SlaBreach, sla_breach
from recall.calling.queue import on_call_list
from recall.campaign.definitions import definition_of
from recall.clock import Clock, utc_now
from recall.db.models import (
    Agent,
    CallAttempt,
    Case,
    CaseEvent,
    Letter,
    LetterBatch,
    Message,
    Recall,
    RecallStore,
)
from recall.domain.calling import NOT_IN_POSSESSION
from recall.domain.cases import CLOSED
from recall.domain.forecast import Forecast, Pace, forecast
from recall.reporting.completion import Completion, as_date, completion, utc_day


@dataclass(frozen=True)
class Units:
    affected: int  # in customers' hands at launch, untraceable units included
    corrected: int  # of those, refunded, replaced or repaired
    untraceable: int  # sold with no loyalty card, or to a customer unknown to the export
    not_in_possession: int  # the customer no longer had them

    @property
    def effectiveness(self) -> float:
        return self.corrected / self.affected if self.affected else 0.0


@dataclass(frozen=True)
class Period:
    """One week of the regulator's progress report (Monday to Sunday, UTC)."""

    start: dt.date
    end: dt.date
    units_corrected: int
    notified_mail: int
    notified_phone: int
    notified_email: int
    notified_sms: int
    answered: int


@dataclass(frozen=True)
class StoreLine:
    store_id: str
    units_sold: int
    untraceable_units: int
    notice_only_cases: int


@dataclass(frozen=True)
class Progress:
    completion: Completion
    as_of: dt.datetime
    burn_down: list[tuple[dt.date, int]]  # open cases at the end of each day
    units: Units
    periods: list[Period]
    stores: list[StoreLine]
    sla_hours: float
    breach: SlaBreach | None
    forecast: Forecast


def progress(*, engine: Engine, recall_id: str, clock: Clock = utc_now) -> Progress:
    """Every figure of the progress report, as of now."""
    now = clock()
    report = completion(engine=engine, recall_id=recall_id)
    with Session(engine) as session:
        definition = definition_of(session, recall_id)
        recall = session.get_one(Recall, recall_id)
        firsts = _first_days(session, recall_id, definition.remedies)
        units = _units(session, recall, definition.remedies)
        stores = _stores(session, recall_id)
        pace = _pace(session, recall_id)
    sla = definition.follow_up.contact_sla
    return Progress(
        completion=report, as_of=now,
        burn_down=_burn_down(report.total.identified, firsts["closed"], recall.launched_at, now),
        units=units, periods=_periods(firsts, recall.launched_at, now), stores=stores,
        sla_hours=sla.total_seconds() / 3600,
        breach=sla_breach(engine=engine, recall_id=recall_id, sla=sla, now=now)
        if definition.hazard == "high" else None,
        forecast=forecast(pace, definition.call, now),
    )  # fmt: skip


def expected_end(*, engine: Engine, recall_id: str, clock: Clock = utc_now) -> Forecast:
    """The forecast alone: when the call list should be done at the pace measured so far."""
    with Session(engine) as session:
        policy = definition_of(session, recall_id).call
        pace = _pace(session, recall_id)
    return forecast(pace, policy, clock())


def _per_day(session: Session, firsts: Any, value: Any = None) -> dict[dt.date, int]:
    """Cases (or `value` summed) per UTC day of the per-case first moments in `firsts`."""
    day = utc_day(session, firsts.c.at)
    amount = func.count() if value is None else func.coalesce(func.sum(value), 0)
    rows = session.execute(select(day, amount).group_by(day))
    return {as_date(when): int(count) for when, count in rows if when is not None}


def _first_days(session: Session, recall_id: str, remedies: tuple[str, ...]) -> dict[str, dict]:
    mine = Case.recall_id == recall_id

    def first_event(*statuses: str) -> Any:
        return (
            select(CaseEvent.case_id, func.min(CaseEvent.at).label("at"))
            .join(Case, Case.id == CaseEvent.case_id)
            .where(mine, CaseEvent.new_status.in_(statuses))
            .group_by(CaseEvent.case_id)
            .subquery()
        )

    mailed = (
        select(Letter.case_id, LetterBatch.mailed_at.label("at"))
        .join(
            LetterBatch,
            and_(
                LetterBatch.recall_id == Letter.recall_id, LetterBatch.batch_no == Letter.batch_no
            ),
        )
        .where(Letter.recall_id == recall_id, LetterBatch.mailed_at.is_not(None))
        .subquery()
    )
    called = (
        select(CallAttempt.case_id, func.min(CallAttempt.started_at).label("at"))
        .join(Case, Case.id == CallAttempt.case_id)
        .where(mine)
        .group_by(CallAttempt.case_id)
        .subquery()
    )
    texted = (
        select(Message.case_id, func.min(Message.sent_at).label("at"))
        .join(Case, Case.id == Message.case_id)
        .where(mine)
        .group_by(Message.case_id)
        .subquery()
    )
    resolved = first_event("resolved")
    corrected = (
        select(resolved.c.at, Case.quantity)
        .join(Case, Case.id == resolved.c.case_id)
        .where(Case.outcome.in_(remedies))
        .subquery()
    )
    return {
        "mailed": _per_day(session, mailed),
        "called": _per_day(session, called),
        "texted": _per_day(session, texted),
        "answered": _per_day(session, first_event("contacted")),
        "closed": _per_day(session, first_event(*CLOSED)),
        "corrected": _per_day(session, corrected, corrected.c.quantity),
    }


def _burn_down(
    total: int, closed: dict[dt.date, int], launched: dt.datetime, now: dt.datetime
) -> list[tuple[dt.date, int]]:
    left, line = total, []
    for day in _days(launched.date(), now.date()):
        left -= closed.get(day, 0)
        line.append((day, left))
    return line


def _periods(firsts: dict[str, dict], launched: dt.datetime, now: dt.datetime) -> list[Period]:
    weeks: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for name, per_day in firsts.items():
        for day, count in per_day.items():
            weeks[day - dt.timedelta(days=day.weekday())][name] += count
    first = launched.date() - dt.timedelta(days=launched.weekday())
    starts = [first + dt.timedelta(weeks=n) for n in range((now.date() - first).days // 7 + 1)]
    return [
        Period(
            start,
            start + dt.timedelta(days=6),
            weeks[start]["corrected"],
            weeks[start]["mailed"],
            weeks[start]["called"],
            0,
            weeks[start]["texted"],
            weeks[start]["answered"],
        )
        for start in starts
    ]


def _units(session: Session, recall: Recall, remedies: tuple[str, ...]) -> Units:
    mine = Case.recall_id == recall.id
    held, corrected, gone = session.execute(
        select(
            func.coalesce(func.sum(Case.quantity), 0),
            func.coalesce(func.sum(Case.quantity).filter(Case.outcome.in_(remedies)), 0),
            func.coalesce(func.sum(Case.quantity).filter(Case.outcome == NOT_IN_POSSESSION), 0),
        ).where(mine)
    ).one()
    untraceable = recall.untraceable_units + recall.unknown_customer_units
    return Units(int(held) + untraceable, int(corrected), untraceable, int(gone))


def _stores(session: Session, recall_id: str) -> list[StoreLine]:
    notice = dict(
        session.execute(
            select(Case.stores, func.count())
            .where(Case.recall_id == recall_id, Case.notice_only.is_(True))
            .group_by(Case.stores)
        )
        .tuples()
        .all()
    )
    per_store: dict[str, int] = defaultdict(int)
    for stores, count in notice.items():
        for store in (stores or "").split(","):
            if store.strip():
                per_store[store.strip()] += count
    rows = session.scalars(
        select(RecallStore).where(RecallStore.recall_id == recall_id).order_by(RecallStore.store_id)
    )
    return [
        StoreLine(r.store_id, r.units_sold, r.untraceable_units, per_store.get(r.store_id, 0))
        for r in rows
    ]


def _pace(session: Session, recall_id: str) -> Pace:
    left = session.scalar(select(func.count()).select_from(Case).where(on_call_list(recall_id)))
    agents = session.scalar(select(func.count()).select_from(Agent).where(Agent.active.is_(True)))
    calls, reached = session.execute(
        select(func.count(), func.count().filter(CallAttempt.disposition == "reached"))
        .select_from(CallAttempt)
        .join(Case, Case.id == CallAttempt.case_id)
        .where(Case.recall_id == recall_id, CallAttempt.disposition.is_not(None))
    ).one()
    handle = session.scalar(
        select(func.avg(CallAttempt.duration_s))
        .join(Case, Case.id == CallAttempt.case_id)
        .where(Case.recall_id == recall_id, CallAttempt.duration_s > 0)
    )
    minutes = float(handle) / 60 if handle else None
    return Pace(left or 0, agents or 0, calls or 0, reached or 0, minutes)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
