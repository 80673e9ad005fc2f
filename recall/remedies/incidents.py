"""Incidents a customer reports on a case: harm or damage the product caused.

An injury or a death sends the case to a specialist at once (the `health` skill): a
doctor or a trained agent calls back, as the crisis guides ask.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from recall.calling.outcomes import apply_outcome
from recall.campaign.events import change_status, record_move
from recall.clock import Clock, utc_now
from recall.db.models import Case, Incident
from recall.domain.calling import ESCALATED
from recall.domain.cases import Status, to_contacted
from recall.domain.errors import NotFound
from recall.domain.remedies import HARM, INCIDENT_SKILL, RemedyError, day, severity

KIND_MAX = 60


@dataclass(frozen=True)
class IncidentReport:
    """What a customer said happened, as an agent or the lead types it in."""

    case_ref: str
    kind: str
    severity: str
    occurred_on: str
    text: str = ""


@dataclass(frozen=True)
class IncidentRecorded:
    incident_id: int
    case_ref: str
    severity: str
    escalated: bool  # the case went to a specialist queue now
    agent_id: str | None  # who has the case now


def record_incident(
    *,
    engine: Engine,
    given: IncidentReport,
    actor: str,
    channel: str,
    agent_id: str | None = None,
    clock: Clock = utc_now,
) -> IncidentRecorded:
    """Record an incident on a case; `agent_id`: only a case on that agent's list."""
    now = clock()
    kind = " ".join(given.kind.split()).lower()
    if not kind or len(kind) > KIND_MAX:
        raise RemedyError(
            f"the incident needs its kind (e.g. burn, fire), {KIND_MAX} characters at most"
        )
    grade = severity(given.severity)
    occurred = day(given.occurred_on, "occurred_on", today=now.date())
    with Session(engine) as session, session.begin():
        ref = given.case_ref.strip()
        case = session.scalar(select(Case).where(Case.case_ref == ref).with_for_update())
        if case is None or (agent_id is not None and case.agent_id != agent_id):
            raise NotFound(
                f"no case has the reference {ref!r}" + (" on your list" if agent_id else "")
            )
        incident = Incident(
            case_id=case.id, recall_id=case.recall_id, kind=kind, severity=grade.value,
            occurred_on=occurred, text=given.text.strip() or None, recorded_by=actor,
            recorded_at=now,
        )  # fmt: skip
        session.add(incident)
        note = f"incident: {kind}, {grade.value.replace('_', ' ')}, on {occurred}"
        escalated = grade in HARM and _escalate(session, case, actor, channel, note, now)
        if not escalated:
            record_move(session, case, actor=actor, channel=channel, note=note, clock=lambda: now)
        session.flush()
        return IncidentRecorded(incident.id, case.case_ref, grade.value, escalated, case.agent_id)


def _escalate(
    session: Session, case: Case, actor: str, channel: str, note: str, now: dt.datetime
) -> bool:
    """The customer told us of the harm: they are in touch; a specialist takes the case."""
    status = Status(case.status)
    if status in (Status.RESOLVED, Status.ESCALATED):
        return False  # closed (the incident is still counted) or with a specialist already
    for target in to_contacted(status):
        change_status(session, case, target, actor=actor, channel=channel, note=note,
                      clock=lambda: now)  # fmt: skip
    apply_outcome(
        session, case, ESCALATED, actor=actor, now=now, skill=INCIDENT_SKILL, note=note,
        channel=channel,
    )  # fmt: skip
    return True
