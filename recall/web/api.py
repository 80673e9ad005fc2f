"""JSON endpoints of the console: the same services as the pages, for scripts and dialers.

Changing calls need the session's CSRF token in the X-CSRF-Token header (GET /api/me
returns it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from recall.calling import agent_queue, claiming
from recall.calling.outcomes import record_disposition
from recall.domain.calling import Disposition
from recall.reporting import completion as completion_figures
from recall.reporting import overview
from recall.web.security import (
    MAX_ROW_ID,
    AgentUser,
    AppDep,
    CaseId,
    Csrf,
    ReportUser,
    UserDep,
    agent_of,
    csrf_token,
)

router = APIRouter(prefix="/api")
DESK = "api"


class Me(BaseModel):
    username: str
    role: str
    agent_id: str | None
    csrf: str


class CaseOut(BaseModel):
    case_id: int
    case_ref: str
    recall_id: str
    status: str
    customer: str
    phone: str | None
    language: str
    attempts: int
    callback_at: dt.datetime | None
    recorded: int  # send it back with the record: a repeated record is then refused (409)


class Next(BaseModel):
    case: CaseOut | None


class QueueOut(BaseModel):
    left: int
    done_today: int
    case_ids: list[int]


class Record(BaseModel):
    disposition: Literal[tuple(d.value for d in Disposition)]  # type: ignore[valid-type]
    outcome: str | None = Field(default=None, max_length=30)
    skill: str | None = Field(default=None, max_length=40)
    note: str | None = Field(default=None, max_length=2000)
    callback_at: dt.datetime | None = None
    attempt_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    recorded: int | None = Field(default=None, ge=0, le=1_000_000)


class Recorded(BaseModel):
    case_ref: str
    status: str
    on_call_list: bool
    agent_id: str | None
    next_call_at: dt.datetime | None
    note: str


class RecallOut(BaseModel):
    recall_id: str
    title: str
    hazard: str
    cases: int
    to_call: int
    resolved: int


@router.get("/me")
def me(request: Request, user: UserDep) -> Me:
    return Me(username=user.username, role=user.role, agent_id=user.agent_id,
              csrf=csrf_token(request))  # fmt: skip


@router.get("/my/queue")
def my_queue(user: AgentUser, app: AppDep) -> QueueOut:
    queue = agent_queue.my_queue(engine=app.engine, agent_id=agent_of(user), clock=app.clock)
    return QueueOut(left=queue.left, done_today=queue.done_today,
                    case_ids=[row.case_id for row in queue.rows])  # fmt: skip


@router.post("/my/next", dependencies=[Csrf])
def next_case(user: AgentUser, app: AppDep) -> Next:
    """Claim the agent's most urgent case that may be called now (null when none is due)."""
    card = claiming.next_case(
        engine=app.engine, agent_id=agent_of(user), desk=DESK, clock=app.clock
    )
    if card is None:
        return Next(case=None)
    return Next(case=CaseOut(**_fields(card, CaseOut)))


@router.post("/cases/{case_id}/record", dependencies=[Csrf])
def record(case_id: CaseId, body: Record, user: AgentUser, app: AppDep) -> Recorded:
    """One call to a case the agent holds, and its outcome once the customer was reached."""
    result = record_disposition(
        engine=app.engine, agent_id=agent_of(user), case_id=case_id, desk=DESK,
        disposition=body.disposition, outcome=body.outcome, skill=body.skill, note=body.note,
        callback_at=body.callback_at, attempt_id=body.attempt_id, recorded=body.recorded,
        clock=app.clock,
    )  # fmt: skip
    return Recorded(**_fields(result, Recorded))


@router.get("/recalls")
def recalls(user: ReportUser, app: AppDep) -> list[RecallOut]:
    return [RecallOut(**_fields(r, RecallOut)) for r in overview.list_recalls(engine=app.engine)]


@router.get("/recalls/{recall_id}/completion")
def completion(recall_id: str, user: ReportUser, app: AppDep) -> dict[str, Any]:
    """The recall's funnel as a whole, by channel, agent, store and day."""
    report = completion_figures.completion(engine=app.engine, recall_id=recall_id)
    return dataclasses.asdict(report)


def _fields(source: object, model: type[BaseModel]) -> dict[str, Any]:
    return {name: getattr(source, name) for name in model.model_fields}
