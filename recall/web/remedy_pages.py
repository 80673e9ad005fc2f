"""After the call: the lead records what was carried out (by hand or a file from the
retailer's systems), incidents and effectiveness checks; the reporting team downloads the
regulator's monthly report."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from recall import i18n
from recall.campaign.definitions import get_definition
from recall.domain.errors import NotFound, Refused
from recall.filenames import keep_upload
from recall.remedies.case_view import case_remedies
from recall.remedies.fulfilment import FulfilmentInput, record_fulfilment
from recall.remedies.fulfilment_file import import_fulfilments
from recall.remedies.incidents import IncidentReport, record_incident
from recall.reporting import effectiveness
from recall.reporting.monthly import monthly_report, write_monthly_report
from recall.web.pages import redirect, render, translate
from recall.web.report_words import words_of
from recall.web.security import AppDep, Csrf, LeadUser, ReportUser

router = APIRouter()
Text = Annotated[str, Form(max_length=200)]
Day = Annotated[str, Form(max_length=10)]
Amount = Annotated[str, Form(max_length=20)]
Upload = Annotated[UploadFile, File()]
MONTH = re.compile(r"\d{4}-\d{2}")


@router.get("/recalls/{recall_id}/case", response_class=HTMLResponse)
def case_page(
    request: Request, recall_id: str, user: LeadUser, app: AppDep, ref: str = ""
) -> Response:
    if not ref.strip():
        return redirect(f"/recalls/{recall_id}", translate(request, "Give a case reference."),
                        request)  # fmt: skip
    try:
        view = case_remedies(engine=app.engine, recall_id=recall_id, case_ref=ref[:80])
    except NotFound:
        said = translate(request, "Recall %(recall)s has no case %(ref)s.", recall=recall_id,
                         ref=ref.strip().upper()[:80])  # fmt: skip
        return redirect(f"/recalls/{recall_id}", said, request)
    today = app.clock().date().isoformat()
    return render(request, "case_remedies.html", view=view, today=today, words=words_of(request))


def _back(recall_id: str, ref: str) -> str:
    return f"/recalls/{recall_id}/case?ref={ref.strip().upper()}"


def _not_recorded(request: Request, url: str, exc: Exception) -> Response:
    """Back to the page, saying why (in the service's words: they name the value refused)."""
    return redirect(url, translate(request, "Not recorded: %(why)s.", why=str(exc)), request)


@router.post("/recalls/{recall_id}/case/{ref}/fulfilment", dependencies=[Csrf])
def fulfilment(
    request: Request, recall_id: str, ref: str, user: LeadUser, app: AppDep,
    kind: Annotated[str, Form(max_length=24)], done_on: Day,
    units: Annotated[str, Form(max_length=6)] = "", amount: Amount = "", done_by: Text = "",
    reference: Text = "",
) -> Response:  # fmt: skip
    given = FulfilmentInput(ref, kind, done_on, units, amount, "EUR", done_by, reference)
    try:
        done = record_fulfilment(
            engine=app.engine, given=given, actor=user.username, source="console",
            recall_id=recall_id, clock=app.clock,
        )  # fmt: skip
    except Refused as exc:
        return _not_recorded(request, _back(recall_id, ref), exc)
    if not done.recorded:
        said = translate(request, "Already recorded: nothing changed.")
        return redirect(_back(recall_id, ref), said, request)
    words = words_of(request)
    ngettext = i18n.ngettext_for(words.language)
    said = ngettext("%(what)s recorded: %(num)d unit corrected.",
                    "%(what)s recorded: %(num)d units corrected.", done.units)  # fmt: skip
    said %= {"what": words("fulfilment", done.kind), "num": done.units}
    return redirect(_back(recall_id, ref), said, request)


@router.post("/recalls/{recall_id}/case/{ref}/incident", dependencies=[Csrf])
def incident(
    request: Request, recall_id: str, ref: str, user: LeadUser, app: AppDep,
    kind: Annotated[str, Form(max_length=60)], severity: Annotated[str, Form(max_length=20)],
    occurred_on: Day, text: Annotated[str, Form(max_length=2000)] = "",
) -> Response:  # fmt: skip
    try:
        done = record_incident(
            engine=app.engine, given=IncidentReport(ref, kind, severity, occurred_on, text),
            actor=user.username, channel="console", recall_id=recall_id, clock=app.clock,
        )  # fmt: skip
    except Refused as exc:
        return _not_recorded(request, _back(recall_id, ref), exc)
    said = translate(request, "Incident recorded.")
    if done.escalated:
        said += " " + translate(request, "The case went to a health specialist.")
    return redirect(_back(recall_id, ref), said, request)


@router.post("/recalls/{recall_id}/case/{ref}/check", dependencies=[Csrf])
def check(
    request: Request, recall_id: str, ref: str, user: LeadUser, app: AppDep,
    answered: Annotated[str, Form(max_length=3)], received: Annotated[str, Form(max_length=3)] = "",
    acted: Annotated[str, Form(max_length=3)] = "",
) -> Response:  # fmt: skip
    case_remedies(engine=app.engine, recall_id=recall_id, case_ref=ref)
    reached = answered == "yes"
    try:
        effectiveness.record_check(
            engine=app.engine, case_ref=ref, answered=reached,
            received=received if reached else "", acted=acted if reached else "",
            actor=user.username, clock=app.clock,
        )  # fmt: skip
    except (Refused, NotFound) as exc:
        return _not_recorded(request, _back(recall_id, ref), exc)
    return redirect(_back(recall_id, ref), translate(request, "Check recorded."), request)


@router.post("/recalls/{recall_id}/fulfilments", response_class=HTMLResponse, dependencies=[Csrf])
def fulfilment_file(
    request: Request,
    recall_id: str,
    user: LeadUser,
    app: AppDep,
    file: Annotated[UploadFile, File()],
) -> Response:
    """A CSV of fulfilments from the retailer's systems (this recall's cases only); the
    rejected rows are shown with why. A plain function: FastAPI runs it in its thread pool,
    so a long file keeps no other console user waiting."""
    get_definition(engine=app.engine, recall_id=recall_id)  # an unknown recall takes nothing
    path = keep_upload(app.settings.data_dir / "uploads", file.filename or "", file.file.read(),
                       "fulfilments.csv")  # fmt: skip
    try:
        report = import_fulfilments(engine=app.engine, path=path, actor=user.username,
                                    recall_id=recall_id, clock=app.clock)  # fmt: skip
    except Refused as exc:
        return _not_recorded(request, f"/recalls/{recall_id}", exc)
    return render(request, "fulfilment_file.html", recall_id=recall_id, upload=path.name,
                  report=report, rejects=report.rejects[:200],
                  more=max(len(report.rejects) - 200, 0))  # fmt: skip


@router.post("/recalls/{recall_id}/checks", dependencies=[Csrf])
def draw_checks(request: Request, recall_id: str, user: LeadUser, app: AppDep) -> Response:
    drawn = effectiveness.draw_checks(
        engine=app.engine, recall_id=recall_id,
        out_dir=app.settings.data_dir / "checks" / recall_id, clock=app.clock,
    )  # fmt: skip
    language = words_of(request).language
    ngettext = i18n.ngettext_for(language)
    said = ngettext(
        "Effectiveness check, level %(level)s: %(num)d case drawn now, %(sample)s in all, "
        "of %(notified)s notified.",
        "Effectiveness check, level %(level)s: %(num)d cases drawn now, %(sample)s in all, "
        "of %(notified)s notified.", drawn.drawn,
    ) % {"level": drawn.level, "num": drawn.drawn, "sample": i18n.number(drawn.sample, language),
         "notified": i18n.number(drawn.notified, language)}  # fmt: skip
    return redirect(f"/recalls/{recall_id}", said, request)


@router.get("/reports/{recall_id}/monthly.{kind}")
def monthly(
    request: Request, recall_id: str, kind: str, user: ReportUser, app: AppDep, month: str = "",
    lang: str = "fr",
) -> Response:  # fmt: skip
    """The month's regulator report, made now: `kind` pdf or csv; `month` 2026-11."""
    if kind not in ("pdf", "csv") or lang not in i18n.LANGUAGES:
        raise NotFound("no such report")
    if month and not MONTH.fullmatch(month):
        raise Refused(translate(request, "The month %(month)s is not a month like 2026-11.",
                                month=repr(month[:20])))  # fmt: skip
    report = monthly_report(
        engine=app.engine, recall_id=recall_id, month=month or None, clock=app.clock
    )
    with tempfile.TemporaryDirectory() as folder:
        files = write_monthly_report(report, out_dir=Path(folder), fonts_dir=app.fonts_dir,
                                     language=lang)  # fmt: skip
        path = files.pdf if kind == "pdf" else files.csv
        body = path.read_bytes()
    media = "application/pdf" if kind == "pdf" else "text/csv; charset=utf-8"
    disposition = f'attachment; filename="{path.name}"'
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})
