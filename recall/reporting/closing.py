"""Closing a recall: the final report, then, after the retention period, the recall's own
copies of personal data pseudonymised; the figures stay.

What is pseudonymised is what the recall holds: the phone numbers and customer ids on its
cases, its staged buyers, the free-text notes of its calls and events, what customers said of
their incidents, who carried out a remedy and the retailer's reference for it, and the files
it wrote with names, addresses or phones (letters, call sheets, effectiveness check lists).
The loyalty export itself is the retailer's system of record and is replaced by its next
import.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from recall.calling.queue import on_call_list
from recall.campaign.definitions import definition_of
from recall.campaign.events import record_move
from recall.clock import Clock, utc_now
from recall.db.models import (
    CallAttempt,
    Case,
    CaseEvent,
    Fulfilment,
    Incident,
    Letter,
    Message,
    Recall,
    RecallBuyer,
)
from recall.domain.errors import RecallNotFound, Refused
from recall.reporting.files import ReportFiles, write_progress_report

SYSTEM = "closing"


class ClosingError(Refused):
    """The recall can't be closed or purged now; nothing was changed."""


@dataclass(frozen=True)
class Closed:
    recall_id: str
    report: ReportFiles
    left_call_list: int  # open cases taken off the call list
    purge_after: dt.datetime


@dataclass(frozen=True)
class Purged:
    recall_id: str
    cases: int
    files_removed: int


def close_recall(
    *,
    engine: Engine,
    recall_id: str,
    out_dir: Path,
    fonts_dir: Path,
    clock: Clock = utc_now,
    language: str = "fr",
    zone: str = "Europe/Paris",
) -> Closed:
    """Take the recall's open cases off the call list, write the final report (in the home
    `language`, on the clock of `zone`), mark it closed."""
    now = clock()
    with Session(engine) as session, session.begin():
        recall = _recall(session, recall_id)
        if recall.closed_at is not None:
            raise ClosingError(f"recall {recall_id} was closed on {recall.closed_at:%Y-%m-%d}")
        still_open = session.scalars(select(Case).where(on_call_list(recall_id))).all()
        for case in still_open:
            case.call, case.claimed_by, case.claimed_until = False, None, None
            record_move(session, case, actor=SYSTEM, channel="phone", clock=lambda: now,
                        note="recall closed: off the call list")  # fmt: skip
        recall.closed_at = now
        retention = definition_of(session, recall_id).follow_up.retention
    report = write_progress_report(
        engine=engine, recall_id=recall_id, out_dir=out_dir, fonts_dir=fonts_dir, clock=clock,
        language=language, zone=zone,
    )  # fmt: skip
    return Closed(recall_id, report, len(still_open), now + retention)


def purge_due(*, engine: Engine, now: dt.datetime) -> list[str]:
    """Closed recalls whose retention period is over and whose data is still there."""
    with Session(engine) as session:
        closed = session.scalars(
            select(Recall).where(Recall.closed_at.is_not(None), Recall.purged_at.is_(None))
        ).all()
        return [
            r.id for r in closed
            if r.closed_at + definition_of(session, r.id).follow_up.retention <= now  # type: ignore[operator]
        ]  # fmt: skip


def purge_personal_data(
    *, engine: Engine, recall_id: str, data_dir: Path, clock: Clock = utc_now
) -> Purged:
    """Pseudonymise the recall's personal data once its retention period is over."""
    now = clock()
    with Session(engine) as session, session.begin():
        recall = _recall(session, recall_id)
        if recall.closed_at is None:
            raise ClosingError(f"recall {recall_id} is not closed: close it first")
        ends = recall.closed_at + definition_of(session, recall_id).follow_up.retention
        if ends > now:
            raise ClosingError(f"recall {recall_id}: personal data is kept until {ends:%Y-%m-%d}")
        cases = session.execute(
            select(Case.id, Case.customer_id).where(Case.recall_id == recall_id)
        ).all()
        session.execute(  # one executemany by primary key, not one statement per case
            update(Case),
            [
                {"id": case_id, "customer_id": pseudonym(recall_id, customer_id),
                 "phone_e164": None, "call_zone": None, "claimed_by": None}
                for case_id, customer_id in cases
            ],
        )  # fmt: skip
        ids = select(Case.id).where(Case.recall_id == recall_id).scalar_subquery()
        session.execute(update(CaseEvent).where(CaseEvent.case_id.in_(ids)).values(note=None))
        session.execute(update(CallAttempt).where(CallAttempt.case_id.in_(ids)).values(note=None))
        session.execute(update(Message).where(Message.case_id.in_(ids)).values(sid=None))
        session.execute(update(Incident).where(Incident.recall_id == recall_id).values(text=None))
        session.execute(
            update(Fulfilment)
            .where(Fulfilment.recall_id == recall_id)
            .values(done_by=None, reference=None)
        )
        session.execute(
            update(Letter).where(Letter.recall_id == recall_id).values(postal_code=None)
        )
        session.query(RecallBuyer).filter(RecallBuyer.recall_id == recall_id).delete()
        recall.purged_at = now
    return Purged(recall_id, len(cases), _remove_files(data_dir, recall_id))


def pseudonym(recall_id: str, customer_id: str) -> str:
    """A stable stand-in for a customer id: the same customer keeps one within a recall."""
    if customer_id.startswith("anon-"):
        return customer_id
    digest = hashlib.sha256(f"{recall_id}\x00{customer_id}".encode()).hexdigest()[:16]
    return f"anon-{digest}"


def _remove_files(data_dir: Path, recall_id: str) -> int:
    """Letters, their manifest, the notice-only list, call sheets and check lists: they name
    customers."""
    letters = data_dir / "letters" / recall_id
    doomed = [*letters.glob("letters-*.pdf"), *letters.glob("*.csv")]
    for path in doomed:
        path.unlink()
    for folder in (data_dir / "call-sheets" / recall_id, data_dir / "checks" / recall_id):
        if folder.exists():
            doomed += list(folder.rglob("*"))
            shutil.rmtree(folder)
    return len(doomed)


def _recall(session: Session, recall_id: str) -> Recall:
    recall = session.get(Recall, recall_id, with_for_update=True)
    if recall is None:
        raise RecallNotFound(recall_id)
    return recall
