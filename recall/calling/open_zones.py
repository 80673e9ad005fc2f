"""Which of the call list's customers may be called now: the calling hours on each
customer's clock and the public holidays of their country, as conditions for the claim."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, Engine, Row, and_, bindparam, exists, or_, select, tuple_
from sqlalchemy.orm import Session

from recall.calling.queue import held_by, listed_for, on_call_list
from recall.campaign.definitions import definition_of
from recall.db.models import Case, Customer
from recall.domain.calling import may_call_at

Zones = list[tuple[str, str | None, str | None]]  # (recall, time zone, customer's country)
OpenZones = tuple[tuple[str, str | None, tuple[str, ...]], ...]  # and the countries shut


def open_zones(session: Session, agent_id: str, now: dt.datetime, *, fresh: bool) -> OpenZones:
    """The (recall, time zone) pairs of the call list whose customers may be called now (in
    the calling hours on their clock), each with the countries whose customers may not (on a
    public holiday): () when nobody may be called.

    The country is the customer's (their address's), not one derived from the time zone: a
    zone is shared across borders (tzdata gives Europe/Brussels for Belgium, the Netherlands
    and Luxembourg) and a phone from abroad has the wrong one. The (recall, zone, country)
    triples are those of the whole call list, read once a minute per process (`ZONES_FOR`);
    when they mislead (a zone or country new since), the claim's check of the case it took
    (`callable_now`) lets it go and they are read again, for this agent's list alone, at once.
    """
    found = _agent_zones(session, agent_id) if fresh else _call_list_zones(session, now)
    policies = {r: definition_of(session, r).call for r in {row[0] for row in found}}
    zones: dict[tuple[str, str | None], dict[str | None, bool]] = {}
    for recall_id, zone, country in found:
        policy = policies[recall_id]
        may = may_call_at(policy, zone or policy.timezone, now, country)
        zones.setdefault((recall_id, zone), {})[country] = may
    return tuple(
        (recall_id, zone, tuple(sorted(c or "" for c, may in countries.items() if not may)))
        for (recall_id, zone), countries in sorted(zones.items(), key=str)
        if any(countries.values())
    )


def open_condition(zones: OpenZones) -> ColumnElement[bool]:
    """The cases of the open zones, but for their customers on a public holiday."""
    return or_(*(_zone_open(recall_id, zone, list(shut)) for recall_id, zone, shut in zones))


ZONES_FOR = dt.timedelta(minutes=1)  # how long the call list's zones, as read, are used
_zones_read: WeakKeyDictionary[Engine, tuple[float, Zones]] = WeakKeyDictionary()
_reading = threading.Lock()  # one claim of this process reads the call list's zones at a time


def forget_zones() -> None:
    """Read the call list's zones again on the next claim (cases were assigned or moved)."""
    _zones_read.clear()


def _call_list_zones(session: Session, now: dt.datetime) -> Zones:
    """The (recall, zone, country) triples of the whole call list, read at most once a minute
    (per database, in this process).

    One claim reads them again (a few hundred milliseconds at 350,000 cases) while the others
    go on with them as last read: every claim reading them at once, a worker's dozens of
    requests in flight, held the database's cores for seconds. Only the first read is waited
    for.
    """
    key = session.get_bind().engine
    kept = _zones_read.get(key)
    if kept is not None and time.monotonic() - kept[0] <= ZONES_FOR.total_seconds():
        return kept[1]
    if not _reading.acquire(blocking=kept is None):
        assert kept is not None  # another claim is reading them: these will do meanwhile
        return kept[1]
    try:
        kept = _zones_read.get(key)
        if kept is None or time.monotonic() - kept[0] > ZONES_FOR.total_seconds():
            kept = _zones_read[key] = (time.monotonic(), _zones(session, on_call_list()))
        return kept[1]
    finally:
        _reading.release()


def _agent_zones(session: Session, agent_id: str) -> Zones:
    return _zones(session, and_(listed_for(agent_id), on_call_list()), listed=True)


def _zones(session: Session, where: ColumnElement[bool], listed: bool = False) -> Zones:
    query = select(Case.recall_id, Case.call_zone, Customer.country)
    if listed:
        query = query.join(*held_by())
    query = query.outerjoin(Customer, Customer.customer_id == Case.customer_id).where(where)
    return [tuple(row) for row in session.execute(query.distinct())]


def _zone_open(recall_id: str, zone: str | None, shut: list[str]) -> ColumnElement[bool]:
    """The cases of one recall and time zone, but for customers of the countries in `shut`
    (on a public holiday today)."""
    same = (
        and_(Case.recall_id == recall_id, Case.call_zone.is_(None))
        if zone is None
        else tuple_(Case.recall_id, Case.call_zone) == (recall_id, zone)
    )
    if not shut:
        return same
    on_holiday = exists().where(
        Customer.customer_id == Case.customer_id, Customer.country.in_(shut)
    )
    return and_(same, ~on_holiday)


_COUNTRY = select(Customer.country).where(Customer.customer_id == bindparam("customer_id"))


def callable_now(session: Session, won: Row[Any], now: dt.datetime) -> bool:
    """The claimed case `won` (id, recall_id, call_zone, and its customer's country when the
    claim returned it) may be called now, on its customer's clock and calendar."""
    policy = definition_of(session, won.recall_id).call
    country = won.country
    if country is None and policy.holidays and not isinstance(policy.holidays, tuple):
        country = session.connection().scalar(_COUNTRY, {"customer_id": won.customer_id})
    return may_call_at(policy, won.call_zone or policy.timezone, now, country)
