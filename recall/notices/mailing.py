"""What happens to letters after printing: posted by the print house, some returned undelivered."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, and_, insert, literal, select, update
from sqlalchemy.orm import Session

from recall.campaign.events import change_status, record_move
from recall.clock import Clock, utc_now
from recall.db.models import Case, CaseEvent, Customer, Letter, LetterBatch
from recall.domain.cases import Status, check_transition
from recall.domain.errors import Refused
from recall.spreadsheet import UnreadableFile, read_small_csv, rejects_path, write_frame

PRINT_HOUSE = "print-house"


class MailingError(Refused):
    """A mailing record that can't be applied; nothing was written."""


@dataclass
class MailedReport:
    batches: list[str]
    notified: int  # cases that moved to notified


@dataclass
class ReturnedReport:
    to_call_list: int = 0
    unreachable: int = 0
    already_recorded: int = 0
    reached_already: int = 0  # returned after the customer was reached: no channel move
    rejected: int = 0
    rejects_file: Path | None = None
    reasons: dict[str, str] = field(default_factory=dict)


def mark_mailed(
    *,
    engine: Engine,
    recall_id: str,
    batch_file: str | None = None,
    actor: str = PRINT_HOUSE,
    clock: Clock = utc_now,
) -> MailedReport:
    """Record that the print house posted a batch (or all rendered ones): cases get notified."""
    check_transition(Status.IDENTIFIED, Status.NOTIFIED)
    with Session(engine) as session, session.begin():
        query = select(LetterBatch).where(
            LetterBatch.recall_id == recall_id, LetterBatch.mailed_at.is_(None)
        )
        batches = session.scalars(query.order_by(LetterBatch.batch_no)).all()
        if batch_file is not None:
            batches = _named_batch(session, recall_id, Path(batch_file).name, list(batches))
        batches = [b for b in batches if b.rendered_at is not None]
        if not batches:
            return MailedReport([], 0)
        numbers = [b.batch_no for b in batches]
        now = clock()
        waiting = and_(
            Letter.recall_id == recall_id,
            Letter.batch_no.in_(numbers),
            Case.id == Letter.case_id,
            Case.status == Status.IDENTIFIED.value,
        )
        events = select(
            Case.id,
            literal(now),
            literal(actor),
            literal("letter"),
            literal("identified"),
            literal("notified"),
            literal("letter posted by the print house"),
        ).where(waiting)
        columns = ["case_id", "at", "actor", "channel", "old_status", "new_status", "note"]
        session.execute(insert(CaseEvent).from_select(columns, events))
        moved = session.execute(
            update(Case)
            .where(Case.id.in_(select(Letter.case_id).where(waiting)))
            .values(status=Status.NOTIFIED.value, notified_by="letter", updated_at=now)
        ).rowcount  # type: ignore[attr-defined]
        for batch in batches:
            batch.mailed_at = now
        return MailedReport([b.file for b in batches], moved)


def _named_batch(
    session: Session, recall_id: str, name: str, unmailed: list[LetterBatch]
) -> list[LetterBatch]:
    match = [b for b in unmailed if b.file == name]
    if match:
        if match[0].rendered_at is None:
            raise MailingError(f"{name} is planned but not rendered yet: render the letters first")
        return match
    known = session.scalars(
        select(LetterBatch.file).where(LetterBatch.recall_id == recall_id)
    ).all()
    if name in known:
        return []  # already recorded as mailed: nothing to do
    listed = ", ".join(known[:5]) + (" ..." if len(known) > 5 else "") if known else "none"
    raise MailingError(f"recall {recall_id} has no letter batch {name} (batches: {listed})")


def record_returned(
    *, engine: Engine, path: Path, actor: str = PRINT_HOUSE, clock: Clock = utc_now
) -> ReturnedReport:
    """Letters returned undelivered (a CSV with a case_ref column): each case changes channel.

    The letter did not reach the customer: a case it alone notified goes back to identified.
    With a phone and no do_not_call the case joins the call list; otherwise it ends unreachable.
    A letter already recorded as returned is skipped, so the same file can be applied twice.
    """
    refs = _read_refs(path)
    report = ReturnedReport()
    rejects: list[tuple[int, str]] = []
    with Session(engine) as session, session.begin():
        for index, ref in enumerate(refs):
            why = _return_one(session, ref, report, actor, clock)
            if why:
                rejects.append((index, why))
    if rejects:
        report.rejects_file = _write_rejects(path, rejects)
        report.rejected = len(rejects)
    return report


def _return_one(
    session: Session, ref: str, report: ReturnedReport, actor: str, clock: Clock
) -> str | None:
    found = session.execute(
        select(Case, Letter, Customer.do_not_call)
        .outerjoin(Letter, Letter.case_id == Case.id)
        .join(Customer, Customer.customer_id == Case.customer_id)
        .where(Case.case_ref == ref)
    ).first()
    if found is None:
        return f"no case has the reference {ref!r}"
    case, letter, do_not_call = found
    if letter is None:
        return f"case {ref} was never sent a letter"
    if letter.returned_at is not None:
        report.already_recorded += 1
        return None
    letter.returned_at = clock()
    if case.status == Status.NOTIFIED.value and case.notified_by == "letter":
        change_status(
            session,
            case,
            Status.IDENTIFIED,
            actor=actor,
            channel="letter",
            note="letter returned undelivered: the notice did not reach the customer",
            clock=clock,
        )
    elif case.status != Status.IDENTIFIED.value:  # reached by another channel: it stands
        report.reached_already += 1
        if case.notified_by == "letter":  # the notice that reached them was not the letter
            case.notified_by = _first_contact_channel(session, case)
        record_move(
            session,
            case,
            actor=actor,
            channel="letter",
            note="letter returned undelivered; customer already reached"
            if case.notified_by
            else "letter returned undelivered: the notice did not reach the customer",
            clock=clock,
        )
        return None
    if case.phone_e164 and not do_not_call:
        case.call, case.notice_only = True, False
        record_move(
            session,
            case,
            actor=actor,
            channel="letter",
            note="letter returned undelivered: moved to the call list",
            clock=clock,
        )
        report.to_call_list += 1
    else:
        case.notice_only = True  # the public notice is all that is left
        change_status(
            session,
            case,
            Status.UNREACHABLE,
            actor=actor,
            channel="letter",
            note="letter returned undelivered and no phone to call",
            clock=clock,
        )
        report.unreachable += 1
    return None


def _first_contact_channel(session: Session, case: Case) -> str | None:
    """The channel through which the customer first got in touch, if they ever did."""
    return session.scalar(
        select(CaseEvent.channel)
        .where(CaseEvent.case_id == case.id, CaseEvent.new_status == Status.CONTACTED.value)
        .order_by(CaseEvent.id)
        .limit(1)
    )


def _read_refs(path: Path) -> list[str]:
    try:
        frame = read_small_csv(path)
    except UnreadableFile as exc:
        raise MailingError(str(exc)) from None
    if "case_ref" not in frame.columns:
        raise MailingError(f"{path}: needs a case_ref column (found: {', '.join(frame.columns)})")
    return [str(v).strip() for v in frame["case_ref"]]


def _write_rejects(path: Path, rejects: list[tuple[int, str]]) -> Path:
    frame = read_small_csv(path)
    rows = frame.iloc[[i for i, _ in rejects]].copy()
    rows["reject_reason"] = [why for _, why in rejects]
    out = rejects_path(path)
    write_frame(rows, out, encoding="utf-8-sig")
    return out
