"""Recording that an agreed remedy was carried out: from the console or the CLI, one at a
time (a file of them is `fulfilment_file.py`).

A case counts as corrected only for the units its fulfilments carried out; each kind is
recorded once per case, so the same fulfilment given twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
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
from recall.domain.remedies import CARRIES_OUT, FulfilmentKind, RemedyError, amount, choice, day


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


@dataclass(frozen=True)
class Kept:
    """A fulfilment already recorded, as the checks compare it."""

    done_on: dt.date
    amount: str | None
    units: int
    done_by: str | None
    reference: str | None


@dataclass
class Facts:
    """What the checks of a fulfilment need of its case, read once."""

    case_id: int
    case_ref: str
    recall_id: str
    status: str
    outcome: str | None
    quantity: int
    recorded: dict[str, Kept] = field(default_factory=dict)  # kind -> what was recorded
    corrected: int = 0  # units corrected by those

    @classmethod
    def of(cls, case: Case, rows: list[Fulfilment]) -> Facts:
        recorded = {r.kind: Kept(r.done_on, r.amount, r.units, r.done_by, r.reference)
                    for r in rows}  # fmt: skip
        return cls(case.id, case.case_ref, case.recall_id, case.status, case.outcome,
                   case.quantity, recorded, sum(r.units for r in rows))  # fmt: skip


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
    rows = list(session.scalars(select(Fulfilment).where(Fulfilment.case_id == case.id)))
    facts = Facts.of(case, rows)
    values, done = plan(given, facts, remedies=definition.remedies,
                        today=local_today(definition, now), agreed=agreed)  # fmt: skip
    if values is not None:
        session.add(Fulfilment(**values, source=source, recorded_by=actor, recorded_at=now))
        record_move(session, case, actor=actor, channel=source, clock=lambda: now,
                    note=note_of(values))  # fmt: skip
    return done


def plan(
    given: FulfilmentInput, facts: Facts, *, remedies: tuple[str, ...], today: dt.date,
    agreed: bool = True,
) -> tuple[dict | None, Fulfilled]:  # fmt: skip
    """Check one fulfilment against its case; the values to write (None: the same one was
    recorded before) and what it did. `facts` is brought up to date when there is one."""
    kind = choice(FulfilmentKind, given.kind, "kind")
    done_on = day(given.done_on, "done_on", today=today)
    if agreed:
        _remedy_agreed(facts, kind, remedies)
    paid = amount(given.amount) if given.amount.strip() else None
    if kind == FulfilmentKind.REFUND_PAID and paid is None:
        raise RemedyError("a refund paid needs its amount")
    existing = facts.recorded.get(kind.value)
    if existing is not None:
        _same_as(kind.value, existing, given, done_on, paid)
        return None, Fulfilled(facts.case_ref, kind.value, existing.units, recorded=False)
    units = _units(facts, given.units)
    by, reference = given.done_by.strip() or None, given.reference.strip() or None
    values = {
        "case_id": facts.case_id, "recall_id": facts.recall_id, "kind": kind.value,
        "units": units, "amount": paid, "done_on": done_on, "done_by": by, "reference": reference,
        "currency": (given.currency.strip().upper() or "EUR") if paid else None,
    }  # fmt: skip
    facts.recorded[kind.value] = Kept(done_on, paid, units, by, reference)
    facts.corrected += units
    return values, Fulfilled(facts.case_ref, kind.value, units, recorded=True)


def note_of(values: dict) -> str:
    """The history's line for a fulfilment recorded."""
    what = values["kind"].replace("_", " ") + (f" {values['amount']}" if values["amount"] else "")
    return f"fulfilled: {what}, {values['units']} unit(s), on {values['done_on']}"


def _same_as(
    kind: str, existing: Kept, given: FulfilmentInput, done_on: dt.date, paid: str | None
) -> None:
    """A fulfilment given again must say what was recorded: else it is refused, not merged."""
    said = {"done_on": done_on, "amount": paid, "units": given.units.strip(),
            "done_by": given.done_by.strip(), "reference": given.reference.strip()}  # fmt: skip
    kept = {"done_on": existing.done_on, "amount": existing.amount, "units": str(existing.units),
            "done_by": existing.done_by or "", "reference": existing.reference or ""}  # fmt: skip
    differ = [k for k, value in said.items() if value not in ("", None) and value != kept[k]]
    if differ:
        raise RemedyError(
            f"{kind} was already recorded for this case on {existing.done_on} with another "
            f"{', '.join(differ)}: not changed"
        )


def _remedy_agreed(facts: Facts, kind: FulfilmentKind, remedies: tuple[str, ...]) -> None:
    agreed = facts.outcome if facts.status == Status.RESOLVED.value else None
    if agreed not in (*remedies, RETURNED_IN_STORE):
        said = f"{facts.status}" + (f", {facts.outcome}" if facts.outcome else "")
        raise RemedyError(f"case {facts.case_ref} has no remedy agreed yet ({said})")
    carries = CARRIES_OUT[kind]
    if carries is not None and agreed != RETURNED_IN_STORE and carries != agreed:
        raise RemedyError(f"case {facts.case_ref} agreed a {agreed}, not a {carries}")


def units_left(session: Session, case: Case) -> int:
    """The case's units no fulfilment has corrected yet."""
    done = session.scalar(
        select(func.coalesce(func.sum(Fulfilment.units), 0)).where(Fulfilment.case_id == case.id)
    )
    return max(case.quantity - int(done or 0), 0)


def _units(facts: Facts, given: str) -> int:
    left = max(facts.quantity - facts.corrected, 0)
    if not given.strip():
        return left
    try:
        units = int(given.strip())
    except ValueError:
        raise RemedyError(f"units {given!r} is not a whole number") from None
    if units < 1 or units > left:
        raise RemedyError(
            f"units {units}: case {facts.case_ref} has {left} unit(s) left to correct"
        )
    return units
