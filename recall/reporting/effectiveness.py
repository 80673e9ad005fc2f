"""The effectiveness check: a random sample of notified cases called back with two questions,
"did you receive the notice?" and "did you act on it?" (FDA's effectiveness checks, 21 CFR
7.42(b)(3) and 7.59; the recall's `effectiveness` level sets the share, A 100 % to E none).

Drawing is idempotent: a case is drawn once, and drawing again only adds cases notified since,
keeping the sample at the level's share of every notified case.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import ColumnElement, Engine, and_, func, insert, select
from sqlalchemy.orm import Session

from recall.campaign.definitions import definition_of
from recall.campaign.events import record_move
from recall.clock import Clock, utc_now
from recall.db.models import Case, Customer, EffectivenessCheck
from recall.domain.errors import NotFound
from recall.domain.remedies import RemedyError
from recall.spreadsheet import write_frame

ANSWERS = ("yes", "no")


@dataclass(frozen=True)
class Drawn:
    recall_id: str
    level: str
    share: float
    notified: int  # cases a notice reached
    drawn: int  # newly drawn by this call
    sample: int  # drawn in all
    check_list: Path | None


@dataclass(frozen=True)
class CheckFigures:
    level: str
    share: float
    sample: int = 0
    checked: int = 0  # the check call was made
    answered: int = 0  # ... and reached the customer
    received: int = 0  # who said the notice reached them
    acted: int = 0  # who said they did what it asks

    @property
    def received_share(self) -> float | None:
        return self.received / self.answered if self.answered else None

    @property
    def acted_share(self) -> float | None:
        return self.acted / self.answered if self.answered else None


def draw_checks(
    *,
    engine: Engine,
    recall_id: str,
    out_dir: Path,
    clock: Clock = utc_now,
    rng: random.Random | None = None,
) -> Drawn:
    """Draw the sample (or top it up) and write its check list for the callers."""
    now, rng = clock(), rng or random.SystemRandom()
    with Session(engine) as session, session.begin():
        plan = definition_of(session, recall_id).effectiveness
        notified = select(Case.id).where(Case.recall_id == recall_id, Case.notified_by.is_not(None))
        drawn = set(
            session.scalars(
                select(EffectivenessCheck.case_id).where(EffectivenessCheck.recall_id == recall_id)
            )
        )
        pool = [
            case_id
            for case_id in session.scalars(notified.order_by(Case.id))
            if case_id not in drawn
        ]
        total = len(pool) + len(drawn)
        wanted = max(plan.size(total) - len(drawn), 0)
        chosen = sorted(rng.sample(pool, min(wanted, len(pool))))
        if chosen:  # one executemany: a level A check of 350,000 cases is 350,000 rows
            session.execute(
                insert(EffectivenessCheck),
                [{"case_id": c, "recall_id": recall_id, "level": plan.level, "drawn_at": now}
                 for c in chosen],
            )  # fmt: skip
        sample = len(drawn) + len(chosen)
        path = _check_list(session, recall_id, out_dir) if sample else None
    return Drawn(recall_id, plan.level, plan.share, total, len(chosen), sample, path)


def _check_list(session: Session, recall_id: str, out_dir: Path) -> Path:
    """The calls to make: open checks first; a file for the callers, with the phone to ring."""
    rows = session.execute(
        select(
            Case.case_ref,
            Case.language,
            Customer.first_name,
            Case.phone_e164,
            Case.notified_by,
            EffectivenessCheck.checked_at,
        )
        .join(Case, Case.id == EffectivenessCheck.case_id)
        .join(Customer, Customer.customer_id == Case.customer_id, isouter=True)
        .where(EffectivenessCheck.recall_id == recall_id)
        .order_by(EffectivenessCheck.checked_at.is_not(None), Case.case_ref)
    ).all()
    frame = pd.DataFrame(
        [
            (ref, lang, first or "", phone or "", via, "done" if at else "to call")
            for ref, lang, first, phone, via, at in rows
        ],
        columns=["case_ref", "language", "first_name", "phone", "notified_by", "check"],
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"effectiveness-checks-{recall_id}.csv"
    write_frame(frame, path, encoding="utf-8-sig")
    return path


def record_check(
    *,
    engine: Engine,
    case_ref: str,
    answered: bool,
    received: str = "",
    acted: str = "",
    actor: str,
    clock: Clock = utc_now,
) -> CheckFigures:
    """The check call's answers; recorded once per case (a second answer replaces nothing)."""
    now = clock()
    if answered and (received not in ANSWERS or acted not in ANSWERS):
        raise RemedyError("an answered check needs received and acted, each yes or no")
    if not answered and (received or acted):
        raise RemedyError("a check call that reached nobody has no answers")
    with Session(engine) as session, session.begin():
        ref = case_ref.strip()
        found = session.execute(
            select(Case, EffectivenessCheck)
            .join(EffectivenessCheck, EffectivenessCheck.case_id == Case.id)
            .where(Case.case_ref == ref)
            .with_for_update()
        ).first()
        if found is None:
            raise NotFound(f"case {ref!r} was not drawn for the effectiveness check")
        case, check = found
        if check.checked_at is not None and check.answered:
            raise RemedyError(f"case {ref}: its check was recorded on {check.checked_at:%Y-%m-%d}")
        check.answered, check.checked_at, check.checked_by = answered, now, actor
        check.received = received == "yes" if answered else None
        check.acted = acted == "yes" if answered else None
        said = f"received {received}, acted {acted}" if answered else "no answer"
        record_move(session, case, actor=actor, channel="phone", clock=lambda: now,
                    note=f"effectiveness check: {said}")  # fmt: skip
        recall_id = case.recall_id
    return check_figures(engine=engine, recall_id=recall_id)


def check_figures(
    *, engine: Engine, recall_id: str, until: dt.datetime | None = None
) -> CheckFigures:
    """The check's figures, as of `until` (its checks made by then), else now."""
    with Session(engine) as session:
        plan = definition_of(session, recall_id).effectiveness
        done: ColumnElement[bool] = EffectivenessCheck.checked_at.is_not(None)
        drawn: ColumnElement[bool] = EffectivenessCheck.drawn_at.is_not(None)
        if until is not None:
            done = and_(done, EffectivenessCheck.checked_at <= until)
            drawn = EffectivenessCheck.drawn_at <= until
        sample, checked, answered, received, acted = session.execute(
            select(
                func.count().filter(drawn),
                func.count().filter(done),
                func.count().filter(done & EffectivenessCheck.answered.is_(True)),
                func.count().filter(done & EffectivenessCheck.received.is_(True)),
                func.count().filter(done & EffectivenessCheck.acted.is_(True)),
            ).where(EffectivenessCheck.recall_id == recall_id)
        ).one()
    return CheckFigures(plan.level, plan.share, sample, checked, answered, received, acted)
