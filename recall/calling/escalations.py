"""What a specialist sees of an escalated case: the skill it needs, the reason the agent who
escalated it typed, who that was and when, and the incidents the customer reported."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from recall.db.models import Agent, Case, CaseEvent, Incident
from recall.domain.calling import ESCALATED, SPECIALIST_SKILL
from recall.domain.cases import Status

# The note of an escalation's event, as recording the outcome writes it: "outcome: escalated -
# <the reason typed>"; an injury reported escalates with "incident: <kind>, <severity>, ...".
_OUTCOME = f"outcome: {ESCALATED}"
_FROM_INCIDENT = "incident: "


@dataclass(frozen=True)
class IncidentLine:
    kind: str  # as typed: burn, fire...
    severity: str  # none, property_damage, injury, death
    occurred_on: dt.date
    text: str  # what the customer said, as the agent typed it


@dataclass(frozen=True)
class Escalation:
    skill: str  # the specialist skill the case needs: health, escalation...
    reason: str  # as the agent who escalated typed it; "" when an incident report escalated it
    by: str  # who escalated it: the agent's name, else the user or agent id
    at: dt.datetime | None  # when; None for a case escalated before events were kept
    incidents: tuple[IncidentLine, ...]  # most recent first


def needed_skill(status: str, reason: str | None) -> str:
    """The skill a case of this status needs of its agent: "" but for an escalation."""
    if status != Status.ESCALATED.value:
        return ""
    return reason or SPECIALIST_SKILL


def stays_with_specialist(session: Session, case: Case, agent_id: str) -> bool:
    """An escalation the customer calls in about, answered by an agent without its skill, stays
    with the specialist who has it: the call is recorded, the case is not taken over."""
    skill = needed_skill(case.status, case.escalation_reason)
    holder = case.agent_id
    if not skill or holder is None or holder == agent_id:
        return False
    found = session.execute(
        select(Agent.agent_id, Agent.skills).where(Agent.agent_id.in_((agent_id, holder)))
    ).all()
    skills = {who: (stored or "").split(",") for who, stored in found}
    return skill in skills.get(holder, ()) and skill not in skills.get(agent_id, ())


def escalation_of(*, engine: Engine, case_id: int) -> Escalation | None:
    """The escalation a specialist works on this case; None when the case isn't escalated."""
    with Session(engine) as session:
        found = session.execute(
            select(Case.status, Case.escalation_reason).where(Case.id == case_id)
        ).first()
        return escalation_in(session, case_id, *found) if found is not None else None


def escalation_in(
    session: Session, case_id: int, status: str, reason: str | None
) -> Escalation | None:
    """`escalation_of`, for a case whose status and escalation reason are read already."""
    skill = needed_skill(status, reason)
    if not skill:
        return None
    event = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case_id, CaseEvent.new_status == Status.ESCALATED.value,
               CaseEvent.note.startswith(_OUTCOME))
        .order_by(CaseEvent.at.desc(), CaseEvent.id.desc())
        .limit(1)
    ).first()  # fmt: skip
    return Escalation(
        skill=skill,
        reason=_reason(event.note if event else None),
        by=_name_of(session, event.actor) if event else "",
        at=event.at if event else None,
        incidents=_incidents(session, case_id),
    )


def _reason(note: str | None) -> str:
    """The reason the agent typed, out of the event's note."""
    reason = (note or "").removeprefix(_OUTCOME).strip().removeprefix("-").strip()
    return "" if reason.startswith(_FROM_INCIDENT) else reason


def _name_of(session: Session, actor: str) -> str:
    return session.scalar(select(Agent.name).where(Agent.agent_id == actor)) or actor


def _incidents(session: Session, case_id: int) -> tuple[IncidentLine, ...]:
    found = session.scalars(
        select(Incident)
        .where(Incident.case_id == case_id)
        .order_by(Incident.occurred_on.desc(), Incident.id.desc())
    )
    return tuple(IncidentLine(i.kind, i.severity, i.occurred_on, i.text or "") for i in found)
