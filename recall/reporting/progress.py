"""The recall's progress report: completion, burn-down, units corrected, the regulator's
figures per week, the SLA and a forecast. Counts are made by the database, days in UTC."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from recall.calling.follow_up import SlaBreach, sla_breach
from recall.calling.queue import on_call_list
from recall.campaign.definitions import definition_of
from recall.clock import Clock, utc_now
from recall.db.models import (
    Agent,
    CallAttempt,
    Case,
    Fulfilment,
    Recall,
    RecallStore,
)
from recall.domain.calling import NOT_IN_POSSESSION, RETURNED_IN_STORE
from recall.domain.cases import CLOSED
from recall.domain.forecast import Forecast, Pace, forecast
from recall.reporting.completion import (
    Completion,
    as_date,
    completion,
    first_moments,
    utc_day,
)


@dataclass(frozen=True)
class Agreed:
    """Remedies agreed and not carried out yet, with how long they have waited."""

    cases: int = 0
    units: int = 0
    oldest_days: float | None = None
    median_days: float | None = None


@dataclass(frozen=True)
class Units:
    affected: int  # in customers' hands at launch, untraceable units included
    corrected: int  # of those, carried out: refund paid, replacement shipped, repair done, ...
    untraceable: int  # sold with no loyalty card, or to a customer unknown to the export
    not_in_possession: int  # the customer no longer had them
    by_kind: dict[str, int] = field(default_factory=dict)  # corrected units per fulfilment kind
    agreed: Agreed = field(default_factory=Agreed)  # agreed, not carried out yet

    @property
    def effectiveness(self) -> float:
        return self.corrected / self.affected if self.affected else 0.0


# The channels a firm notifies by, as the regulator's forms name them; notices that reached
# the customer through a channel they used themselves (the hotline, a store, the web page)
# are counted as consumers contacting the firm.
NOTIFIED_BY = {"mail": ("letter",), "phone": ("phone", "voicemail"), "email": ("email",),
               "sms": ("sms",)}  # fmt: skip
CONTACTED_BY = ("phone", "hotline", "store", "web", "email", "sms", "letter", "voicemail")


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
    call_attempts: int = 0  # calls recorded, answered or not (an attempt is not a notice)


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
    per_day: dict[str, dict[dt.date, int]] = field(default_factory=dict)  # the series by UTC day


def progress(*, engine: Engine, recall_id: str, clock: Clock = utc_now) -> Progress:
    """Every figure of the progress report, as of now."""
    now = clock()
    report = completion(engine=engine, recall_id=recall_id)
    with Session(engine) as session:
        definition = definition_of(session, recall_id)
        recall = session.get_one(Recall, recall_id)
        firsts = _first_days(session, recall_id, report)
        units = _units(session, recall, definition.remedies, now)
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
        forecast=forecast(pace, definition.call, now), per_day=firsts,
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


def _first_days(session: Session, recall_id: str, report: Completion) -> dict[str, dict]:
    """The per-day series of the regulator's figures; those the completion counted already
    (notices by channel, first contacts) are taken from it, not counted again."""
    mine = Case.recall_id == recall_id
    attempts = (
        select(CallAttempt.started_at.label("at"))
        .join(Case, Case.id == CallAttempt.case_id)
        .where(mine, CallAttempt.disposition.is_not(None))
        .subquery()
    )
    corrected = (
        select(Fulfilment.done_on.label("at"), Fulfilment.units)
        .where(Fulfilment.recall_id == recall_id)
        .subquery()
    )
    return {
        **_notified_per_day(report.notified_days),
        "attempts": _per_day(session, attempts),
        "answered": {line.day: line.contacted for line in report.by_day if line.contacted},
        "closed": _per_day(session, first_moments(session, recall_id, *CLOSED)),
        "corrected": _per_day(session, corrected, corrected.c.units),
    }


def _notified_per_day(by_channel: dict[str, dict[dt.date, int]]) -> dict[str, dict[dt.date, int]]:
    """Cases notified per UTC day by the firm's channels, as the regulator's forms name them."""
    per: dict[str, dict[dt.date, int]] = {f"notified_{name}": {} for name in NOTIFIED_BY}
    for name, channels in NOTIFIED_BY.items():
        series = per[f"notified_{name}"]
        for channel in channels:
            for when, count in by_channel.get(channel, {}).items():
                series[when] = series.get(when, 0) + count
    return per


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
            weeks[start]["notified_mail"],
            weeks[start]["notified_phone"],
            weeks[start]["notified_email"],
            weeks[start]["notified_sms"],
            weeks[start]["answered"],
            weeks[start]["attempts"],
        )
        for start in starts
    ]


def _units(session: Session, recall: Recall, remedies: tuple[str, ...], now: dt.datetime) -> Units:
    mine = Case.recall_id == recall.id
    held, gone = session.execute(
        select(
            func.coalesce(func.sum(Case.quantity), 0),
            func.coalesce(func.sum(Case.quantity).filter(Case.outcome == NOT_IN_POSSESSION), 0),
        ).where(mine)
    ).one()
    by_kind = {
        kind: int(units)
        for kind, units in session.execute(
            select(Fulfilment.kind, func.sum(Fulfilment.units))
            .where(Fulfilment.recall_id == recall.id)
            .group_by(Fulfilment.kind)
        )
    }
    untraceable = recall.untraceable_units + recall.unknown_customer_units
    return Units(
        int(held) + untraceable, sum(by_kind.values()), untraceable, int(gone),
        dict(sorted(by_kind.items())), _agreed(session, recall.id, remedies, now),
    )  # fmt: skip


def _agreed(
    session: Session, recall_id: str, remedies: tuple[str, ...], now: dt.datetime
) -> Agreed:
    """Cases with a remedy agreed and units not carried out yet, and since when."""
    done = (
        select(Fulfilment.case_id, func.sum(Fulfilment.units).label("units"))
        .where(Fulfilment.recall_id == recall_id)
        .group_by(Fulfilment.case_id)
        .subquery()
    )
    left = Case.quantity - func.coalesce(done.c.units, 0)
    rows = session.execute(
        select(left, Case.agreed_at)
        .outerjoin(done, done.c.case_id == Case.id)
        .where(
            Case.recall_id == recall_id,
            Case.status == "resolved",
            Case.outcome.in_((*remedies, RETURNED_IN_STORE)),
            left > 0,
        )
    ).all()
    if not rows:
        return Agreed()
    ages = [(now - at).total_seconds() / 86400 for _, at in rows if at is not None]
    return Agreed(
        len(rows), sum(int(units) for units, _ in rows),
        max(ages) if ages else None, statistics.median(ages) if ages else None,
    )  # fmt: skip


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
    held = session.scalar(  # call-list cases waiting `call_after` for a digital answer
        select(func.max(Case.next_call_at)).where(on_call_list(recall_id), Case.attempts == 0)
    )
    return Pace(left or 0, agents or 0, calls or 0, reached or 0, minutes, held)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
