"""The reporting team's pages: completion per recall, as charts, tables and CSV, in the
reader's language and on their clock; the figures refresh themselves (data-refresh)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from recall.domain.cases import STAGES
from recall.reporting import completion, overview, progress
from recall.reporting.completion import Completion, Funnel
from recall.web import charts
from recall.web.languages import clocks_of, page_language
from recall.web.pages import render, translate
from recall.web.report_words import Words, words_of
from recall.web.security import AppDep, ReportUser

router = APIRouter()


@dataclass(frozen=True)
class Named:
    """A row of figures under its name in the reader's words, its code beside."""

    name: str
    code: str
    funnel: Funnel


def by_channel(report: Completion, words: Words) -> list[Named]:
    return [Named(words("channel", k), k, f) for k, f in report.by_channel.items()]


def by_store(request: Request, report: Completion) -> list[Named]:
    """Stores by their name and city, as the stores file gives them; else by their code."""
    rows = []
    for code, funnel in report.by_store.items():
        known = report.stores.get(code)
        name = ", ".join(p for p in (known.name, known.city) if p) if known else ""
        if code == "(none)":
            name = translate(request, "no store known")
        rows.append(Named(name or code, code, funnel))
    return sorted(rows, key=lambda row: (row.code == "(none)", row.name.casefold()))


@router.get("/reports", response_class=HTMLResponse)
def reports(request: Request, user: ReportUser, app: AppDep) -> Response:
    recalls = overview.list_recalls(engine=app.engine)
    return render(request, "reports.html", recalls=recalls, words=words_of(request))


@router.get("/reports/{recall_id}.csv")
def report_csv(recall_id: str, user: ReportUser, app: AppDep) -> Response:
    """The figures as data: codes and UTC days, the same for every reader."""
    report = completion.completion(engine=app.engine, recall_id=recall_id)
    return Response(
        completion.completion_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{recall_id}-completion.csv"'},
    )


@router.get("/reports/{recall_id}", response_class=HTMLResponse)
def report(request: Request, recall_id: str, user: ReportUser, app: AppDep) -> Response:
    language = page_language(request, app.settings.home_language)
    zone = clocks_of(request, language, app.settings.home_zone).zone
    figures = completion.completion(engine=app.engine, recall_id=recall_id, zone=zone)
    words = words_of(request)
    drawn = {
        "funnel": charts.funnel_chart(figures.total, words),
        "channels": charts.channel_chart(figures.by_channel, words),
        "days": charts.day_chart(figures.by_day, words),
    }
    end = progress.expected_end(engine=app.engine, recall_id=recall_id, clock=app.clock)
    return render(
        request, "report.html", report=figures, charts=drawn, stages=STAGES, forecast=end,
        words=words, channels=by_channel(figures, words), stores=by_store(request, figures),
    )  # fmt: skip
