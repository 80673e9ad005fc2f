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
from recall.campaign.definitions import definition_of
from recall.campaign.events import change_status, record_move
from recall.clock import Clock, utc_now
from recall.db.models import Case, Incident
from recall.domain.calling import ESCALATED
from recall.domain.cases import Status, to_contacted
from recall.domain.remedies import HARM, INCIDENT_SKILL, RemedyError, Severity, choice, day
from recall.remedies.fulfilment import find_case, local_today

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
    recall_id: str | None = None,
    agent_id: str | None = None,
    clock: Clock = utc_now,
) -> IncidentRecorded:
    """Record an incident on a case (of `recall_id`, on `agent_id`'s list, when given); the
    same report sent twice (a double click) is recorded once."""
    now = clock()
    kind = " ".join(given.kind.split()).lower()
    if not kind or len(kind) > KIND_MAX:
        raise RemedyError(
            f"the incident needs its kind (e.g. burn, fire), {KIND_MAX} characters at most"
        )
    grade = choice(Severity, given.severity, "severity")
    with Session(engine) as session, session.begin():
        case = find_case(session, given.case_ref, recall_id=recall_id, agent_id=agent_id)
        today = local_today(definition_of(session, case.recall_id), now)
        occurred = day(given.occurred_on, "occurred_on", today=today)
        text = given.text.strip() or None
        same = session.scalar(
            select(Incident).where(
                Incident.case_id == case.id, Incident.kind == kind,
                Incident.severity == grade.value, Incident.occurred_on == occurred,
                Incident.text.is_(None) if text is None else Incident.text == text,
            )
        )  # fmt: skip
        if same is not None:
            return IncidentRecorded(same.id, case.case_ref, grade.value, False, case.agent_id)
        incident = Incident(
            case_id=case.id, recall_id=case.recall_id, kind=kind, severity=grade.value,
            occurred_on=occurred, text=text, recorded_by=actor, recorded_at=now,
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
    """The customer told us of the harm: they are in touch; a health specialist takes the case
    (one already with another specialist is handed on to one with the health skill)."""
    status = Status(case.status)
    if status == Status.RESOLVED or case.escalation_reason == INCIDENT_SKILL:
        return False  # closed (the incident is still counted), or with a health specialist
    for target in to_contacted(status):
        change_status(session, case, target, actor=actor, channel=channel, note=note,
                      clock=lambda: now)  # fmt: skip
    apply_outcome(
        session, case, ESCALATED, actor=actor, now=now, skill=INCIDENT_SKILL, note=note,
        channel=channel,
    )  # fmt: skip
    return True
