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
from recall.web.pages import redirect, render
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
        return redirect(f"/recalls/{recall_id}", "Give a case reference.", request)
    try:
        view = case_remedies(engine=app.engine, recall_id=recall_id, case_ref=ref[:80])
    except NotFound as exc:
        return redirect(f"/recalls/{recall_id}", f"{exc}.", request)
    today = app.clock().date().isoformat()
    return render(request, "case_remedies.html", view=view, today=today)


def _back(recall_id: str, ref: str) -> str:
    return f"/recalls/{recall_id}/case?ref={ref.strip().upper()}"


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
        return redirect(_back(recall_id, ref), f"Not recorded: {exc}.", request)
    said = (f"{done.kind.replace('_', ' ')} recorded ({done.units} unit(s) corrected)."
            if done.recorded else "Already recorded: nothing changed.")  # fmt: skip
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
        return redirect(_back(recall_id, ref), f"Not recorded: {exc}.", request)
    said = "Incident recorded." + (
        " The case went to a health specialist." if done.escalated else ""
    )
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
        return redirect(_back(recall_id, ref), f"Not recorded: {exc}.", request)
    return redirect(_back(recall_id, ref), "Check recorded.", request)


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
        return redirect(f"/recalls/{recall_id}", f"Not recorded: {exc}.", request)
    return render(request, "fulfilment_file.html", recall_id=recall_id, upload=path.name,
                  report=report, rejects=report.rejects[:200],
                  more=max(len(report.rejects) - 200, 0))  # fmt: skip


@router.post("/recalls/{recall_id}/checks", dependencies=[Csrf])
def draw_checks(request: Request, recall_id: str, user: LeadUser, app: AppDep) -> Response:
    drawn = effectiveness.draw_checks(
        engine=app.engine, recall_id=recall_id,
        out_dir=app.settings.data_dir / "checks" / recall_id, clock=app.clock,
    )  # fmt: skip
    said = (f"Effectiveness check, level {drawn.level}: {drawn.drawn:,} case(s) drawn now, "
            f"{drawn.sample:,} in all, of {drawn.notified:,} notified.")  # fmt: skip
    return redirect(f"/recalls/{recall_id}", said, request)


@router.get("/reports/{recall_id}/monthly.{kind}")
def monthly(
    recall_id: str, kind: str, user: ReportUser, app: AppDep, month: str = "", lang: str = "fr"
) -> Response:
    """The month's regulator report, made now: `kind` pdf or csv; `month` 2026-11."""
    if kind not in ("pdf", "csv") or lang not in i18n.LANGUAGES:
        raise NotFound("no such report")
    if month and not MONTH.fullmatch(month):
        raise Refused(f"month {month[:20]!r} is not a month like 2026-11")
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
