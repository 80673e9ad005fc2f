"""Recording that an agreed remedy was carried out: from the console, the CLI or a file.

A case counts as corrected only for the units its fulfilments carried out; each kind is
recorded once per case, so the same file applied twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from recall.campaign.definitions import definition_of
from recall.campaign.events import record_move
from recall.clock import Clock, utc_now
from recall.db.models import Case, Fulfilment
from recall.domain.calling import RETURNED_IN_STORE
from recall.domain.cases import Status
from recall.domain.definition import RecallDefinition
from recall.domain.errors import NotFound
from recall.domain.remedies import (
    CARRIES_OUT,
    FulfilmentKind,
    RemedyError,
    amount,
    choice,
    day,
)
from recall.spreadsheet import UnreadableFile, read_small_csv, rejects_path, write_frame

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
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # line, case_ref, why


def find_case(
    session: Session, case_ref: str, *, recall_id: str | None = None, agent_id: str | None = None
) -> Case:
    """The case with this reference, locked for this transaction; of this recall and on this
    agent's list when they are given (otherwise as unknown as a reference never printed)."""
    ref = case_ref.strip().upper()
    case = session.scalar(select(Case).where(Case.case_ref == ref).with_for_update())
    if case is None or (recall_id is not None and case.recall_id != recall_id):
        where = f" in recall {recall_id}" if recall_id else ""
        raise NotFound(f"no case has the reference {ref!r}{where}")
    if agent_id is not None and case.agent_id != agent_id:
        raise NotFound(f"no case has the reference {ref!r} on your list")
    return case


def local_today(definition: RecallDefinition, now: dt.datetime) -> dt.date:
    """Today on the recall's clock: a day typed in Paris just after midnight is not ahead."""
    return now.astimezone(ZoneInfo(definition.call.timezone)).date()


def record_fulfilment(
    *,
    engine: Engine,
    given: FulfilmentInput,
    actor: str,
    source: str,
    recall_id: str | None = None,
    clock: Clock = utc_now,
) -> Fulfilled:
    """Record one fulfilment; `recall_id`: only a case of that recall may be named."""
    with Session(engine) as session, session.begin():
        case = find_case(session, given.case_ref, recall_id=recall_id)
        return fulfil(session, given, actor=actor, source=source, now=clock(), case=case)


def fulfil(
    session: Session,
    given: FulfilmentInput,
    *,
    actor: str,
    source: str,
    now: dt.datetime,
    case: Case | None = None,
    agreed: bool = True,
) -> Fulfilled:
    """The checks and the writes of one fulfilment, in the caller's transaction; `agreed`
    False lets a product physically back (a till return) be counted before any agreement."""
    case = case or find_case(session, given.case_ref)
    definition = definition_of(session, case.recall_id)
    kind = choice(FulfilmentKind, given.kind, "kind")
    done_on = day(given.done_on, "done_on", today=local_today(definition, now))
    if agreed:
        _remedy_agreed(case, kind, definition.remedies)
    paid = amount(given.amount) if given.amount.strip() else None
    if kind == FulfilmentKind.REFUND_PAID and paid is None:
        raise RemedyError("a refund paid needs its amount")
    existing = session.scalar(
        select(Fulfilment).where(Fulfilment.case_id == case.id, Fulfilment.kind == kind.value)
    )
    if existing is not None:
        _same_as(existing, given, done_on, paid)
        return Fulfilled(case.case_ref, kind.value, existing.units, recorded=False)
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
    return Fulfilled(case.case_ref, kind.value, units, recorded=True)


def _same_as(
    existing: Fulfilment, given: FulfilmentInput, done_on: dt.date, paid: str | None
) -> None:
    """A fulfilment given again must say what was recorded: else it is refused, not merged."""
    said = {"done_on": done_on, "amount": paid, "units": given.units.strip(),
            "done_by": given.done_by.strip(), "reference": given.reference.strip()}  # fmt: skip
    kept = {"done_on": existing.done_on, "amount": existing.amount, "units": str(existing.units),
            "done_by": existing.done_by or "", "reference": existing.reference or ""}  # fmt: skip
    differ = [
        name for name, value in said.items() if value not in ("", None) and value != kept[name]
    ]
    if differ:
        raise RemedyError(
            f"{existing.kind} was already recorded for this case on {existing.done_on} with "
            f"another {', '.join(differ)}: not changed"
        )


def _remedy_agreed(case: Case, kind: FulfilmentKind, remedies: tuple[str, ...]) -> None:
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
    *, engine: Engine, path: Path, actor: str, recall_id: str | None = None, clock: Clock = utc_now
) -> FulfilmentImport:
    """A CSV from the retailer's systems, one fulfilment per row; bad rows go to a rejects
    file beside it with the line and the reason, good ones are recorded; applying it twice
    changes nothing. `recall_id`: rows naming another recall's case are rejected."""
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
    report, now = FulfilmentImport(path), clock()
    with Session(engine) as session, session.begin():
        for line, row in enumerate(frame.itertuples(index=False), start=2):  # after the header
            given = FulfilmentInput(**{name: getattr(row, name) for name in COLUMNS})
            try:
                with session.begin_nested():
                    case = find_case(session, given.case_ref, recall_id=recall_id)
                    done = fulfil(session, given, actor=actor, source="file", now=now, case=case)
            except (RemedyError, NotFound) as exc:
                report.rejects.append((line, given.case_ref, str(exc)))
                continue
            report.recorded += done.recorded
            report.already += not done.recorded
            report.units += done.units if done.recorded else 0
    _write_rejects(frame, report)
    return report


def _write_rejects(frame: object, report: FulfilmentImport) -> None:
    out = rejects_path(report.path)
    if not report.rejects:
        out.unlink(missing_ok=True)  # an earlier run's: now stale
        return
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    rows = frame.iloc[[line - 2 for line, _, _ in report.rejects]].copy()
    rows.insert(0, "line", [line for line, _, _ in report.rejects])
    rows["reject_reason"] = [why for _, _, why in report.rejects]
    write_frame(rows, out, encoding="utf-8-sig")
    report.rejects_file, report.rejected = out, len(report.rejects)
