"""The reporting team's pages: completion per recall, as charts, tables and CSV."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from recall.domain.cases import STAGES
from recall.reporting import completion, overview, progress
from recall.web import charts
from recall.web.pages import render
from recall.web.security import AppDep, ReportUser

router = APIRouter()


@router.get("/reports", response_class=HTMLResponse)
def reports(request: Request, user: ReportUser, app: AppDep) -> Response:
    return render(request, "reports.html", recalls=overview.list_recalls(engine=app.engine))


@router.get("/reports/{recall_id}.csv")
def report_csv(recall_id: str, user: ReportUser, app: AppDep) -> Response:
    report = completion.completion(engine=app.engine, recall_id=recall_id)
    return Response(
        completion.completion_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{recall_id}-completion.csv"'},
    )


@router.get("/reports/{recall_id}", response_class=HTMLResponse)
def report(request: Request, recall_id: str, user: ReportUser, app: AppDep) -> Response:
    figures = completion.completion(engine=app.engine, recall_id=recall_id)
    drawn = {
        "funnel": charts.funnel_chart(figures.total),
        "channels": charts.channel_chart(figures.by_channel),
        "days": charts.day_chart(figures.by_day),
    }
    end = progress.expected_end(engine=app.engine, recall_id=recall_id, clock=app.clock)
    return render(
        request, "report.html", report=figures, charts=drawn, stages=STAGES,
        forecast=end,
    )  # fmt: skip
