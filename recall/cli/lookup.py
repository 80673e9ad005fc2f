"""What a command names, found or refused: a case by its reference, on its customer's clock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from recall.campaign.definitions import definition_of
from recall.cli.output import fail
from recall.db.models import Case
from recall.domain.errors import NotFound
from recall.domain.typed_times import UnreadableTime, read_typed_time

HOME_ZONE = "Europe/Paris"  # the clock of a customer whose case and recall name none


@dataclass(frozen=True)
class NamedCase:
    case_id: int
    case_ref: str
    zone: ZoneInfo  # the customer's clock: the case's call zone, else its recall's


def find_case(engine: Engine, case_ref: str) -> NamedCase:
    """The case with this reference; NotFound, saying so, when there is none."""
    with Session(engine) as session:
        found = session.execute(
            select(Case.id, Case.case_ref, Case.recall_id, Case.call_zone).where(
                Case.case_ref == case_ref.strip()
            )
        ).first()
        if found is None:
            raise NotFound(f"no case has the reference {case_ref.strip()!r}")
        zone = found.call_zone or definition_of(session, found.recall_id).call.timezone
    return NamedCase(found.id, found.case_ref, _zone(zone))


def typed_time(option: str, typed: str, *, case: NamedCase, now: dt.datetime) -> dt.datetime:
    """A time typed for `option`, on the case's customer's clock unless it gives an offset."""
    try:
        return read_typed_time(typed, now=now, zone=case.zone)
    except UnreadableTime as exc:
        fail(f"{option}: {exc}")


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or HOME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(HOME_ZONE)
