"""The quality lead's pages: recalls, launching one, agents' progress, rebalancing, agents
switched off and on, letter batches mailed, closing a recall."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from recall import i18n
from recall.bootstrap import App
from recall.calling import agents, assignment
from recall.campaign import launches
from recall.domain.definition import InvalidDefinition
from recall.notices.mailing import MailingError, mark_mailed
from recall.reporting import closing, completion, lead_desk, overview, progress
from recall.web.languages import clocks_of, page_language
from recall.web.pages import redirect, render, translate
from recall.web.report_words import words_of
from recall.web.security import AppDep, Csrf, LeadUser, RowId

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
    flash = translate(
        request, "%(recall)s is valid and is being launched: its figures appear as it goes.",
        recall=checked.id,
    )  # fmt: skip
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
        return redirect(
            "/recalls", translate(request, "Not relaunched: %(why)s.", why=exc), request
        )
    flash = translate(request, "%(name)s is being launched again.", name=log.stem)
    return redirect("/recalls", flash, request)


@router.get("/recalls/{recall_id}", response_class=HTMLResponse)
def recall_page(request: Request, recall_id: str, user: LeadUser, app: AppDep) -> Response:
    state = lead_desk.recall_state(engine=app.engine, recall_id=recall_id)
    report = completion.completion(engine=app.engine, recall_id=recall_id)
    roster = agents.list_agents(engine=app.engine)
    return render(
        request, "recall_agents.html", report=report, state=state,
        agents=lead_desk.roster_lines(report.by_agent, roster),
        active_agents=[a for a in roster if a.active],
        forecast=progress.expected_end(engine=app.engine, recall_id=recall_id, clock=app.clock),
        batches=lead_desk.letter_batches(engine=app.engine, recall_id=recall_id),
    )  # fmt: skip


@router.post("/recalls/{recall_id}/agents/{agent_id}/deactivate", dependencies=[Csrf])
def deactivate(
    request: Request, recall_id: str, agent_id: str, user: LeadUser, app: AppDep
) -> Response:
    """Take an agent off every list; their open cases go to the others, evenly."""
    moved = _switch(app, recall_id, agent_id, active=False).assigned
    ngettext = _ngettext(request)
    flash = ngettext(
        "%(agent)s deactivated; %(num)d case given to other agents.",
        "%(agent)s deactivated; %(num)d cases given to other agents.", moved,
    ) % {"num": moved, "agent": _agent_name(app, agent_id)}  # fmt: skip
    return redirect(f"/recalls/{recall_id}", flash, request)


@router.post("/recalls/{recall_id}/agents/{agent_id}/reactivate", dependencies=[Csrf])
def reactivate(
    request: Request, recall_id: str, agent_id: str, user: LeadUser, app: AppDep
) -> Response:
    """Put an agent back on the lists; the call list is rebalanced to give them their share."""
    report = _switch(app, recall_id, agent_id, active=True)
    moved = report.assigned + report.moved
    ngettext = _ngettext(request)
    flash = ngettext(
        "%(agent)s is active again; %(num)d case moved to even the lists out.",
        "%(agent)s is active again; %(num)d cases moved to even the lists out.", moved,
    ) % {"num": moved, "agent": _agent_name(app, agent_id)}  # fmt: skip
    return redirect(f"/recalls/{recall_id}", flash, request)


@router.post("/recalls/{recall_id}/rebalance", dependencies=[Csrf])
def rebalance(request: Request, recall_id: str, user: LeadUser, app: AppDep) -> Response:
    report = _rebalance(app, recall_id)
    ngettext = _ngettext(request)
    assigned = ngettext("Rebalanced: %(num)d case given an agent,",
                        "Rebalanced: %(num)d cases given an agent,", report.assigned)  # fmt: skip
    moved = ngettext("%(num)d case moved.", "%(num)d cases moved.", report.moved)
    flash = f"{assigned % {'num': report.assigned}} {moved % {'num': report.moved}}"
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
        said = translate(request, "Not reassigned: %(why)s", why=exc)
        return redirect(f"/recalls/{recall_id}", said, request)
    flash = translate(
        request, "%(case)s moved from %(old)s to %(new)s.", case=case_ref.strip().upper(),
        old=_agent_name(app, old), new=_agent_name(app, agent_id),
    )  # fmt: skip
    return redirect(f"/recalls/{recall_id}", flash, request)


@router.post("/recalls/{recall_id}/letters/{batch_no}/mailed", dependencies=[Csrf])
def mailed(
    request: Request, recall_id: str, batch_no: RowId, user: LeadUser, app: AppDep
) -> Response:
    """The print house posted a batch: its letters' cases are notified; twice changes nothing."""
    name = lead_desk.batch_file(engine=app.engine, recall_id=recall_id, batch_no=batch_no)
    try:
        report = mark_mailed(
            engine=app.engine, recall_id=recall_id, batch_file=name, actor=user.username,
            clock=app.clock,
        )  # fmt: skip
    except MailingError:  # planned, not rendered: its button is not shown
        flash = translate(request, "%(batch)s is not rendered yet: nothing recorded.", batch=name)
        return redirect(f"/recalls/{recall_id}", flash, request)
    if not report.batches:
        flash = translate(request, "%(batch)s was already recorded as mailed.", batch=name)
        return redirect(f"/recalls/{recall_id}", flash, request)
    ngettext = _ngettext(request)
    flash = ngettext(
        "%(batch)s recorded as mailed; %(num)d case notified by letter.",
        "%(batch)s recorded as mailed; %(num)d cases notified by letter.", report.notified,
    ) % {"num": report.notified, "batch": name}  # fmt: skip
    return redirect(f"/recalls/{recall_id}", flash, request)


@router.get("/recalls/{recall_id}/close", response_class=HTMLResponse)
def close_page(request: Request, recall_id: str, user: LeadUser, app: AppDep) -> Response:
    """What closing does, to be confirmed: it is final."""
    state = lead_desk.recall_state(engine=app.engine, recall_id=recall_id)
    return render(
        request, "close_recall.html", state=state, purge_after=app.clock() + state.retention
    )


@router.post("/recalls/{recall_id}/close", dependencies=[Csrf])
def close(
    request: Request, recall_id: str, user: LeadUser, app: AppDep,
    confirmed: Annotated[str, Form(max_length=8)] = "",
) -> Response:  # fmt: skip
    """Close the recall once confirmed: off the call lists, the final report written."""
    if confirmed != "yes":
        return redirect(f"/recalls/{recall_id}/close")
    try:
        closed = closing.close_recall(
            engine=app.engine, recall_id=recall_id,
            out_dir=app.settings.data_dir / "reports" / recall_id / "final",
            fonts_dir=app.fonts_dir, clock=app.clock, language=app.settings.home_language,
            zone=app.settings.home_zone,
        )  # fmt: skip
    except closing.ClosingError:
        state = lead_desk.recall_state(engine=app.engine, recall_id=recall_id)
        flash = translate(
            request, "%(recall)s was already closed on %(day)s: nothing changed.",
            recall=recall_id, day=_day(request, app, state.closed_at),
        )  # fmt: skip
        return redirect(f"/recalls/{recall_id}", flash, request)
    left = closed.left_call_list
    ngettext = _ngettext(request)
    flash = ngettext(
        "%(recall)s is closed; %(num)d open case left the call list.",
        "%(recall)s is closed; %(num)d open cases left the call list.", left,
    ) % {"num": left, "recall": recall_id}  # fmt: skip
    kept = translate(request, "Final report written; personal data kept until %(day)s.",
                     day=_day(request, app, closed.purge_after))  # fmt: skip
    return redirect(f"/recalls/{recall_id}", f"{flash} {kept}", request)


def _switch(
    app: App, recall_id: str, agent_id: str, *, active: bool
) -> assignment.AssignmentReport:
    lead_desk.recall_state(engine=app.engine, recall_id=recall_id)  # an unknown recall: 404
    agents.set_agent_active(engine=app.engine, agent_id=agent_id, active=active, clock=app.clock)
    return _rebalance(app, recall_id)


def _rebalance(app: App, recall_id: str) -> assignment.AssignmentReport:
    return assignment.assign_call_list(
        engine=app.engine, recall_id=recall_id, home_language=app.settings.home_language,
        rebalance=True, clock=app.clock,
    )  # fmt: skip


def _agent_name(app: App, agent_id: str) -> str:
    """An agent as people know them: "Agent A2 (A2)", or the code alone if unknown."""
    names = {a.agent_id: a.name for a in agents.list_agents(engine=app.engine)}
    return f"{names[agent_id]} ({agent_id})" if agent_id in names else agent_id


def _ngettext(request: Request) -> Callable[[str, str, int], str]:
    """`ngettext` in the user's language, with its plural rule ("0 dossier", "0 cases")."""
    return i18n.ngettext_for(
        page_language(request, request.app.state.recall.settings.home_language)
    )


def _day(request: Request, app: App, at: dt.datetime | None) -> str:
    """A day as the user's calendar and clock show it: "5 décembre 2027"."""
    language = page_language(request, app.settings.home_language)
    zone = ZoneInfo(clocks_of(request, language, app.settings.home_zone).zone)
    return i18n.long_date(at.astimezone(zone).date(), language) if at else ""


def _recalls(
    request: Request, app: App, problems: list | None = None, status: int = 200
) -> Response:
    found = launches.recent_launches(logs=app.settings.data_dir / "launches")
    return render(
        request, "recalls.html", status, recalls=overview.list_recalls(engine=app.engine),
        launches=found, started={launch.key: _started(launch.started) for launch in found},
        problems=problems or [], words=words_of(request),
    )  # fmt: skip


def _started(stamp: str) -> dt.datetime | None:
    """A launch log's UTC start ("20261124T100000") as an instant, for the user's clock."""
    try:
        return dt.datetime.strptime(stamp, "%Y%m%dT%H%M%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
