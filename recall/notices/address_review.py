"""Letters are not printed blind: a case whose address can't be laid out as NF Z10-011 asks
(a postal code that is not one of its country's, a line that can't be shortened to 38
characters) leaves the letter channel for the address-review list, with its reason, and goes
to the call list when it has a phone the customer lets us call, else to the public notice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from recall.campaign.events import SYSTEM, record_move
from recall.clock import Clock, utc_now
from recall.db.models import AddressReview, Case, Customer
from recall.domain.addresses import AddressBlock, address_block
from recall.spreadsheet import write_frame

REVIEW_FILE = "address-review.csv"


@dataclass
class SetAside:
    """What the address check kept back from the letters, by where the cases went."""

    to_call: int = 0
    to_notice: int = 0

    @property
    def cases(self) -> int:
        return self.to_call + self.to_notice


def block_of(row: Any, home_country: str, sender_language: str) -> AddressBlock:
    """The address block of a row carrying a customer's name and address columns."""
    return address_block(
        first_name=row.first_name,
        last_name=row.last_name,
        line1=row.address_line1,
        line2=row.address_line2,
        postal_code=row.postal_code,
        city=row.city,
        country=row.country,
        home_country=home_country,
        sender_language=sender_language,
    )


def set_aside(
    session: Session,
    rows: Sequence[Any],
    *,
    recall_id: str,
    home_country: str,
    sender_language: str,
    clock: Clock = utc_now,
) -> tuple[list[Any], SetAside]:
    """The rows whose address prints; each other case moved, with its reason kept."""
    printable, kept_back = [], []
    for row in rows:
        problem = block_of(row, home_country, sender_language).problem
        if problem is None:
            printable.append(row)
        else:
            kept_back.append((row, problem))
    report = SetAside()
    for start in range(0, len(kept_back), _CHUNK):
        chunk = kept_back[start : start + _CHUNK]
        cases = {
            c.id: c
            for c in session.scalars(select(Case).where(Case.id.in_([r.id for r, _ in chunk])))
        }
        for row, problem in chunk:
            case = cases[row.id]
            _move(session, case, row, problem, recall_id, clock)
            report.to_call += case.call
            report.to_notice += not case.call
    return printable, report


_CHUNK = 500  # cases read at once: well under every database's limit of bound values


def _move(
    session: Session, case: Case, row: Any, reason: str, recall_id: str, clock: Clock
) -> None:
    callable_ = bool(case.phone_e164) and not row.do_not_call
    case.letter = False
    case.call, case.notice_only = (True, False) if callable_ else (case.call, not case.call)
    moved_to = "call" if case.call else "notice"
    note = f"address can't be printed ({reason}): moved to the " + (
        "call list" if moved_to == "call" else "public notice"
    )
    record_move(session, case, actor=SYSTEM, channel="letter", note=note, clock=clock)
    session.add(
        AddressReview(
            case_id=case.id, recall_id=recall_id, reason=reason, moved_to=moved_to,
            found_at=clock(),
        )
    )  # fmt: skip


def write_review_list(*, engine: Engine, recall_id: str, out_dir: Path) -> Path | None:
    """address-review.csv beside the letters: each case kept back, its address as read and
    why, for the team that corrects addresses; None when there is none."""
    with Session(engine) as session:
        rows = session.execute(
            select(
                Case.case_ref, AddressReview.reason, AddressReview.moved_to,
                Customer.first_name, Customer.last_name, Customer.address_line1,
                Customer.address_line2, Customer.postal_code, Customer.city, Customer.country,
            )
            .join(Case, Case.id == AddressReview.case_id)
            .join(Customer, Customer.customer_id == Case.customer_id)
            .where(AddressReview.recall_id == recall_id)
            .order_by(Case.seq)
        ).all()  # fmt: skip
    path = out_dir / REVIEW_FILE
    if not rows:
        path.unlink(missing_ok=True)
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame([row._asdict() for row in rows])
    write_frame(frame, path, encoding="utf-8-sig")
    return path
