"""Console sessions live server side: the cookie is an opaque token, and logging out,
deactivating the user or their agent, idling or a long day ends the session at once; a request
that changes nothing writes nothing."""

import base64
import binascii
import dataclasses
import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from recall.db.models import ConsoleSession
from recall.services.agents import set_agent_active
from recall.services.sessions import Loaded, needs_saving
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
    assert not readable(after)


def readable(cookie: str) -> bool:
    """Whether any part of the cookie decodes to JSON, as a signed Starlette cookie does."""
    for part in cookie.split("."):
        try:
            json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        except (binascii.Error, ValueError):
            continue
        return True
    return False


def test_a_cookie_copied_before_logout_is_refused_after_it(console):
    _, web = console
    with TestClient(web) as client:
        token = log_in(client, "alice")
        copied = client.cookies[COOKIE]
        assert logged_in(web, copied)
        client.post("/logout", data={"csrf": token})
    assert not logged_in(web, copied)


def cookie_of(web, username: str) -> str:
    with TestClient(web) as client:
        log_in(client, username)
        cookie = client.cookies[COOKIE]
    assert logged_in(web, cookie)
    return cookie


@pytest.mark.parametrize("who", ["user", "agent"])
def test_deactivating_the_user_or_their_agent_ends_their_sessions_at_once(console, who):
    app, web = console
    cookie = cookie_of(web, "alice")
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


def test_the_idle_clock_is_written_at_most_once_a_minute(console):
    app, web = console
    cookie = cookie_of(web, "alice")
    assert seen_at(app) == MONDAY_10H_PARIS
    assert logged_in(at(app, 50 / 3600), cookie)
    assert seen_at(app) == MONDAY_10H_PARIS  # 50 s later: nothing written
    assert logged_in(at(app, 70 / 3600), cookie)
    assert seen_at(app) == MONDAY_10H_PARIS + dt.timedelta(seconds=70)


def seen_at(app) -> dt.datetime:
    with app.engine.connect() as connection:
        return connection.scalar(select(ConsoleSession.seen_at).where(ConsoleSession.username
                                                                      == "alice"))  # fmt: skip


def test_a_page_that_changes_nothing_reads_its_session_once_and_writes_nothing(console):
    app, web = console
    with TestClient(web) as client:
        log_in(client, "alice")
        client.get("/my/list")  # the first page after login may still settle the session
        seen: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            if "console_sessions" in statement:
                seen.append(statement.split()[0].upper())

        event.listen(app.engine, "before_cursor_execute", record)
        try:
            assert client.get("/my/list").status_code == 200
            assert client.get("/api/me").status_code == 200
        finally:
            event.remove(app.engine, "before_cursor_execute", record)
    assert seen == ["SELECT", "SELECT"]


def test_a_change_deep_inside_the_session_is_saved():
    loaded = Loaded("k", "alice", json.dumps({"user": "alice", "dialled": {"7": 70}}),
                    MONDAY_10H_PARIS, None)  # fmt: skip
    data = loaded.data
    assert not needs_saving(loaded=loaded, data=data, now=MONDAY_10H_PARIS)
    data["dialled"].pop("7")  # as saving a call does, in place
    assert needs_saving(loaded=loaded, data=data, now=MONDAY_10H_PARIS)
