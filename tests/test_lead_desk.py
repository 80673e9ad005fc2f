"""The quality lead's desk: the case search and its CSV export, letter batches marked mailed,
closing a recall, agents switched off and on, everyone and every store by name."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import tracemalloc

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from recall.calling.claiming import claim_case
from recall.calling.outcomes import record_disposition
from recall.calling.queue import held_by
from recall.campaign.definitions import get_definition
from recall.db.engine import make_engine
from recall.db.models import Agent, Case, CaseEvent, LetterBatch, QueueEntry, Recall, Store
from recall.reporting import case_search
from recall.reporting.case_search import CaseFilter
from tests.console_support import MONDAY_10H_PARIS, RECALL, build_console, log_in
from tests.support import customer, line, seed
from tests.test_letters import config_for, make_letters

NAMES = {"A1": "Amélie Durand", "A2": "Bruno Petit", "SP": "Sophie Martin"}


@pytest.fixture
def desk(database_url, tmp_path):
    """Six callers (store S001) on three agents' lists, one of them settled by a refund, and
    four letters (store S002; one customer bought at both) in two batches, rendered."""
    engine = make_engine(database_url)
    seed(
        engine,
        Store(store_id="S001", name="Brico Lyon Part-Dieu", city="Lyon", row_hash="x"),
        Store(store_id="S002", name="Brico Gap", city="Gap", row_hash="x"),
        *[customer(f"L{n}", postal_code=f"0500{n}") for n in range(1, 4)],
        *[line(f"L{n}", "2026-02-01", store_id="S002") for n in range(1, 4)],
        line("L2", "2026-02-03", store_id="S001"),
        customer("=1+2", postal_code="05009"),  # a spreadsheet would run it
        line("=1+2", "2026-02-01", store_id="S002"),
    )  # fmt: skip
    engine.dispose()
    app, web = build_console(database_url, tmp_path)
    with Session(app.engine) as session, session.begin():
        for agent_id, name in NAMES.items():
            session.execute(update(Agent).where(Agent.agent_id == agent_id).values(name=name))
        settled = session.scalars(
            select(Case.id).join(*held_by()).where(QueueEntry.agent_id == "A1")
        ).first()
    an_hour_later = MONDAY_10H_PARIS + dt.timedelta(hours=1)
    claim_case(engine=app.engine, agent_id="A1", case_id=settled, clock=lambda: an_hour_later)
    record_disposition(
        engine=app.engine, agent_id="A1", case_id=settled, disposition="reached",
        outcome="refund", clock=lambda: an_hour_later,
    )  # fmt: skip
    definition = get_definition(engine=app.engine, recall_id=RECALL)
    make_letters(app.engine, definition, config_for(tmp_path, batch_size=2))
    yield app, web
    app.engine.dispose()


def every_case(engine) -> list[dict]:
    """Each case as the filters see it, read plainly, in reference order."""
    with Session(engine) as session:
        rows = session.execute(
            select(Case, QueueEntry.agent_id).outerjoin(*held_by()).order_by(Case.seq)
        ).all()
        return [
            {"ref": c.case_ref, "status": c.status, "agent": agent or "none",
             "channel": c.first_channel, "notified_by": c.notified_by or "none",
             "outcome": c.outcome or "none", "stores": c.stores.split(","),
             "customer_id": c.customer_id}
            for c, agent in rows
        ]  # fmt: skip


def expected(cases: list[dict], **asked: str) -> list[str]:
    """The references the filters should select, worked out in Python."""

    def fits(case: dict) -> bool:
        return all(
            value in case["stores"] if name == "store"
            else value in case["ref"] if name == "q" else case[name] == value
            for name, value in asked.items()
        )  # fmt: skip

    return [case["ref"] for case in cases if fits(case)]


def shown(page: str) -> list[str]:
    table = page.split('id="cases"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'case\?ref=([^"&]+)"', table)


def count_shown(page: str) -> int:
    found = re.search(r'id="case-count"[^>]*><strong>(\d+) (?:dossiers?|cases?)<', page)
    assert found, "no count of cases on the page"
    return int(found.group(1))


def exported(client: TestClient, query: str) -> list[dict]:
    answer = client.get(f"/recalls/{RECALL}/cases.csv?{query}")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with its BOM, for Excel
    assert "attachment" in answer.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))


FILTERS = [
    {"status": "identified"}, {"status": "resolved"}, {"agent": "A1"}, {"agent": "none"},
    {"channel": "letter"}, {"channel": "call"}, {"notified_by": "phone"},
    {"notified_by": "none"}, {"store": "S002"}, {"store": "S001"}, {"outcome": "refund"},
    {"outcome": "none"}, {"q": "-00000"}, {"agent": "A1", "status": "identified"},
    {"store": "S001", "channel": "letter"}, {"store": "S002", "agent": "none", "q": "R-2026"},
    {"status": "resolved", "agent": "A2"},
]  # fmt: skip


def test_each_filter_alone_and_combined_selects_the_right_cases_and_counts(desk):
    app, web = desk
    cases = every_case(app.engine)
    assert len(cases) == 10
    with TestClient(web) as lead:
        log_in(lead, "lea")
        for asked in FILTERS:
            query = "&".join(f"{k}={v}" for k, v in asked.items())
            page = lead.get(f"/recalls/{RECALL}/cases?{query}")
            assert page.status_code == 200
            want = expected(cases, **asked)
            assert (shown(page.text), count_shown(page.text)) == (want, len(want)), asked
        assert len(expected(cases, store="S001", channel="letter")) == 1  # the one of both
        assert expected(cases, status="resolved", agent="A2") == []


def test_each_choice_counts_the_cases_it_would_select_under_the_other_filters(desk):
    app, _ = desk
    cases = every_case(app.engine)
    found = case_search.search_cases(
        engine=app.engine, recall_id=RECALL, filters=CaseFilter(channel="call")
    )
    statuses = {c.value: c.count for c in found.choices["status"]}
    assert statuses == {"identified": 5, "resolved": 1}
    agents = {c.value: (c.name, c.count) for c in found.choices["agent"]}
    assert agents == {"A1": ("Amélie Durand", 2), "A2": ("Bruno Petit", 2),
                      "SP": ("Sophie Martin", 2)}  # fmt: skip
    channels = {c.value: c.count for c in found.choices["channel"]}  # not narrowed by itself
    assert channels == {"call": 6, "letter": 4}
    stores = {c.value: (c.name, c.city, c.count) for c in found.choices["store"]}
    assert stores == {"S001": ("Brico Lyon Part-Dieu", "Lyon", 6)}
    assert found.total == len(expected(cases, channel="call")) == 6


def test_the_csv_export_is_exactly_what_the_filters_select_in_the_same_order(desk):
    app, web = desk
    cases = every_case(app.engine)
    with TestClient(web) as lead:
        log_in(lead, "lea")
        for asked in FILTERS:
            query = "&".join(f"{k}={v}" for k, v in {**asked, "sort": "-ref"}.items())
            rows = exported(lead, query)
            assert [r["case_ref"] for r in rows] == expected(cases, **asked)[::-1], asked
        rows = exported(lead, "")
    assert list(rows[0]) == list(case_search.EXPORT_COLUMNS)
    assert "phone_e164" in rows[0] and "first_name" not in rows[0] and "email" not in rows[0]
    by_customer = {r["customer_id"]: r for r in rows}
    assert "'=1+2" in by_customer and "=1+2" not in by_customer  # shown as text, never run
    caller = by_customer["C00000"]
    assert caller["phone_e164"] == "'+33610000000" and caller["call"] == "1"
    assert (caller["stores"], caller["first_channel"]) == ("S001", "call")


def test_a_big_export_streams_without_holding_the_cases_in_memory(engine, monkeypatch):
    """The export's memory is that of a batch or two: flat from the first batches to the
    last, far below the file's size (350,000 cases, some 40 MB, never sit in memory)."""
    started = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    seed(engine, Recall(id="R-BIG", title="Big", hazard="low", definition="{}",
                        launched_at=started))  # fmt: skip
    rows = [
        {"recall_id": "R-BIG", "customer_id": f"C{n:07d}", "seq": n,
         "case_ref": f"R-BIG-{n:07d}", "status": "identified", "quantity": 1,
         "lots": "L4415", "skus": "3276000123456", "stores": "S001,S002",
         "first_purchase": started.date(), "last_purchase": started.date(), "letter": True,
         "call": False, "notice_only": False, "phone_e164": None, "phone_invalid": False,
         "language": "fr", "created_at": started, "updated_at": started}
        for n in range(1, 24_001)
    ]  # fmt: skip
    with Session(engine) as session, session.begin():
        session.execute(insert(Case), rows)
    del rows
    monkeypatch.setattr(case_search, "EXPORT_BATCH", 200)  # 120 batches
    chunks = case_search.export_cases_csv(
        engine=engine, recall_id="R-BIG", filters=CaseFilter(store="S002"), delimiter=";"
    )
    tracemalloc.start()
    peaks, written, lines = [], 0, 0
    try:
        for chunk in chunks:
            written, lines = written + len(chunk), lines + chunk.count("\n")
            peaks.append(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()
    assert lines == 24_001 and len(peaks) > 100 and written > 2_500_000
    assert peaks[-1] < written / 3
    # No growth after the first batches beyond a tenth of the file: tracemalloc also counts what
    # other threads of the test process allocate meanwhile (190 KB seen in a full run).
    assert peaks[-1] <= peaks[4] * 1.1 + written / 10


def test_the_cases_come_a_page_at_a_time_in_a_steady_order(desk):
    app, _ = desk
    everything = [c["ref"] for c in every_case(app.engine)]

    def page(number: int) -> case_search.CasePage:
        return case_search.search_cases(
            engine=app.engine, recall_id=RECALL, filters=CaseFilter(), page=number, per_page=4
        )

    pages = [page(n) for n in (1, 2, 3)]
    assert [p.pages for p in pages] == [3, 3, 3] and pages[0].total == 10
    assert [c.case_ref for p in pages for c in p.lines] == everything
    assert [c.case_ref for c in page(99).lines] == everything[8:]  # past the end: the last


def test_the_cases_are_in_the_order_asked_with_the_reference_breaking_ties(desk):
    app, _ = desk

    def ordered(sort: str) -> list[case_search.CaseLine]:
        return list(case_search.search_cases(
            engine=app.engine, recall_id=RECALL, filters=CaseFilter(), sort=sort
        ).lines)  # fmt: skip

    by_ref = [c.case_ref for c in ordered("ref")]
    assert by_ref == sorted(by_ref) and [c.case_ref for c in ordered("-ref")] == by_ref[::-1]
    agents = [c.agent_id for c in ordered("agent")]
    assert agents == ["A1", "A1", "A2", "A2", "SP", "SP", None, None, None, None]
    latest = ordered("updated")
    assert latest[0].status == "resolved"  # the one change since the launch
    assert [c.status for c in ordered("status")][:4] == ["identified"] * 4
    assert [c.case_ref for c in ordered("no such order")] == by_ref


def test_the_page_links_keep_the_filters(database_url, tmp_path):
    app, web = build_console(database_url, tmp_path, customers=55)
    with TestClient(web) as lead:
        log_in(lead, "lea")
        first = lead.get(f"/recalls/{RECALL}/cases?channel=call")
        assert len(shown(first.text)) == 50 and count_shown(first.text) == 55
        assert "page 1 sur 2" in first.text
        following = re.search(r'href="\?([^"]+)" rel="next"', first.text).group(1)
        assert following == "channel=call&amp;page=2"
        second = lead.get(f"/recalls/{RECALL}/cases?channel=call&page=2")
        assert len(shown(second.text)) == 5
        assert 'href="?channel=call&amp;page=1" rel="prev"' in second.text
        assert len(exported(lead, "channel=call")) == 55  # every page
    app.engine.dispose()


def test_an_agent_is_kept_off_the_lead_desk(desk):
    _app, web = desk
    with TestClient(web) as agent:
        token = log_in(agent, "alice")
        for path in ("cases", "cases.csv", "close"):
            assert agent.get(f"/recalls/{RECALL}/{path}").status_code == 403, path
        for path in ("letters/1/mailed", "close", "agents/A2/reactivate"):
            answer = agent.post(
                f"/recalls/{RECALL}/{path}", data={"csrf": token, "confirmed": "yes"}
            )
            assert answer.status_code == 403, path
    with Session(_app.engine) as session:
        assert session.get(Recall, RECALL).closed_at is None


def test_a_letter_batch_is_marked_mailed_once_however_often_it_is_asked(desk):
    app, web = desk
    with TestClient(web) as lead:
        token = log_in(lead, "lea")
        page = lead.get(f"/recalls/{RECALL}").text
        assert page.count("/mailed") == 2 and "letters-0002.pdf" in page
        done = lead.post(f"/recalls/{RECALL}/letters/1/mailed", data={"csrf": token})
        assert (
            "letters-0001.pdf enregistré comme posté ; 2 dossiers informés par courrier"
            in done.text
        )
        assert "/letters/1/mailed" not in done.text and "/letters/2/mailed" in done.text
        events = _events(app.engine)
        again = lead.post(f"/recalls/{RECALL}/letters/1/mailed", data={"csrf": token})
        assert "letters-0001.pdf était déjà enregistré comme posté" in again.text
        assert (
            lead.post(f"/recalls/{RECALL}/letters/9/mailed", data={"csrf": token}).status_code
            == 404
        )
    assert _events(app.engine) == events
    with Session(app.engine) as session:
        mailed = session.scalars(
            select(LetterBatch.batch_no).where(LetterBatch.mailed_at.is_not(None))
        )
        assert list(mailed) == [1]
        notified = session.scalar(select(func.count()).where(Case.notified_by == "letter"))
        assert notified == 2


def test_closing_a_recall_asks_first_then_closes_it_once(desk):
    app, web = desk
    with TestClient(web) as lead:
        token = log_in(lead, "lea")
        asked = lead.get(f"/recalls/{RECALL}/close").text
        assert "est définitive" in asked and "5 dossiers en cours quittent la liste" in asked
        unconfirmed = lead.post(f"/recalls/{RECALL}/close", data={"csrf": token})
        assert "est définitive" in unconfirmed.text  # back to the question, nothing done
        with Session(app.engine) as session:
            assert session.get(Recall, RECALL).closed_at is None
        done = lead.post(f"/recalls/{RECALL}/close", data={"csrf": token, "confirmed": "yes"})
        said = html.unescape(done.text)
        assert "R-2026-014 est clôturé ; 5 dossiers en cours ont quitté la liste d'appels" in said
        assert "a été clôturé le" in done.text and "/close" not in done.text.split("<main>")[1]
        assert "clôturé le" in lead.get("/recalls").text
        again = lead.post(f"/recalls/{RECALL}/close", data={"csrf": token, "confirmed": "yes"})
        said = html.unescape(again.text)
        assert "R-2026-014 était déjà clôturé le 23 novembre 2026 : rien n'a changé" in said
    assert (app.settings.data_dir / "reports" / RECALL / "final").is_dir()


def test_a_deactivated_agent_stays_listed_until_reactivated_with_cases_again(desk):
    app, web = desk
    with TestClient(web) as lead:
        token = log_in(lead, "lea")
        done = lead.post(f"/recalls/{RECALL}/agents/A2/deactivate", data={"csrf": token})
        said = html.unescape(done.text)
        assert "Bruno Petit (A2) désactivé ; 2 dossiers confiés à d'autres conseillers" in said
        row = _agent_row(done.text, "A2")
        assert "Bruno Petit" in row and "désactivé" in row and "Réactiver" in row
        assert "A2" not in _loads(app.engine)
        back = lead.post(f"/recalls/{RECALL}/agents/A2/reactivate", data={"csrf": token})
        assert re.search(
            r"Bruno Petit \(A2\) est de nouveau actif ; \d dossiers? déplacés?", back.text
        )
        row = _agent_row(back.text, "A2")
        assert "Désactiver" in row and "désactivé" not in row
    loads = _loads(app.engine)
    assert loads["A2"] >= 1 and max(loads.values()) - min(loads.values()) <= 1
    with Session(app.engine) as session:
        assert session.get(Agent, "A2").active is True


def test_agents_and_stores_are_shown_by_name_with_their_code_beside(desk):
    _app, web = desk
    with TestClient(web) as lead:
        log_in(lead, "lea")
        agents = lead.get(f"/recalls/{RECALL}").text
        assert 'Amélie Durand <small class="muted">A1</small>' in agents
        assert '<option value="SP">Sophie Martin (SP)</option>' in agents
        cases = lead.get(f"/recalls/{RECALL}/cases?store=S001&channel=letter").text
        assert 'Brico Gap, Gap <small class="muted">S002</small>' in cases
        assert 'Brico Lyon Part-Dieu, Lyon <small class="muted">S001</small>' in cases
        everyone = lead.get(f"/recalls/{RECALL}/cases?agent=A1").text
        assert 'Amélie Durand <small class="muted">A1</small>' in everyone
        assert ">Sophie Martin (SP) · 2</option>" in everyone


def test_the_desk_speaks_english_to_a_lead_who_chose_it(desk):
    _app, web = desk
    with TestClient(web) as lead:
        token = log_in(lead, "lea")
        lead.post("/language", data={"csrf": token, "lang": "en", "back": "/recalls"})
        page = lead.get(f"/recalls/{RECALL}/cases?outcome=refund").text
        assert count_shown(page) == 1 and ">1 case<" in page and "Export CSV" in page
        assert "Call list forecast:" in lead.get(f"/recalls/{RECALL}").text
        closing = lead.get(f"/recalls/{RECALL}/close").text
        assert "Closing a recall is final" in closing and "5 open cases leave" in closing
        assert len(exported(lead, "outcome=refund")) == 1  # the file is the same in any language


def test_figures_that_refresh_themselves_are_marked_and_named(desk):
    _app, web = desk
    with TestClient(web) as lead:
        log_in(lead, "lea")
        for path in ("/recalls", f"/recalls/{RECALL}", f"/recalls/{RECALL}/cases"):
            marked = re.findall(r'<[a-z]+ id="([^"]+)" data-refresh="30"', lead.get(path).text)
            assert marked and len(marked) == len(set(marked)), path


def _events(engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count(CaseEvent.id)))


def _loads(engine) -> dict[str, int]:
    with Session(engine) as session:
        query = select(QueueEntry.agent_id, func.count()).where(QueueEntry.to_call)
        return dict(session.execute(query.group_by(QueueEntry.agent_id)).tuples().all())


def _agent_row(page: str, agent_id: str) -> str:
    return page.split(f'id="agent-{agent_id}"', 1)[1].split("</tr>", 1)[0]
