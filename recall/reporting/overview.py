"""Reading a recall back: its figures, and its cases as a table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, case, func, select
from sqlalchemy.orm import Session

from recall.calling.queue import held_by, on_call_list
from recall.db.models import CallAttempt, Case, ImportRun, Letter, LetterBatch, QueueEntry, Recall
from recall.domain.errors import RecallNotFound
from recall.importing.service import unfinished_imports
from recall.spreadsheet import write_frame

CASE_COLUMNS = [
    "case_ref", "customer_id", "status", "letter", "call", "notice_only", "phone_e164",
    "quantity", "lots", "skus", "stores", "first_purchase", "last_purchase", "language", "agent_id",
]  # fmt: skip


def recall_status(*, engine: Engine, recall_id: str) -> dict[str, Any]:
    """Counts of a recall's cases by channel and status, and what identification left aside."""
    with Session(engine) as session:
        recall = session.get(Recall, recall_id)
        if recall is None:
            raise RecallNotFound(recall_id)
        mine = Case.recall_id == recall_id
        totals = session.execute(
            select(
                func.count(Case.id),
                _count_true(Case.letter),
                _count_true(Case.call),
                _count_true(Case.notice_only),
                _count_true(Case.phone_invalid),
            ).where(mine)
        ).one()
        by_status = dict(
            session.execute(select(Case.status, func.count()).where(mine).group_by(Case.status))
            .tuples()
            .all()
        )
        rejected = _latest_rejections(session)
        unfinished = [str(run) for run in unfinished_imports(session)]
        letters = session.execute(
            select(
                func.count(Letter.case_id),
                func.count(Letter.page),
                func.count(Letter.returned_at),
            ).where(Letter.recall_id == recall_id)
        ).one()
        calls = _call_list(session, recall_id)
        mailed = session.scalar(
            select(func.coalesce(func.sum(LetterBatch.letters), 0)).where(
                LetterBatch.recall_id == recall_id, LetterBatch.mailed_at.is_not(None)
            )
        )
    cases, letter, call, notice_only, invalid_phones = (int(v) for v in totals)
    return {
        "recall_id": recall.id,
        "title": recall.title,
        "hazard": recall.hazard,
        "cases": cases,
        "letter": letter,
        "call": call,
        "notice_only": notice_only,
        "already_returned": recall.already_returned,
        "untraceable_units": recall.untraceable_units,
        "unknown_customer_units": recall.unknown_customer_units,
        "invalid_phones": invalid_phones,
        "by_status": dict(sorted(by_status.items())),
        "letters": {
            "planned": int(letters[0]),
            "rendered": int(letters[1]),
            "mailed": int(mailed or 0),
            "returned": int(letters[2]),
        },
        "call_list": calls,
        "import_rejected_rows": rejected,
        "unfinished_imports": unfinished,
    }


def _call_list(session: Session, recall_id: str) -> dict[str, int]:
    """Cases still to phone, with and without an agent, and the calls made so far."""

    open_, assigned = session.execute(
        select(func.count(Case.id), func.count(QueueEntry.agent_id))
        .outerjoin(*held_by())
        .where(on_call_list(recall_id))
    ).one()
    attempts = session.scalar(
        select(func.count(CallAttempt.id))
        .join(Case, Case.id == CallAttempt.case_id)
        .where(Case.recall_id == recall_id)
    )
    return {
        "to_call": int(open_),
        "with_agent": int(assigned),
        "without_agent": int(open_) - int(assigned),
        "calls_made": int(attempts or 0),
    }


def _count_true(column: Any) -> Any:
    return func.coalesce(func.sum(case((column, 1), else_=0)), 0)


def _latest_rejections(session: Session) -> dict[str, int]:
    """Rejected rows of the latest finished import of each table."""
    latest = (
        select(ImportRun.table_name, func.max(ImportRun.id).label("id"))
        .where(ImportRun.finished_at.is_not(None))
        .group_by(ImportRun.table_name)
        .subquery()
    )
    rows = session.execute(
        select(ImportRun.table_name, ImportRun.rows_rejected).join(
            latest, latest.c.id == ImportRun.id
        )
    )
    return dict(sorted(rows.tuples().all()))


def export_cases(*, engine: Engine, recall_id: str, out: Path) -> int:
    """Write one CSV row per case of the recall, in case reference order; return the count."""
    query = (
        select(*(_case_column(name) for name in CASE_COLUMNS))
        .outerjoin(QueueEntry, QueueEntry.case_id == Case.id)
        .where(Case.recall_id == recall_id)
        .order_by(Case.seq)
    )
    with engine.connect() as connection:
        frame = pd.read_sql(query, connection)
    for flag in ("letter", "call", "notice_only"):
        frame[flag] = frame[flag].astype(bool).astype(int)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_frame(frame, out, encoding="utf-8")
    return len(frame)


def _case_column(name: str) -> Any:
    return QueueEntry.agent_id if name == "agent_id" else getattr(Case, name)


@dataclass(frozen=True)
class RecallLine:
    recall_id: str
    title: str
    hazard: str
    launched_at: dt.datetime
    cases: int
    to_call: int
    resolved: int
    closed_at: dt.datetime | None = None


def list_recalls(*, engine: Engine) -> list[RecallLine]:
    """Every launched recall, the latest first, with its headline figures."""

    with Session(engine) as session:
        counts = session.execute(
            select(
                Case.recall_id,
                func.count(Case.id),
                _count_true(on_call_list()),
                _count_true(Case.status == "resolved"),
            ).group_by(Case.recall_id)
        )
        figures = {row[0]: row[1:] for row in counts}
        recalls = session.scalars(select(Recall).order_by(Recall.launched_at.desc(), Recall.id))
        lines = []
        for r in recalls:
            cases, to_call, resolved = (int(v) for v in figures.get(r.id, (0, 0, 0)))
            lines.append(
                RecallLine(
                    r.id, r.title, r.hazard, r.launched_at, cases, to_call, resolved, r.closed_at
                )
            )
        return lines


def open_recall_ids(*, engine: Engine) -> list[str]:
    """Recalls not closed yet, the oldest first: what the scheduled flows work on."""
    with Session(engine) as session:
        query = select(Recall.id).where(Recall.closed_at.is_(None))
        return list(session.scalars(query.order_by(Recall.launched_at, Recall.id)))
