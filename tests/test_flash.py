"""The message a page shows once after a save travels in a cookie signed for the session: a
call's save and the next case's page write no session, and a message nobody's session signed is
never shown."""

import base64

from fastapi.testclient import TestClient
from sqlalchemy import event

from recall.web import flash
from tests.console_support import log_in

STATUS = 'role="status"'


def writes_to_sessions(app, run) -> list[str]:
    """The statements on console_sessions other than reads, while `run` runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "console_sessions" in statement and not statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement.split()[0].upper())

    event.listen(app.engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(app.engine, "before_cursor_execute", record)
    return seen


def test_a_saved_call_and_the_next_page_write_no_session_and_show_the_message_once(console):
    app, web = console
    with TestClient(web) as client:
        token = log_in(client, "alice")
        client.get("/my/list")  # the first page after login may still settle the session
        opened = client.post("/my/next", data={"csrf": token}, follow_redirects=False)
        case_page = opened.headers["location"]
        client.get(case_page)
        pages: list[str] = []

        def save_and_open_next() -> None:
            form = {"csrf": token, "disposition": "no_answer"}
            saved = client.post(f"{case_page}/record", data=form, follow_redirects=False)
            assert saved.status_code == 303
            assert flash.COOKIE in saved.cookies
            pages.append(client.get(saved.headers["location"]).text)
            pages.append(client.get("/my/list").text)

        assert writes_to_sessions(app, save_and_open_next) == []
    assert STATUS in pages[0]  # "...: enregistré (...)" on the next case's page
    assert STATUS not in pages[1]  # shown once


def test_a_message_not_signed_for_this_session_is_not_shown(console):
    _, web = console
    with TestClient(web) as client:
        log_in(client, "alice")
        body = base64.urlsafe_b64encode(b"Call 0800 000 000 to confirm your bank").decode()
        client.cookies.set(flash.COOKIE, f"{body}.{'0' * 32}")
        assert "0800" not in client.get("/my/list").text
    with TestClient(web) as other:  # a genuine message, signed for bruno's session
        token = log_in(other, "bruno")
        opened = other.post("/my/next", data={"csrf": token}, follow_redirects=False)
        put_back = opened.headers["location"] + "/release"
        stolen = other.post(put_back, data={"csrf": token}, follow_redirects=False)
        assert flash.COOKIE in stolen.cookies
    with TestClient(web) as client:
        log_in(client, "alice")
        client.cookies.set(flash.COOKIE, stolen.cookies[flash.COOKIE])
        assert STATUS not in client.get("/my/list").text
