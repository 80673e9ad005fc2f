"""The quality lead's pages: recalls, launching one, agents' progress, rebalancing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from recall.bootstrap import App
from recall.calling import agents, assignment
from recall.campaign import launches
from recall.campaign.definitions import get_definition
from recall.domain.definition import InvalidDefinition
from recall.reporting import completion, overview, progress
from recall.web.pages import redirect, render
from recall.web.security import AppDep, Csrf, LeadUser

router = APIRouter()


@router.get("/recalls", response_class=HTMLResponse)
def recalls_page(request: Request, user: LeadUser, app: AppDep) -> Response:
    return _recalls(request, app)


@router.post("/recalls", dependencies=[Csrf])
async def launch(
    request: Request, user: LeadUser, app: AppDep, definition: Annotated[UploadFile, File()]
) -> Response:
    """Check an uploaded definition; launch it in the background when it is valid."""
    content = await definition.read(launches.MAX_DEFINITION_BYTES + 1)
    try:
        checked, path = launches.check_upload(
            uploads=app.settings.data_dir / "uploads", filename=definition.filename or "",
            content=content, templates_dir=app.settings.templates_dir,
        )  # fmt: skip
    except InvalidDefinition as exc:
        return _recalls(request, app, problems=exc.errors, status=400)
    launches.start_launch(definition_path=path, logs=app.settings.data_dir / "launches")
    flash = f"{checked.id} is valid and is being launched: its figures appear as it goes."
    return redirect("/recalls", flash, request)


@router.post("/recalls/launches/{key}/retry", dependencies=[Csrf])
def retry(request: Request, key: str, user: LeadUser, app: AppDep) -> Response:
    """Launch again a definition whose launch failed (the flow engine was not there, say)."""
    try:
        log = launches.retry_launch(
            logs=app.settings.data_dir / "launches", key=key,
            templates_dir=app.settings.templates_dir,
        )  # fmt: skip
    except InvalidDefinition as exc:
        return _recalls(request, app, problems=exc.errors, status=400)
    except launches.LaunchNotFound as exc:
        return redirect("/recalls", f"Not relaunched: {exc}.", request)
    return redirect("/recalls", f"{log.stem} is being launched again.", request)


@router.get("/recalls/{recall_id}", response_class=HTMLResponse)
def recall_page(request: Request, recall_id: str, user: LeadUser, app: AppDep) -> Response:
    report = completion.completion(engine=app.engine, recall_id=recall_id)
    active = [a.agent_id for a in agents.list_agents(engine=app.engine) if a.active]
    end = progress.expected_end(engine=app.engine, recall_id=recall_id, clock=app.clock)
    return render(request, "recall_agents.html", report=report, active_agents=active, forecast=end)


@router.post("/recalls/{recall_id}/agents/{agent_id}/deactivate", dependencies=[Csrf])
def deactivate(
    request: Request, recall_id: str, agent_id: str, user: LeadUser, app: AppDep
) -> Response:
    """Take an agent off every list; their open cases go to the others, evenly."""
    get_definition(engine=app.engine, recall_id=recall_id)  # an unknown recall changes nothing
    agents.set_agent_active(engine=app.engine, agent_id=agent_id, active=False, clock=app.clock)
    report = _rebalance(app, recall_id)
    flash = f"Agent {agent_id} deactivated; {report.assigned:,} case(s) given to other agents."
    return redirect(f"/recalls/{recall_id}", flash, request)


@router.post("/recalls/{recall_id}/rebalance", dependencies=[Csrf])
def rebalance(request: Request, recall_id: str, user: LeadUser, app: AppDep) -> Response:
    report = _rebalance(app, recall_id)
    flash = f"Rebalanced: {report.assigned:,} case(s) assigned, {report.moved:,} moved."
    return redirect(f"/recalls/{recall_id}", flash, request)


@router.post("/recalls/{recall_id}/reassign", dependencies=[Csrf])
def reassign(
    request: Request,
    recall_id: str,
    user: LeadUser,
    app: AppDep,
    case_ref: Annotated[str, Form(max_length=80)],
    agent_id: Annotated[str, Form(max_length=64)],
) -> Response:
    try:
        old = assignment.reassign_case(
            engine=app.engine, case_ref=case_ref, agent_id=agent_id, actor=user.username,
            clock=app.clock,
        )  # fmt: skip
    except assignment.ReassignError as exc:
        return redirect(f"/recalls/{recall_id}", f"Not reassigned: {exc}", request)
    flash = f"{case_ref.strip().upper()} moved from {old} to {agent_id}."
    return redirect(f"/recalls/{recall_id}", flash, request)


def _rebalance(app: App, recall_id: str) -> assignment.AssignmentReport:
    return assignment.assign_call_list(
        engine=app.engine, recall_id=recall_id, home_language=app.settings.home_language,
        rebalance=True, clock=app.clock,
    )  # fmt: skip


def _recalls(
    request: Request, app: App, problems: list | None = None, status: int = 200
) -> Response:
    return render(
        request, "recalls.html", status, recalls=overview.list_recalls(engine=app.engine),
        launches=launches.recent_launches(logs=app.settings.data_dir / "launches"),
        problems=problems or [],
    )  # fmt: skip
