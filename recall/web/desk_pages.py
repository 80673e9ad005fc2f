"""The quality lead's case search: a recall's cases filtered, counted and paged, the filters
kept in the URL (a view can be bookmarked), and exactly that selection as a CSV download."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from recall.reporting import case_search
from recall.reporting.case_search import CaseFilter
from recall.web.pages import render
from recall.web.report_words import words_of
from recall.web.security import AppDep, LeadUser

router = APIRouter()
Code = Annotated[str, Query(max_length=64)]
# Excel opens a CSV by double-click with the list separator of the PC's regional settings: ";"
# in France (where the comma is the decimal mark), "," in English-speaking countries. The PCs
# of a company follow its country, not a user's choice of console language: the home language
# decides. The BOM tells Excel the file is UTF-8 (else "Lefèvre" shows as "LefÃ¨vre").
SEPARATORS = {"fr": ";"}
BOM = "\ufeff"


def case_filter(
    status: Code = "", agent: Code = "", channel: Code = "", notified_by: Code = "",
    store: Code = "", outcome: Code = "", q: Annotated[str, Query(max_length=80)] = "",
) -> CaseFilter:  # fmt: skip
    """The filters of the page's GET parameters (`q`: a part of the case reference)."""
    return CaseFilter(status, agent, channel, notified_by, store, outcome, q)


Filters = Annotated[CaseFilter, Depends(case_filter)]
Sort = Annotated[str, Query(max_length=10)]


@router.get("/recalls/{recall_id}/cases", response_class=HTMLResponse)
def cases_page(
    request: Request, recall_id: str, user: LeadUser, app: AppDep, filters: Filters,
    sort: Sort = "ref", page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:  # fmt: skip
    found = case_search.search_cases(
        engine=app.engine, recall_id=recall_id, filters=filters, sort=sort, page=page
    )
    return render(
        request, "cases.html", found=found, filters=filters, sort=_sort(sort),
        sorts=list(case_search.SORTS), query=_query(filters, sort), words=words_of(request),
        separator=_separator(app.settings.home_language),
    )  # fmt: skip


@router.get("/recalls/{recall_id}/cases.csv")
def cases_csv(
    recall_id: str, user: LeadUser, app: AppDep, filters: Filters, sort: Sort = "ref"
) -> Response:
    """What the page shows, every page of it, streamed: 350,000 cases never sit in memory."""
    chunks = case_search.export_cases_csv(
        engine=app.engine, recall_id=recall_id, filters=filters, sort=_sort(sort),
        delimiter=_separator(app.settings.home_language),
    )  # fmt: skip
    return StreamingResponse(
        _utf8_with_bom(chunks),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{recall_id}-cases.csv"'},
    )


def _utf8_with_bom(chunks: Iterator[str]) -> Iterator[bytes]:
    yield BOM.encode()
    for chunk in chunks:
        yield chunk.encode()


def _separator(home_language: str) -> str:
    return SEPARATORS.get(home_language, ",")


def _sort(sort: str) -> str:
    return sort if sort in case_search.SORTS else "ref"


def _query(filters: CaseFilter, sort: str) -> str:
    """The filters as GET parameters, for the pages' links and the export's."""
    asked = {
        "status": filters.status, "agent": filters.agent, "channel": filters.channel,
        "notified_by": filters.notified_by, "store": filters.store, "outcome": filters.outcome,
        "q": filters.text, "sort": "" if _sort(sort) == "ref" else sort,
    }  # fmt: skip
    return urlencode({name: value for name, value in asked.items() if value})
