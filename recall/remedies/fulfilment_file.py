"""A file of fulfilments from the retailer's systems: a few hundred thousand rows, checked one
by one against facts read a chunk at a time, written a chunk at a time.

Bad rows go to a rejects file beside it with the line and the reason; good ones are recorded;
applying the file twice records nothing more. A chunk that meets a fulfilment recorded
meanwhile by someone else (the key refuses it) is gone over again row by row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recall.campaign.definitions import definition_of
from recall.campaign.events import move_row
from recall.clock import Clock, utc_now
from recall.db.models import Case, CaseEvent, Fulfilment
from recall.domain.errors import NotFound
from recall.domain.remedies import RemedyError
from recall.remedies.fulfilment import (
    Facts,
    FulfilmentInput,
    find_case,
    fulfil,
    local_today,
    note_of,
    plan,
)
from recall.spreadsheet import UnreadableFile, read_small_csv, rejects_path, write_frame

COLUMNS = ("case_ref", "kind", "done_on", "units", "amount", "currency", "done_by", "reference")
REQUIRED = ("case_ref", "kind", "done_on")
CHUNK = 2_000
SOURCE = "file"


@dataclass
class FulfilmentImport:
    path: Path
    recorded: int = 0
    already: int = 0
    units: int = 0
    rejected: int = 0
    rejects_file: Path | None = None
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # line, case_ref, why


def import_fulfilments(
    *, engine: Engine, path: Path, actor: str, recall_id: str | None = None, clock: Clock = utc_now
) -> FulfilmentImport:
    """Record the file's fulfilments; `recall_id`: rows naming another recall's case are
    rejected. A wrong file (unreadable, a required column missing) writes nothing."""
    frame = _read(path)
    report, now = FulfilmentImport(path), clock()
    given = [FulfilmentInput(*row) for row in frame[list(COLUMNS)].itertuples(index=False)]
    for start in range(0, len(given), CHUNK):
        rows = list(enumerate(given[start : start + CHUNK], start=start + 2))  # after the header
        with Session(engine) as session, session.begin():
            _chunk(session, rows, actor, recall_id, now, report)
    _write_rejects(frame, report)
    return report


def _read(path: Path) -> pd.DataFrame:
    try:
        frame = read_small_csv(path)
    except UnreadableFile as exc:
        raise RemedyError(str(exc)) from None
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        found = ", ".join(frame.columns) or "none"
        raise RemedyError(f"{path}: needs the column(s) {', '.join(missing)} (found: {found})")
    for name in set(COLUMNS) - set(frame.columns):
        frame[name] = ""
    return frame


def _chunk(
    session: Session, rows: list[tuple[int, FulfilmentInput]], actor: str,
    recall_id: str | None, now: dt.datetime, report: FulfilmentImport,
) -> None:  # fmt: skip
    """Check a chunk against what its cases hold, then write it; row by row if someone wrote
    one of its fulfilments meanwhile."""
    facts = _facts(session, [g.case_ref.strip().upper() for _, g in rows])
    rules: dict[str, tuple[tuple[str, ...], dt.date]] = {}
    done: list[dict[str, Any]] = []
    outcome: list[tuple[int, str, str, int]] = []  # line, ref, why or "" / "again", units
    for line, given in rows:
        try:
            case = facts.get(given.case_ref.strip().upper())
            if case is None or (recall_id is not None and case.recall_id != recall_id):
                where = f" in recall {recall_id}" if recall_id else ""
                raise NotFound(f"no case has the reference {given.case_ref.strip()!r}{where}")
            if case.recall_id not in rules:
                definition = definition_of(session, case.recall_id)
                rules[case.recall_id] = (definition.remedies, local_today(definition, now))
            remedies, today = rules[case.recall_id]
            values, result = plan(given, case, remedies=remedies, today=today)
        except (RemedyError, NotFound) as exc:
            outcome.append((line, given.case_ref, str(exc), 0))
            continue
        if values is not None:
            done.append(values | {"_status": case.status})
        outcome.append((line, given.case_ref, "" if values else "again", result.units))
    try:
        with session.begin_nested():
            _write(session, done, actor, now)
    except IntegrityError:
        _row_by_row(session, rows, actor, recall_id, now, report)
        return
    _count(outcome, report)


def _facts(session: Session, refs: list[str]) -> dict[str, Facts]:
    """The chunk's cases and their fulfilments, read in two statements, locked."""
    cases = session.scalars(
        select(Case).where(Case.case_ref.in_(set(refs))).with_for_update()
    ).all()
    fulfilled: defaultdict[int, list[Fulfilment]] = defaultdict(list)
    for row in session.scalars(
        select(Fulfilment).where(Fulfilment.case_id.in_([c.id for c in cases]))
    ):
        fulfilled[row.case_id].append(row)
    return {c.case_ref: Facts.of(c, fulfilled[c.id]) for c in cases}


def _write(session: Session, done: list[dict[str, Any]], actor: str, now: dt.datetime) -> None:
    if not done:
        return
    extra = {"source": SOURCE, "recorded_by": actor, "recorded_at": now}
    session.execute(insert(Fulfilment), [
        {k: v for k, v in values.items() if k != "_status"} | extra for values in done
    ])  # fmt: skip
    session.execute(insert(CaseEvent), [
        move_row(v["case_id"], v["_status"], now, actor=actor, channel=SOURCE, note=note_of(v))
        for v in done
    ])  # fmt: skip
    touched = sorted({v["case_id"] for v in done})
    session.execute(update(Case), [{"id": case_id, "updated_at": now} for case_id in touched])


def _row_by_row(
    session: Session, rows: list[tuple[int, FulfilmentInput]], actor: str,
    recall_id: str | None, now: dt.datetime, report: FulfilmentImport,
) -> None:  # fmt: skip
    outcome: list[tuple[int, str, str, int]] = []
    for line, given in rows:
        try:
            with session.begin_nested():
                case = find_case(session, given.case_ref, recall_id=recall_id)
                result = fulfil(session, given, actor=actor, source=SOURCE, now=now, case=case)
        except (RemedyError, NotFound) as exc:
            outcome.append((line, given.case_ref, str(exc), 0))
            continue
        outcome.append((line, given.case_ref, "" if result.recorded else "again", result.units))
    _count(outcome, report)


def _count(outcome: list[tuple[int, str, str, int]], report: FulfilmentImport) -> None:
    for line, ref, why, units in outcome:
        if why == "again":
            report.already += 1
        elif why:
            report.rejects.append((line, ref, why))
        else:
            report.recorded += 1
            report.units += units


def _write_rejects(frame: pd.DataFrame, report: FulfilmentImport) -> None:
    out = rejects_path(report.path)
    if not report.rejects:
        out.unlink(missing_ok=True)  # an earlier run's: now stale
        return
    rows = frame.iloc[[line - 2 for line, _, _ in report.rejects]].copy()
    rows.insert(0, "line", [line for line, _, _ in report.rejects])
    rows["reject_reason"] = [why for _, _, why in report.rejects]
    write_frame(rows, out, encoding="utf-8-sig")
    report.rejects_file, report.rejected = out, len(report.rejects)
