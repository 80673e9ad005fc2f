"""The agent's pages: their list, a case with its script, recording calls, the hotline."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from recall.accounts.users import UserView
from recall.bootstrap import App
from recall.calling import agent_queue, claiming, dialing, idle
from recall.calling.case_view import CaseView, open_case
from recall.calling.claiming import AlreadyRecorded, WorkError
from recall.calling.inbound import find_callers
from recall.calling.outcomes import OUTBOUND_ONLY, record_disposition
from recall.calling.script import call_script
from recall.domain.calling import DECLINED, ESCALATED, NOT_IN_POSSESSION
from recall.domain.errors import Refused
from recall.domain.typed_times import UnreadableTime, read_typed_time
from recall.domain.zones import zone_or
from recall.remedies.incidents import IncidentReport, record_incident
from recall.web.pages import redirect, render, translate
from recall.web.report_words import words_of
from recall.web.security import AgentUser, AppDep, CaseId, Csrf, agent_of
from recall.web.words import desk_words

DESK = "web"
FOUND = "hotline_found"  # cases the agent's last hotline search found

router = APIRouter()


@router.get("/my/list", response_class=HTMLResponse)
def my_list(request: Request, user: AgentUser, app: AppDep) -> Response:
    queue = agent_queue.my_queue(engine=app.engine, agent_id=agent_of(user), clock=app.clock,
                                 language=words_of(request).language)  # fmt: skip
    return render(request, "my_list.html", queue=queue, words=desk_words(request))


@router.get("/my/next")
def my_next_page(request: Request, user: AgentUser) -> Response:
    """A link or a reload claims nothing: taking a case is a POST (the list's button)."""
    return redirect("/my/list")


@router.post("/my/next", dependencies=[Csrf])
def my_next(request: Request, user: AgentUser, app: AppDep) -> Response:
    """Open the most urgent case that may be called now."""
    return _open_next(request, app, user)


def _open_next(request: Request, app: App, user: UserView, flash: str | None = None) -> Response:
    won = claiming.next_case_id(
        engine=app.engine, agent_id=agent_of(user), desk=DESK, clock=app.clock
    )
    if won is None:  # say why, and when someone can be called
        idle_now = idle.nothing_to_call(
            engine=app.engine,
            agent_id=agent_of(user),
            clock=app.clock,
            language=words_of(request).language,
        )
        why = desk_words(request).nothing_to_call(idle_now)
        return redirect("/my/list", f"{flash} {why}" if flash else why, request)
    return redirect(f"/cases/{won}", flash, request)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: CaseId, user: AgentUser, app: AppDep) -> Response:
    return _case_page(request, app, _open(request, app, user, case_id))


@router.get("/hotline", response_class=HTMLResponse)
def hotline(request: Request, user: AgentUser) -> Response:
    agent_of(user)
    return render(request, "hotline.html", query="", hits=[], words=desk_words(request))


@router.post("/hotline", response_class=HTMLResponse, dependencies=[Csrf])
def hotline_search(
    request: Request, user: AgentUser, app: AppDep, q: Annotated[str, Form(max_length=80)] = ""
) -> Response:
    """Cases by the letter's reference (or its number), the caller's phone, their name with
    their postal code, or their e-mail (posted: never in a URL)."""
    agent_of(user)
    words = desk_words(request)
    try:
        hits = find_callers(engine=app.engine, query=q, country=app.settings.home_country)
    except Refused as exc:
        request.session[FOUND] = []
        return render(request, "hotline.html", 400, query=q, hits=[], error=words.say(str(exc)),
                      words=words)  # fmt: skip
    request.session[FOUND] = [hit.case_id for hit in hits]
    return render(request, "hotline.html", query=q, hits=hits, words=words)


@router.get("/hotline/cases/{case_id}", response_class=HTMLResponse)
def hotline_case(request: Request, case_id: CaseId, user: AgentUser, app: AppDep) -> Response:
    """A customer calling in: a case the agent's search found opens, whoever's list it is on."""
    return _case_page(request, app, _open(request, app, user, case_id, inbound=True), inbound=True)


@router.post("/cases/{case_id}/record", dependencies=[Csrf])
def record(
    request: Request,
    case_id: CaseId,
    user: AgentUser,
    app: AppDep,
    disposition: Annotated[str, Form(max_length=30)],
    outcome: Annotated[str, Form(max_length=30)] = "",
    skill: Annotated[str, Form(max_length=40)] = "",
    callback_at: Annotated[str, Form(max_length=30)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    inbound: Annotated[str, Form(max_length=1)] = "",
    recorded: Annotated[int | None, Form(ge=0, le=1_000_000)] = None,
) -> Response:
    agent_id = agent_of(user)
    dialled = request.session.get("dialled", {}).get(str(case_id))
    try:
        result = record_disposition(
            engine=app.engine, agent_id=agent_id, case_id=case_id, disposition=disposition,
            desk=DESK, callback_at=_callback_time(request, app, case_id, callback_at),
            outcome=outcome or None, skill=skill or None, note=note.strip() or None,
            attempt_id=dialled, inbound=bool(inbound), recorded=recorded,
            then_next=not inbound, clock=app.clock,
        )  # fmt: skip
    except AlreadyRecorded:  # the first save went through: carry on from there
        repeat = translate(request, "This call was saved already (a repeated click, a retry or "
                                    "another tab): nothing more was recorded.")  # fmt: skip
        if inbound:
            return redirect("/hotline", repeat, request)
        return _open_next(request, app, user, repeat)
    except WorkError as exc:
        view = _open(request, app, user, case_id, inbound=bool(inbound))
        error = translate(request, str(exc))
        return _case_page(request, app, view, bool(inbound), error, 400)
    request.session.get("dialled", {}).pop(str(case_id), None)
    saved = translate(request, "%(case)s: saved (%(status)s).", case=result.case_ref,
                      status=desk_words(request)("status", result.status))  # fmt: skip
    saved += f" {result.note}" if result.note else ""
    if inbound:
        return redirect("/hotline", saved, request)
    if result.next_case is not None:  # saving a call opens the next case, claimed with the save
        return redirect(f"/cases/{result.next_case}", saved, request)
    return _open_next(request, app, user, saved)  # says why nothing is left to call


@router.post("/cases/{case_id}/call", dependencies=[Csrf])
def call(
    request: Request,
    case_id: CaseId,
    user: AgentUser,
    app: AppDep,
    text_first: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    try:
        dialled = dialing.click_to_call(
            engine=app.engine, telephony=app.telephony,
            settings=app.dial_settings, agent_id=agent_of(user), case_id=case_id,
            desk=DESK, text_first=bool(text_first), clock=app.clock,
        )  # fmt: skip
    except WorkError as exc:
        flash = translate(request, "Not called: %(why)s", why=translate(request, str(exc)))
        return redirect(f"/cases/{case_id}", flash, request)
    request.session.setdefault("dialled", {})[str(case_id)] = dialled.attempt_id
    request.session["dialled"] = dict(request.session["dialled"])  # marks the session changed
    flash = translate(
        request, "Calling: your phone rings first, then you are put through to the customer."
    )
    return redirect(f"/cases/{case_id}", flash, request)


@router.post("/cases/{case_id}/incident", dependencies=[Csrf])
def incident(
    request: Request,
    case_id: CaseId,
    user: AgentUser,
    app: AppDep,
    kind: Annotated[str, Form(max_length=60)],
    severity: Annotated[str, Form(max_length=20)],
    occurred_on: Annotated[str, Form(max_length=10)],
    text: Annotated[str, Form(max_length=2000)] = "",
    inbound: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    """Harm or damage the customer reports, on an outbound call or a hotline call (a case the
    agent's hotline search found); an injury sends the case to a health specialist."""
    agent_id = agent_of(user)
    view = _open(request, app, user, case_id, inbound=bool(inbound))
    card = view.card
    given = IncidentReport(card.case_ref, kind, severity, occurred_on, text)
    try:
        done = record_incident(
            engine=app.engine, given=given, actor=agent_id,
            channel="hotline" if inbound else "phone", recall_id=card.recall_id,
            agent_id=None if inbound else agent_id, clock=app.clock,
        )  # fmt: skip
    except Refused as exc:
        error = translate(request, "Not recorded: %(why)s", why=translate(request, str(exc)))
        return _case_page(request, app, view, bool(inbound), error, 400)
    if done.escalated:
        flash = translate(request, "%(case)s: incident recorded; the case went to a health "
                                   "specialist.", case=done.case_ref)  # fmt: skip
        return redirect("/hotline" if inbound else "/my/list", flash, request)
    back = f"/hotline/cases/{case_id}" if inbound else f"/cases/{case_id}"
    return redirect(back, translate(request, "%(case)s: incident recorded.", case=done.case_ref),
                    request)  # fmt: skip


@router.post("/cases/{case_id}/release", dependencies=[Csrf])
def release(request: Request, case_id: CaseId, user: AgentUser, app: AppDep) -> Response:
    claiming.release_case(engine=app.engine, agent_id=agent_of(user), case_id=case_id, desk=DESK)
    return redirect("/my/list", translate(request, "Case put back on your list."), request)


def _open(
    request: Request, app: App, user: UserView, case_id: int, inbound: bool = False
) -> CaseView:
    """Claim a case for this desk: one of the agent's own, or, for a customer calling in, one
    that the agent's hotline search found (a case id typed in the address bar is not enough)."""
    if inbound and case_id not in request.session.get(FOUND, []):
        raise claiming.NotYourCase("this case was not found by a hotline search")
    return open_case(
        engine=app.engine, agent_id=agent_of(user), case_id=case_id, username=user.username,
        desk=DESK, inbound=inbound, clock=app.clock,
    )  # fmt: skip


def _case_page(
    request: Request,
    app: App,
    view: CaseView,
    inbound: bool = False,
    error: str | None = None,
    status: int = 200,
) -> Response:
    card, definition = view.card, view.definition
    script = call_script(
        templates_dir=app.settings.templates_dir / "scripts", definition=definition, card=card,
        names=view.names, hotline=app.settings.hotline,
        home_language=app.settings.home_language, inbound=inbound,
        postal_code=view.postal_code if inbound else "-",
        skill=None if inbound or not card.skill else card.skill,  # a caller: identified first
    )  # fmt: skip
    outcomes = [*definition.remedies, NOT_IN_POSSESSION, DECLINED, ESCALATED]
    return render(
        request, "case.html", status, card=card, script=script, inbound=inbound, error=error,
        history=view.history, outcomes=outcomes, outbound_only=OUTBOUND_ONLY,
        words=desk_words(request), web_answer=view.web_answer, escalation=view.escalation,
        contacts=view.contacts, other_recalls=view.other_recalls,
    )  # fmt: skip


def _callback_time(request: Request, app: App, case_id: CaseId, typed: str) -> dt.datetime | None:
    """A callback time typed on the customer's clock (the form's datetime-local, or as a person
    types it: "demain 10h30"), as an instant."""
    if not typed.strip():
        return None
    zone = zone_or(agent_queue.case_zone(engine=app.engine, case_id=case_id), "Europe/Paris")
    try:
        return read_typed_time(typed, now=app.clock(), zone=zone)
    except UnreadableTime as exc:
        raise WorkError(translate(request, "Callback time: %(why)s", why=str(exc))) from None
