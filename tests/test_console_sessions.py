"""Console sessions live server side: the cookie is an opaque token, and logging out,
deactivating the user or their agent, a new password, idling or a long day ends the session at
once; a request that changes nothing writes nothing."""

import base64
import binascii
import dataclasses
import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from typer.testing import CliRunner

from recall.accounts.sessions import Loaded, needs_saving
from recall.accounts.users import set_password, set_user_active
from recall.calling.agents import set_agent_active
from recall.cli import cli
from recall.db.models import ConsoleSession
from recall.web.app import create_app
from tests.console_support import MONDAY_10H_PARIS, PASSWORD, RECALL, log_in

COOKIE = "recall_session"


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


@pytest.fixture
def recall_cli(console, monkeypatch):
    app, _ = console
    monkeypatch.setenv("RECALL_DATABASE_URL", app.settings.database_url)
    monkeypatch.setenv("RECALL_DATA_DIR", str(app.settings.data_dir))
    runner = CliRunner()

    def invoke(*args: str) -> str:
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    return invoke


@pytest.mark.parametrize("who", ["user", "agent"])
def test_deactivating_the_user_or_their_agent_ends_their_sessions_at_once(console, who):
    app, web = console
    cookie = cookie_of(web, "alice")
    if who == "user":
        set_user_active(engine=app.engine, username="alice", active=False)
    else:
        set_agent_active(engine=app.engine, agent_id="A1", active=False)
    assert not logged_in(web, cookie)  # the next request, not five seconds later


@pytest.mark.parametrize("command", [("agents", "deactivate", "A1"),
                                     ("users", "deactivate", "alice")])  # fmt: skip
def test_deactivating_from_the_command_line_ends_the_sessions(console, recall_cli, command):
    _, web = console
    cookie, other = cookie_of(web, "alice"), cookie_of(web, "bruno")
    recall_cli(*command)
    assert not logged_in(web, cookie)
    assert logged_in(web, other)  # only the deactivated one's


def test_a_lead_deactivating_an_agent_in_the_console_ends_that_agents_sessions(console):
    _, web = console
    cookie = cookie_of(web, "bruno")
    with TestClient(web) as lead:
        token = log_in(lead, "lea")
        done = lead.post(f"/recalls/{RECALL}/agents/A2/deactivate", data={"csrf": token})
        assert done.status_code == 200
    assert not logged_in(web, cookie)


def test_an_agent_already_inactive_is_logged_out_when_deactivated_again(console):
    app, web = console
    set_agent_active(engine=app.engine, agent_id="A1", active=False)
    cookie = cookie_of(web, "alice")  # the user is active, so they can log in
    set_agent_active(engine=app.engine, agent_id="A1", active=False)
    assert not logged_in(web, cookie)


def test_a_new_password_ends_every_session_of_that_user(console, recall_cli, monkeypatch):
    app, web = console
    first, second, other = cookie_of(web, "alice"), cookie_of(web, "alice"), cookie_of(web, "bruno")
    set_password(engine=app.engine, username="alice", password="a brand new passphrase")
    assert not logged_in(web, first) and not logged_in(web, second)
    assert logged_in(web, other)
    again = cookie_of(web, "bruno")
    monkeypatch.setenv("NEW_PASSWORD", "another fresh passphrase")
    assert "sessions ended" in recall_cli("users", "password", "bruno", "--password-env",
                                          "NEW_PASSWORD")  # fmt: skip
    assert not logged_in(web, other) and not logged_in(web, again)
    with TestClient(web) as client:  # the old password is refused, the new one works
        assert client.get("/api/me").status_code == 401
        with pytest.raises(AssertionError):
            log_in(client, "bruno", PASSWORD)
        log_in(client, "bruno", "another fresh passphrase")


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


def test_a_page_refreshing_itself_neither_keeps_the_session_alive_nor_eats_a_message(console):
    app, web = console
    cookie = cookie_of(web, "alice")
    for minutes in (30, 60, 90, 110):  # an open page refreshing itself, nobody at the desk
        with TestClient(at(app, minutes / 60)) as client:
            client.cookies.set(COOKIE, cookie)
            shown = client.get("/my/list", headers={"X-Refresh": "1"}, follow_redirects=False)
            assert shown.status_code == 200
    assert not logged_in(at(app, 2.1), cookie)  # idle for 2.1 h all the same
    with TestClient(web) as client:
        token = log_in(client, "bruno")
        client.post("/language", data={"csrf": token, "lang": "en"}, follow_redirects=False)
        opened = client.post("/my/next", data={"csrf": token}, follow_redirects=False)
        put_back = opened.headers["location"] + "/release"
        client.post(put_back, data={"csrf": token}, follow_redirects=False)  # a message waits
        refreshed = client.get("/my/list", headers={"X-Refresh": "1"}).text
        assert 'role="status"' not in refreshed
        assert 'role="status"' in client.get("/my/list").text  # shown to the user, once


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
