"""Console sessions live server side: the cookie is an opaque token, and logging out,
deactivating the user or their agent, idling or a long day ends the session at once."""

import dataclasses
import datetime as dt

import pytest
from fastapi.testclient import TestClient

from recall.services.agents import set_agent_active
from recall.services.users import set_user_active
from recall.web.app import create_app
from tests.console_support import MONDAY_10H_PARIS, build_console, log_in

COOKIE = "recall_session"


@pytest.fixture
def console(database_url, tmp_path):
    app, web = build_console(database_url, tmp_path)
    yield app, web
    app.engine.dispose()


def at(app, hours: float):
    """The same console, its clock `hours` after the first's."""
    later = MONDAY_10H_PARIS + dt.timedelta(hours=hours)
    settings = dataclasses.replace(app.settings, now=later)
    return create_app(dataclasses.replace(app, settings=settings))


def logged_in(web, cookie: str) -> bool:
    with TestClient(web) as client:
        client.cookies.set(COOKIE, cookie)
        return client.get("/my/list", follow_redirects=False).status_code == 200


def test_the_cookie_is_an_opaque_token_renewed_at_login(console):
    _, web = console
    with TestClient(web) as client:
        client.get("/login")
        before = client.cookies[COOKIE]
        log_in(client, "alice")
        after = client.cookies[COOKIE]
    assert before != after  # a session fixed before the login is worth nothing after it
    assert len(after) == 43 and "alice" not in after and "{" not in after and "." not in after


def test_a_cookie_copied_before_logout_is_refused_after_it(console):
    _, web = console
    with TestClient(web) as client:
        token = log_in(client, "alice")
        copied = client.cookies[COOKIE]
        assert logged_in(web, copied)
        client.post("/logout", data={"csrf": token})
    assert not logged_in(web, copied)


@pytest.mark.parametrize("who", ["user", "agent"])
def test_deactivating_the_user_or_their_agent_ends_their_sessions_at_once(console, who):
    app, web = console
    with TestClient(web) as client:
        log_in(client, "alice")
        cookie = client.cookies[COOKIE]
    assert logged_in(web, cookie)
    if who == "user":
        set_user_active(engine=app.engine, username="alice", active=False)
    else:
        set_agent_active(engine=app.engine, agent_id="A1", active=False)
    assert not logged_in(web, cookie)  # the next request, not five seconds later


def test_a_session_ends_after_two_idle_hours_and_twelve_in_all(console):
    app, web = console
    with TestClient(web) as client:
        log_in(client, "alice")
        cookie = client.cookies[COOKIE]
    assert logged_in(at(app, 1.9), cookie)
    assert not logged_in(at(app, 1.9 + 2.1), cookie)  # idle for 2.1 h
    with TestClient(web) as client:
        log_in(client, "bruno")
        busy = client.cookies[COOKIE]
    for hour in range(1, 12):  # a request every hour keeps it alive all day...
        assert logged_in(at(app, hour), busy), hour
    assert not logged_in(at(app, 12.5), busy)  # ...for twelve hours at most
