"""The reporting pages in the reader's language and on their clock: words for codes, names for
agents and stores, charts whose labels never overlap, regions that refresh themselves, and a
Content-Security-Policy that lets only the console's own script run."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from recall.db.models import Case, CaseEvent, Store
from recall.reporting.completion import DayLine, Funnel, completion
from recall.web import charts
from recall.web.report_words import Words
from tests.console_support import RECALL, build_console, log_in
from tests.support import seed

CHAR_WIDTH = 0.7  # a conservative width of one character, in ems, for any sans-serif font
DAY_LABEL = re.compile(
    r'<text class="day-label" x="([\d.]+)"[^>]*font-size="(\d+)"[^>]*>([^<]+)</text>'
)


@pytest.fixture
def console(database_url, tmp_path):
    app, web = build_console(database_url, tmp_path)
    seed(app.engine, Store(store_id="S001", name="Brico Confluence", city="Lyon", row_hash="x"))
    yield app, web
    app.engine.dispose()


def in_english(client: TestClient, username: str) -> str:
    token = log_in(client, username)
    client.post("/language", data={"csrf": token, "lang": "en", "back": "/"})
    return token


def resolve_one(client: TestClient) -> int:
    """Alice reaches her next customer, who takes a refund; the case's id."""
    token = log_in(client, "alice")
    opened = client.post("/my/next", data={"csrf": token}, follow_redirects=False)
    target = opened.headers["location"]
    form = {"csrf": token, "disposition": "reached", "outcome": "refund"}
    client.post(f"{target}/record", data=form)
    return int(target.rsplit("/", 1)[1])


def days(count: int, start: dt.date = dt.date(2026, 11, 1)) -> list[DayLine]:
    return [DayLine(start + dt.timedelta(days=i), 30 - i % 30, i % 7, i % 3) for i in range(count)]


def label_boxes(svg: str) -> list[tuple[float, float, str]]:
    """(left, right, text) of each day label, as wide as its text can be."""
    boxes = []
    for x, size, text in DAY_LABEL.findall(svg):
        half = len(text) * int(size) * CHAR_WIDTH / 2
        boxes.append((float(x) - half, float(x) + half, text))
    return sorted(boxes)


@pytest.mark.parametrize("count", [1, 2, 7, 30, 31, 120, 400])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_no_two_day_labels_overlap_whatever_the_number_of_days(count, language):
    width = 480
    svg = str(charts.day_chart(days(count), Words(language), width=width))
    boxes = label_boxes(svg)
    assert boxes, "no day is labelled"
    for (_, right, _text), (left, _, _next) in itertools.pairwise(boxes):
        assert right < left, f"{_text!r} and {_next!r} overlap"
    assert boxes[0][0] >= 0 and boxes[-1][1] <= width  # none cut off at an edge
    assert boxes[-1][2] == charts.day_label(days(count)[-1].day, language)  # the latest shown
    assert svg.count("<rect") == 3 * count + 3  # three columns a day, and the legend's keys
    if count >= 30:
        assert len(boxes) >= 3  # spaced, not dropped


def test_a_chart_of_120_days_labels_them_in_french_and_english():
    french = str(charts.day_chart(days(120), Words("fr")))
    english = str(charts.day_chart(days(120), Words("en")))
    assert "1 nov." in french and "Nov 1" in english
    assert 'role="img"' in french and "aria-label=" in french and "<title>" in french
    assert "Dossiers avisés, joints et réglés" in french and "du 1 novembre 2026" in french
    assert "Cases first notified, contacted and resolved each day" in english


def test_days_without_events_are_drawn_as_empty_days():
    gap = [DayLine(dt.date(2026, 11, 1), 5, 0, 0), DayLine(dt.date(2026, 11, 10), 1, 1, 1)]
    svg = str(charts.day_chart(gap, Words("en")))
    assert svg.count("<rect") == 3 * 10 + 3
    assert "Nov 5, Notified: 0" in svg


def test_the_bars_say_their_labels_and_figures_in_the_language():
    funnel = Funnel(identified=12345, notified=10, contacted=3, resolved=1)
    french = str(charts.funnel_chart(funnel, Words("fr")))
    english = str(charts.funnel_chart(funnel, Words("en")))
    assert "Identifiés" in french and "12\u202f345" in french
    assert "Dossiers à chaque étape" in french
    assert "Identified" in english and "12,345" in english
    by_channel = str(charts.channel_chart({"call": funnel}, Words("fr")))
    assert "Appels : tous" in by_channel and "Appels : réglés" in by_channel
    assert "Nothing has happened yet." in str(charts.day_chart([], Words("en")))


def test_the_report_is_in_french_with_names_and_on_the_readers_clock(console):
    _, web = console
    with TestClient(web) as agent, TestClient(web) as reporting:
        resolve_one(agent)
        log_in(reporting, "rita")
        page = reporting.get(f"/reports/{RECALL}").text
    assert '<html lang="fr">' in page and "UTC" not in page
    for said in ("Identifiés", "Par conseiller", "Par magasin", "Portée par canal", "Issues",
                 "Danger : élevé", "remboursement", "Page de réponse en ligne"):  # fmt: skip
        assert said in page, said
    assert "Agent A1 <small" in page and "Brico Confluence, Lyon" in page  # names, not codes
    assert "Lancé le 23 nov. 2026 10:00, votre heure (Paris)" in page
    assert "Mis à jour à 10:00, votre heure (Paris)." in page
    assert "Par jour, votre heure (Paris)" in page and "23 nov." in page
    assert re.search(r'id="resolved-share">16,7\s%<', page)
    for region in ("headline", "charts", "tables"):
        assert re.search(rf'<div[^>]* id="{region}" data-refresh="30"', page), region
    assert "<script>" not in page and '<script src="/static/refresh.js" defer>' in page


def test_the_report_in_english_for_a_reader_who_chose_it(console):
    _, web = console
    with TestClient(web) as agent, TestClient(web) as reporting:
        resolve_one(agent)
        in_english(reporting, "rita")
        page = reporting.get(f"/reports/{RECALL}").text
        listed = reporting.get("/reports").text
    assert '<html lang="en">' in page and "UTC" not in page
    for said in ("Identified", "Per agent", "Per store", "Reach by channel", "Hazard: high",
                 "Self-service page", "Updated at 10:00\u202fAM, your time (Paris)."):  # fmt: skip
        assert said in page, said
    assert re.search(r"<td>refund</td><td class=\"n\">1</td>", page)
    assert re.search(r'id="resolved-share">16.7%<', page)
    assert "Share resolved" in listed and "16.7%" in listed and "Nov 23, 2026" in listed


def test_the_days_of_the_report_are_counted_on_the_readers_clock(console):
    """A customer settled at 23:30 UTC on Monday was settled on Tuesday in Paris."""
    app, web = console
    with TestClient(web) as agent:
        case_id = resolve_one(agent)
    late = dt.datetime(2026, 11, 23, 23, 30, tzinfo=dt.UTC)
    with Session(app.engine) as session, session.begin():
        session.execute(update(CaseEvent).where(CaseEvent.case_id == case_id).values(at=late))
    paris = completion(engine=app.engine, recall_id=RECALL, zone="Europe/Paris").by_day
    utc = completion(engine=app.engine, recall_id=RECALL, zone="UTC").by_day
    assert [(d.day, d.resolved) for d in paris] == [(dt.date(2026, 11, 24), 1)]
    assert [(d.day, d.resolved) for d in utc] == [(dt.date(2026, 11, 23), 1)]


def test_stores_are_named_by_name_and_city_and_by_code_when_unnamed(console):
    app, web = console
    with Session(app.engine) as session, session.begin():
        first = session.query(Case).order_by(Case.id).first()
        first.stores = "S404"
    with TestClient(web) as reporting:
        log_in(reporting, "rita")
        page = reporting.get(f"/reports/{RECALL}").text
    stores = re.search(r'<table id="stores">.*?</table>', page, re.S).group(0)
    assert "<td>Brico Confluence, Lyon <small" in stores and "<td>S404</td>" in stores
    figures = completion(engine=app.engine, recall_id=RECALL)
    assert figures.stores["S001"].name == "Brico Confluence" and "S404" not in figures.stores


def test_the_console_serves_its_script_and_allows_no_other(console):
    _, web = console
    with TestClient(web) as client:
        script = client.get("/static/refresh.js")  # public, as the login page loads it
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        assert "X-Refresh" in script.text and "DOMParser" in script.text
        policy = client.get("/login").headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"  # no inline script, no eval
    assert directives["connect-src"] == "'self'" and directives["default-src"] == "'none'"
    assert "unsafe-eval" not in policy


def test_the_report_pages_stay_behind_login_and_out_of_an_agents_reach(console):
    _, web = console
    with TestClient(web) as client:
        answer = client.get(f"/reports/{RECALL}", headers={"X-Refresh": "1"},
                            follow_redirects=False)  # fmt: skip
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
        log_in(client, "alice")
        assert client.get(f"/reports/{RECALL}").status_code == 403
        assert client.get("/reports").status_code == 403


def test_the_effectiveness_check_is_said_with_its_plural(console):
    _, web = console
    with TestClient(web) as agent, TestClient(web) as lead:
        resolve_one(agent)
        token = in_english(lead, "lea")
        drawn = lead.post(f"/recalls/{RECALL}/checks", data={"csrf": token}).text
    assert "Effectiveness check, level B: 1 case drawn now, 1 in all, of 1 notified." in drawn
