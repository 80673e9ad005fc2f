"""The agent's console: list, case page with script, recording calls, the hotline."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recall.db.models import CallAttempt, Case, CaseEvent
from tests.console_support import RECALL, csrf_of, log_in


def cases_of(engine, agent_id):
    with Session(engine) as session:
        return session.scalars(
            select(Case).where(Case.agent_id == agent_id).order_by(Case.id)
        ).all()


def left_on_list(client) -> int:
    return int(re.search(r'id="left">(\d+)<', client.get("/my/list").text).group(1))


def open_next(client) -> tuple[int, str]:
    token = csrf_of(client.get("/my/list").text)
    answer = client.post("/my/next", data={"csrf": token}, follow_redirects=False)
    assert answer.status_code == 303
    target = answer.headers["location"]
    assert target.startswith("/cases/"), target
    return int(target.rsplit("/", 1)[1]), client.get(target).text


def test_an_agent_works_cases_in_a_row_and_the_list_shrinks(console):
    app, web = console
    with TestClient(web) as client:
        token = log_in(client, "alice")
        before = left_on_list(client)
        assert before == len(cases_of(app.engine, "A1")) == 2  # 6 callers, 3 agents
        case_id, page = open_next(client)
        assert "Bonjour, je suis Agent A1" in page  # the script, filled in, in French
        assert "+33" in page  # the agent who calls sees the number
        saved = client.post(
            f"/cases/{case_id}/record",
            data={"csrf": token, "disposition": "reached", "outcome": "refund"},
            follow_redirects=False,
        )
        assert saved.status_code == 303  # after saving, the next case opens
        next_id = int(saved.headers["location"].removeprefix("/cases/"))
        assert next_id != case_id
        assert left_on_list(client) == before - 1
    with Session(app.engine) as session:
        assert session.get(Case, case_id).status == "resolved"
        assert session.get(Case, case_id).outcome == "refund"


def test_a_callback_time_is_read_on_the_customers_clock(console):
    app, web = console
    with TestClient(web) as client:
        token = log_in(client, "alice")
        case_id, _ = open_next(client)
        client.post(
            f"/cases/{case_id}/record",
            data={"csrf": token, "disposition": "callback_requested",
                  "callback_at": "2026-11-24T18:30"},
        )  # fmt: skip
    with Session(app.engine) as session:
        case = session.get(Case, case_id)
        assert case.callback_at == dt.datetime(2026, 11, 24, 17, 30, tzinfo=dt.UTC)  # Paris, UTC+1
        assert case.callback_agent == "A1"


def test_a_callback_time_may_be_typed_as_the_customer_said_it(console):
    app, web = console
    with TestClient(web) as client:
        token = log_in(client, "alice")
        case_id, _ = open_next(client)
        refused = client.post(
            f"/cases/{case_id}/record",
            data={"csrf": token, "disposition": "callback_requested", "callback_at": "bientôt"},
        )
        assert "is not a time; write it as" in " ".join(refused.text.split())
        client.post(
            f"/cases/{case_id}/record",
            data={"csrf": token, "disposition": "callback_requested",
                  "callback_at": "demain 10h30"},
        )  # fmt: skip
    tomorrow = app.clock().date() + dt.timedelta(days=1)
    with Session(app.engine) as session:
        local = session.get(Case, case_id).callback_at.astimezone(ZoneInfo("Europe/Paris"))
    assert (local.date(), local.hour, local.minute) == (tomorrow, 10, 30)


def test_an_escalation_without_a_reason_is_refused_and_shown_on_the_page(console):
    app, web = console
    with TestClient(web) as client:
        token = log_in(client, "alice")
        case_id, _ = open_next(client)
        refused = client.post(
            f"/cases/{case_id}/record",
            data={"csrf": token, "disposition": "reached", "outcome": "escalated"},
        )
        assert refused.status_code == 400  # said in French, alice's language
        assert "une escalade demande un motif pour le spécialiste" in refused.text
        client.post(
            f"/cases/{case_id}/record",
            data={"csrf": token, "disposition": "reached", "outcome": "escalated",
                  "skill": "health", "note": "pregnant customer, wants a doctor"},
        )  # fmt: skip
    with Session(app.engine) as session:
        case = session.get(Case, case_id)
        assert (case.status, case.agent_id) == ("escalated", "SP")


def test_the_hotline_finds_a_case_by_reference_or_phone_and_takes_it_over(console):
    app, web = console
    theirs = cases_of(app.engine, "A2")[0]
    with TestClient(web) as client:
        token = log_in(client, "alice")
        by_ref = client.post("/hotline", data={"q": theirs.case_ref.lower(), "csrf": token})
        assert f"/hotline/cases/{theirs.id}" in by_ref.text
        national = "0" + theirs.phone_e164[3:]
        by_phone = client.post("/hotline", data={"q": national, "csrf": token})
        assert f"/hotline/cases/{theirs.id}" in by_phone.text
        page = client.get(f"/hotline/cases/{theirs.id}")
        assert page.status_code == 200 and 'name="inbound"' in page.text
        client.post(
            f"/cases/{theirs.id}/record",
            data={"csrf": token, "disposition": "reached", "outcome": "replacement",
                  "inbound": "1"},
        )  # fmt: skip
    with Session(app.engine) as session:
        case = session.get(Case, theirs.id)
        assert (case.status, case.agent_id) == ("resolved", "A1")
        notes = session.scalars(select(CaseEvent.note).where(CaseEvent.case_id == theirs.id))
        assert any("taken over by agent A1 from agent A2" in (n or "") for n in notes)
    assert theirs.id not in [c.id for c in cases_of(app.engine, "A2")]


def claimed_by_api(client, username) -> tuple[dict, dict]:
    """Log in and claim the next case through the JSON API: the headers to send, the case."""
    headers = {"X-CSRF-Token": log_in(client, username)}
    return headers, client.post("/api/my/next", headers=headers).json()["case"]


def test_the_api_gives_the_next_case_and_records_it(console):
    app, web = console
    with TestClient(web) as client:
        headers, claimed = claimed_by_api(client, "bruno")
        assert claimed["recall_id"] == RECALL
        done = client.post(
            f"/api/cases/{claimed['case_id']}/record", headers=headers,
            json={"disposition": "no_answer"},
        )  # fmt: skip
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "identified"  # an attempt: it notified nobody
        queue = client.get("/api/my/queue").json()
        assert queue["done_today"] == 1 and queue["left"] == 2  # a retry later: still to call
    with Session(app.engine) as session:
        case = session.get(Case, claimed["case_id"])
        assert (case.attempts, case.notified_by) == (1, None)
        steps = session.execute(
            select(CaseEvent.old_status, CaseEvent.new_status)
            .where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        ).all()  # fmt: skip
        assert [tuple(s) for s in steps[1:]] == [("identified", "identified")]


def test_opening_the_next_case_by_a_link_or_a_prefetch_claims_nothing(console):
    app, web = console
    with TestClient(web) as client:
        log_in(client, "alice")
        answer = client.get("/my/next", follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (303, "/my/list")
        refused = client.post("/my/next", follow_redirects=False)  # no CSRF token: refused
        assert refused.status_code == 403
    with Session(app.engine) as session:
        claimed = session.scalars(select(Case.claimed_by).where(Case.claimed_by.is_not(None)))
        assert list(claimed) == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"disposition": "callback_requested", "callback_at": "9999-12-31T23:59:59-12:00"}, 409),
        ({"disposition": "callback_requested", "callback_at": "2026-11-24T10:00:00"}, 409),
        ({"disposition": "callback_requested", "callback_at": "2031-01-01T10:00:00+01:00"}, 409),
        ({"disposition": "no_answer", "attempt_id": 2**70}, 422),
    ],
    ids=["year-10000-in-utc", "no-zone", "years-ahead", "attempt-id-too-large"],
)
def test_a_record_with_a_value_out_of_its_domain_is_refused_and_changes_nothing(
    console, body, status
):
    app, web = console
    with TestClient(web) as client:
        headers, claimed = claimed_by_api(client, "bruno")
        answer = client.post(f"/api/cases/{claimed['case_id']}/record", headers=headers, json=body)
    assert answer.status_code == status, answer.text
    with Session(app.engine) as session:
        assert session.get(Case, claimed["case_id"]).attempts == 0
        assert session.get(Case, claimed["case_id"]).callback_at is None


def attempts_of(engine, case_id) -> int:
    with Session(engine) as session:
        return len(session.scalars(select(CallAttempt).where(CallAttempt.case_id == case_id)).all())


def test_a_save_sent_twice_records_one_call(console):
    app, web = console
    with TestClient(web) as client:
        token = log_in(client, "alice")
        case_id, page = open_next(client)
        recorded = re.search(r'name="recorded" value="(\d+)"', page).group(1)
        form = {"csrf": token, "disposition": "no_answer", "recorded": recorded}
        first = client.post(f"/cases/{case_id}/record", data=form, follow_redirects=False)
        again = client.post(f"/cases/{case_id}/record", data=form, follow_redirects=False)
        assert first.status_code == again.status_code == 303  # both carry on to the next case
        shown = client.get(again.headers["location"]).text
        assert "Cet appel était déjà enregistré" in shown
    assert attempts_of(app.engine, case_id) == 1


def test_the_api_refuses_a_repeated_record_of_the_same_call(console):
    app, web = console
    with TestClient(web) as client:
        headers, claimed = claimed_by_api(client, "bruno")
        body = {"disposition": "busy", "recorded": claimed["recorded"]}
        url = f"/api/cases/{claimed['case_id']}/record"
        assert client.post(url, headers=headers, json=body).status_code == 200
        repeat = client.post(url, headers=headers, json=body)
        assert repeat.status_code == 409 and "saved already" in repeat.json()["detail"]
    assert attempts_of(app.engine, claimed["case_id"]) == 1


def test_a_case_of_a_closed_recall_is_worked_no_more(console, tmp_path):
    from recall.reporting.closing import close_recall

    app, web = console
    case_id = cases_of(app.engine, "A1")[0].id
    close_recall(engine=app.engine, recall_id=RECALL, out_dir=tmp_path / "final",
                 fonts_dir=app.fonts_dir, clock=app.clock)  # fmt: skip
    with TestClient(web) as client:
        token = log_in(client, "alice")
        opened = client.get(f"/cases/{case_id}")
        assert opened.status_code == 409 and "closed" in opened.text
        recorded = client.post(f"/cases/{case_id}/record", data={
            "csrf": token, "disposition": "reached", "outcome": "refund"})  # fmt: skip
        assert recorded.status_code == 409
    with Session(app.engine) as session:
        case = session.get(Case, case_id)
        assert (case.call, case.status) == (False, "identified")
