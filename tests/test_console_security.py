"""The console's locks: login on every route, roles, CSRF, escaping, throttled guessing."""

import re

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recall.accounts.users import set_user_active
from recall.db.models import CallAttempt, Case
from recall.web.app import CONSOLE_ROUTERS
from tests.console_support import PASSWORD, RECALL, csrf_of, log_in

PUBLIC = {"/login", "/language"}
PARAMS = {
    "case_id": "1",
    "recall_id": RECALL,
    "agent_id": "A1",
    "key": "20261124T100000-recall",
    "ref": "R-2026-014-000001",
    "kind": "pdf",
    "batch_no": "1",
}


def every_route():
    for router in CONSOLE_ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            if route.path not in PUBLIC:
                for method in route.methods:
                    yield method, re.sub(r"{(\w+)}", lambda m: PARAMS[m.group(1)], route.path)


def calls_made(engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count(CallAttempt.id)))


def case_of(engine, agent_id) -> Case:
    with Session(engine) as session:
        return session.scalars(select(Case).where(Case.agent_id == agent_id)).first()


def test_every_route_needs_a_login(console):
    app, web = console
    routes = list(every_route())
    assert len(routes) >= 20
    with TestClient(web) as client:
        for method, path in routes:
            answer = client.request(method, path, follow_redirects=False)
            if path.startswith("/api/"):
                assert answer.status_code == 401, (method, path)
            else:
                assert answer.status_code == 303, (method, path, answer.status_code)
                assert answer.headers["location"].startswith("/login"), (method, path)
    assert calls_made(app.engine) == 0


def test_an_agent_gets_not_found_for_another_agents_case(console):
    app, web = console
    theirs = case_of(app.engine, "A2")
    with TestClient(web) as client:
        token = log_in(client, "alice")
        assert client.get(f"/cases/{theirs.id}").status_code == 404
        assert "+33" not in client.get(f"/cases/{theirs.id}").text
        recorded = client.post(
            f"/cases/{theirs.id}/record",
            data={"csrf": token, "disposition": "reached", "outcome": "refund"},
        )
        assert recorded.status_code == 404
        assert client.get(f"/hotline/cases/{theirs.id}").status_code == 404  # not searched for
        sneaky = client.post(  # a refused recording re-opens the case: still not theirs
            f"/cases/{theirs.id}/record",
            data={"csrf": token, "disposition": "shouting", "inbound": "1"},
        )
        assert sneaky.status_code == 404 and "+33" not in sneaky.text
        api = client.post(
            f"/api/cases/{theirs.id}/record",
            headers={"X-CSRF-Token": token},
            json={"disposition": "reached", "outcome": "refund"},
        )
        assert api.status_code == 404
    assert calls_made(app.engine) == 0


def test_each_role_stays_in_its_own_part_of_the_console(console):
    _, web = console
    with TestClient(web) as client:
        log_in(client, "rita")  # reporting
        assert client.get(f"/reports/{RECALL}").status_code == 200
        for path in ("/my/list", "/recalls", f"/recalls/{RECALL}", "/hotline", "/api/my/queue"):
            assert client.get(path).status_code == 403, path
    with TestClient(web) as client:
        log_in(client, "alice")  # an agent
        for path in ("/recalls", f"/reports/{RECALL}", f"/reports/{RECALL}.csv", "/api/recalls"):
            assert client.get(path).status_code == 403, path


def test_reporting_sees_figures_and_never_a_phone_number(console):
    _, web = console
    with TestClient(web) as client:
        log_in(client, "rita")
        for path in (f"/reports/{RECALL}", f"/reports/{RECALL}.csv",
                     f"/api/recalls/{RECALL}/completion"):  # fmt: skip
            answer = client.get(path)
            assert answer.status_code == 200
            assert not re.search(r"\+33\d|06 \d\d", answer.text), path


def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(console):
    app, web = console
    mine = case_of(app.engine, "A1")
    with TestClient(web) as client:
        token = log_in(client, "alice")
        client.get(f"/cases/{mine.id}")
        for data in ({"disposition": "reached"}, {"disposition": "reached", "csrf": "forged"}):
            refused = client.post(f"/cases/{mine.id}/record", data=data)
            assert refused.status_code == 403
        api = client.post("/api/my/next", headers={"X-CSRF-Token": token[:-2] + "xx"})
        assert api.status_code == 403
        assert client.post("/logout", data={}).status_code == 403
        assert client.get("/api/me").status_code == 200  # still logged in
    assert calls_made(app.engine) == 0


def test_a_script_tag_in_a_note_is_shown_as_text(console):
    app, web = console
    mine = case_of(app.engine, "A1")
    with TestClient(web) as client:
        token = log_in(client, "alice")
        client.get(f"/cases/{mine.id}")
        client.post(
            f"/cases/{mine.id}/record",
            data={"csrf": token, "disposition": "callback_requested",
                  "callback_at": "2026-11-23T16:00", "note": "<script>alert(1)</script>"},
        )  # fmt: skip
        page = client.get(f"/cases/{mine.id}").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_password_guessing_is_throttled_even_for_the_right_password(console):
    _, web = console
    with TestClient(web) as client:
        token = csrf_of(client.get("/login").text)
        statuses = [
            client.post(
                "/login", data={"username": "alice", "password": f"guess{n}", "csrf": token}
            ).status_code
            for n in range(6)
        ]
        assert statuses == [401] * 5 + [429]
        right = client.post("/login", data={"username": "alice", "password": PASSWORD,
                                            "csrf": token})  # fmt: skip
        assert right.status_code == 429 and "too many failed logins" in right.text
        assert client.get("/api/me").status_code == 401
    with TestClient(web) as client:
        log_in(client, "bruno")  # another user is not locked out


def test_the_session_cookie_is_opaque_http_only_and_same_site(console):
    _, web = console
    with TestClient(web) as client:
        token = csrf_of(client.get("/login").text)
        answer = client.post(
            "/login", data={"username": "alice", "password": PASSWORD, "csrf": token},
            follow_redirects=False,
        )  # fmt: skip
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        client.cookies.set("recall_session", client.cookies["recall_session"][:-4] + "AAAA")
        assert client.get("/api/me").status_code == 401  # a tampered cookie is no session


def test_a_deactivated_user_is_out_on_their_next_request(console):
    app, web = console
    with TestClient(web) as client:
        log_in(client, "alice")
        assert client.get("/my/list").status_code == 200
        set_user_active(engine=app.engine, username="alice", active=False)
        answer = client.get("/my/list", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
