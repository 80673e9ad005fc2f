"""What an agent's call costs the database: a bound on the statements of the case page and of a
save (which claims the next case), and no write when the page opens a case the save just
claimed. The console benchmark measures the time; these keep the work from creeping back."""

from fastapi.testclient import TestClient
from sqlalchemy import event

from tests.console_support import log_in

CASE_PAGE_MOST = 8  # session, agent, case and its list, claim, history (2), answer, others
# The session, holding and reading the case, the call written, the next claimed; SQLite inserts
# a save's events one by one and reads the customer's country apart from the claim.
SAVE_MOST = {"postgresql": 10, "sqlite": 13}


def statements(app, run) -> list[str]:
    """The statements sent while `run` runs (BEGIN, COMMIT and ROLLBACK are not statements)."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(" ".join(statement.split())[:80])

    event.listen(app.engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(app.engine, "before_cursor_execute", record)
    return sent


def test_a_call_costs_a_bounded_number_of_statements_and_the_next_page_writes_nothing(console):
    app, web = console
    with TestClient(web) as client:
        token = log_in(client, "alice")
        client.get("/my/list")
        where = client.post("/my/next", data={"csrf": token}, follow_redirects=False)
        where = where.headers["location"]
        pages: list[str] = []
        opened = statements(app, lambda: pages.append(client.get(where).text))
        form = {"csrf": token, "disposition": "reached", "outcome": "refund"}
        saves = []
        saved = statements(
            app,
            lambda: saves.append(client.post(f"{where}/record", data=form, follow_redirects=False)),
        )
        following = saves[0].headers["location"]
        assert following.startswith("/cases/") and following != where
        reopened = statements(app, lambda: client.get(following))
    assert len(opened) <= CASE_PAGE_MOST, opened
    assert len(saved) <= SAVE_MOST[app.engine.dialect.name], saved
    assert not [s for s in reopened if s.upper().startswith(("UPDATE", "INSERT", "DELETE"))]
