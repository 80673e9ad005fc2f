"""A console over a real database: agents with callers, users of every role, a logged-in client."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from recall.accounts.users import add_user
from recall.bootstrap import App
from recall.calling.assignment import assign_call_list
from recall.db.engine import make_engine, upgrade
from recall.db.models import User
from recall.settings import Settings
from recall.web.app import create_app
from tests.support import agent, callers, empty_database, launch, seed

MONDAY_10H_PARIS = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"
RECALL = "R-2026-014"


def build_console(database_url: str, data_dir: Path, *, customers: int = 6) -> tuple[App, FastAPI]:
    """Two agents (A1, A2) sharing `customers` callers, a specialist, and one user per role."""
    settings = Settings(data_dir=data_dir, database_url=database_url, now=MONDAY_10H_PARIS)
    app = App(settings, make_engine(database_url))
    upgrade(app.engine)
    seed(
        app.engine, *callers(customers), agent("A1", phone="+33612345001"),
        agent("A2", phone="+33612345002"), agent("SP", skills="health,escalation", capacity=1,
                                                 active=True),
    )  # fmt: skip
    launch(app.engine, clock=lambda: MONDAY_10H_PARIS)
    assign_call_list(
        engine=app.engine, recall_id=RECALL, home_language="fr", clock=lambda: MONDAY_10H_PARIS
    )
    add_user(engine=app.engine, username="alice", password=PASSWORD, role="agent", agent_id="A1")
    with app.engine.begin() as connection:  # the others with alice's hash: one scrypt, not five
        hashed = connection.scalar(select(User.password_hash).where(User.username == "alice"))
        connection.execute(insert(User), [
            {"username": username, "password_hash": hashed, "role": role, "agent_id": agent_id,
             "active": True, "created_at": MONDAY_10H_PARIS}
            for username, role, agent_id in (
                ("bruno", "agent", "A2"), ("sam", "agent", "SP"), ("lea", "lead", None),
                ("rita", "reporting", None),
            )
        ])  # fmt: skip
    return app, create_app(app)


@contextmanager
def module_database(request, data_dir: Path) -> Iterator[str]:
    """The URL of a database for a module-scoped fixture parametrised sqlite/postgresql: a
    file in `data_dir`, or the test server's database, emptied once the module is done."""
    if request.param == "sqlite":
        yield f"sqlite:///{data_dir / 'recall.db'}"
        return
    url = request.getfixturevalue("postgres_server_url")
    yield url
    empty_database(url)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; the session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    answer = client.post(
        "/login",
        data={"username": username, "password": password, "csrf": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client.get("/api/me").json()["csrf"]
