"""Recording that an agreed remedy was carried out: from the console, the CLI or a file.

A case counts as corrected only for the units its fulfilments carried out; each kind is
recorded once per case, so the same file applied twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from recall.campaign.definitions import definition_of
from recall.campaign.events import record_move
from recall.clock import Clock, utc_now
from recall.db.models import Case, Fulfilment
from recall.domain.calling import RETURNED_IN_STORE
from recall.domain.cases import Status
from recall.domain.errors import NotFound
from recall.domain.remedies import (
    CARRIES_OUT,
    FulfilmentKind,
    RemedyError,
    amount,
    day,
    fulfilment_kind,
)
from recall.spreadsheet import write_frame

COLUMNS = ("case_ref", "kind", "done_on", "units", "amount", "currency", "done_by", "reference")
REQUIRED = ("case_ref", "kind", "done_on")


@dataclass(frozen=True)
class FulfilmentInput:
    """One fulfilment as a person or a file says it; checked when recorded."""

    case_ref: str
    kind: str
    done_on: str
    units: str = ""
    amount: str = ""
    currency: str = ""
    done_by: str = ""
    reference: str = ""


@dataclass(frozen=True)
class Fulfilled:
    case_ref: str
    kind: str
    units: int  # units this fulfilment corrected (0: already corrected by an earlier one)
    recorded: bool  # False: the same fulfilment was recorded before, nothing changed


@dataclass
class FulfilmentImport:
    path: Path
    recorded: int = 0
    already: int = 0
    units: int = 0
    rejected: int = 0
    rejects_file: Path | None = None
    reasons: dict[str, int] = field(default_factory=dict)


def record_fulfilment(
    *,
    engine: Engine,
    given: FulfilmentInput,
    actor: str,
    source: str,
    agent_id: str | None = None,
    clock: Clock = utc_now,
) -> Fulfilled:
    """Record one fulfilment; `agent_id`: only a case on that agent's list may be named."""
    with Session(engine) as session, session.begin():
        return fulfil(session, given, actor=actor, source=source, agent_id=agent_id, now=clock())


def fulfil(
    session: Session,
    given: FulfilmentInput,
    *,
    actor: str,
    source: str,
    now: dt.datetime,
    agent_id: str | None = None,
) -> Fulfilled:
    """The checks and the writes of one fulfilment, in the caller's transaction."""
    ref = given.case_ref.strip()
    case = session.scalar(select(Case).where(Case.case_ref == ref).with_for_update())
    if case is None or (agent_id is not None and case.agent_id != agent_id):
        raise NotFound(f"no case has the reference {ref!r}" + (" on your list" if agent_id else ""))
    kind = fulfilment_kind(given.kind)
    done_on = day(given.done_on, "done_on", today=now.date())
    _remedy_agreed(session, case, kind)
    paid = amount(given.amount) if given.amount.strip() else None
    if kind == FulfilmentKind.REFUND_PAID and paid is None:
        raise RemedyError("a refund paid needs its amount")
    existing = session.scalar(
        select(Fulfilment).where(Fulfilment.case_id == case.id, Fulfilment.kind == kind.value)
    )
    if existing is not None:
        if (existing.done_on, existing.amount) != (done_on, paid):
            raise RemedyError(
                f"{kind.value} was already recorded for case {ref} on {existing.done_on}"
                + (f" ({existing.amount})" if existing.amount else "")
                + ": not changed"
            )
        return Fulfilled(ref, kind.value, existing.units, recorded=False)
    units = _units(session, case, given.units)
    session.add(
        Fulfilment(
            case_id=case.id, recall_id=case.recall_id, kind=kind.value, units=units,
            amount=paid, currency=(given.currency.strip().upper() or "EUR") if paid else None,
            done_on=done_on, done_by=given.done_by.strip() or None,
            reference=given.reference.strip() or None, source=source, recorded_by=actor,
            recorded_at=now,
        )
    )  # fmt: skip
    what = kind.value.replace("_", " ") + (f" {paid}" if paid else "")
    record_move(session, case, actor=actor, channel=source, clock=lambda: now,
                note=f"fulfilled: {what}, {units} unit(s), on {done_on}")  # fmt: skip
    return Fulfilled(ref, kind.value, units, recorded=True)


def _remedy_agreed(session: Session, case: Case, kind: FulfilmentKind) -> None:
    remedies = definition_of(session, case.recall_id).remedies
    agreed = case.outcome if case.status == Status.RESOLVED.value else None
    if agreed not in (*remedies, RETURNED_IN_STORE):
        said = f"{case.status}" + (f", {case.outcome}" if case.outcome else "")
        raise RemedyError(f"case {case.case_ref} has no remedy agreed yet ({said})")
    carries = CARRIES_OUT[kind]
    if carries is not None and agreed != RETURNED_IN_STORE and carries != agreed:
        raise RemedyError(f"case {case.case_ref} agreed a {agreed}, not a {carries}")


def units_left(session: Session, case: Case) -> int:
    """The case's units no fulfilment has corrected yet."""
    done = session.scalar(
        select(func.coalesce(func.sum(Fulfilment.units), 0)).where(Fulfilment.case_id == case.id)
    )
    return max(case.quantity - int(done or 0), 0)


def _units(session: Session, case: Case, given: str) -> int:
    left = units_left(session, case)
    if not given.strip():
        return left
    try:
        units = int(given.strip())
    except ValueError:
        raise RemedyError(f"units {given!r} is not a whole number") from None
    if units < 1 or units > left:
        raise RemedyError(f"units {units}: case {case.case_ref} has {left} unit(s) left to correct")
    return units


def import_fulfilments(
    *, engine: Engine, path: Path, actor: str, clock: Clock = utc_now
) -> FulfilmentImport:
    """A CSV from the retailer's systems, one fulfilment per row; bad rows go to a rejects
    file beside it with the reason, good ones are recorded; applying it twice changes nothing."""
    frame = read_rows(path)
    report = FulfilmentImport(path)
    reasons: list[str] = []
    now = clock()
    with Session(engine) as session, session.begin():
        for row in frame.itertuples(index=False):
            given = FulfilmentInput(**{name: getattr(row, name) for name in COLUMNS})
            try:
                with session.begin_nested():
                    done = fulfil(session, given, actor=actor, source="file", now=now)
            except (RemedyError, NotFound) as exc:
                reasons.append(str(exc))
                continue
            reasons.append("")
            report.recorded += done.recorded
            report.already += not done.recorded
            report.units += done.units if done.recorded else 0
    rejected = [i for i, why in enumerate(reasons) if why]
    if rejected:
        rows = frame.iloc[rejected].copy()
        rows.insert(0, "row", [i + 2 for i in rejected])  # the file's line, after its header
        rows["reject_reason"] = [reasons[i] for i in rejected]
        report.rejects_file = path.with_name(f"{path.stem}.rejects.csv")
        write_frame(rows, report.rejects_file, encoding="utf-8-sig")
        report.rejected = len(rejected)
    elif path.with_name(f"{path.stem}.rejects.csv").exists():
        path.with_name(f"{path.stem}.rejects.csv").unlink()  # an earlier run's: now stale
    return report


def read_rows(path: Path) -> pd.DataFrame:
    """The file's rows as text, its columns named as COLUMNS; a wrong file writes nothing."""
    if not path.is_file():
        raise RemedyError(f"{path}: no such file")
    frame = None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            with path.open(encoding=encoding) as handle:
                header = handle.readline()
            sep = max((",", ";", "\t"), key=header.count)
            frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding=encoding)
            break
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise RemedyError(f"{path}: not a readable CSV file ({exc})") from None
    if frame is None:
        raise RemedyError(f"{path}: neither UTF-8 nor Windows-1252 text")
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        found = ", ".join(frame.columns) or "none"
        raise RemedyError(f"{path}: needs the column(s) {', '.join(missing)} (found: {found})")
    for name in COLUMNS:
        if name not in frame.columns:
            frame[name] = ""
    return frame
