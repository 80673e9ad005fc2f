"""Every database test runs on SQLite and on PostgreSQL, each in a database of its own."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from recall import flow_engine
from recall.db.engine import make_engine, upgrade
from tests.console_support import build_console
from tests.support import empty_database

POSTGRES_URL = os.environ.get(
    "RECALL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("RECALL_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A database created for this test session on the PostgreSQL server, dropped after."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"recall_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required but unreachable at {POSTGRES_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """An SQLite database brought to the newest migration once, for each test to copy."""
    path = tmp_path_factory.mktemp("migrated") / "recall.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection closed: the write-ahead log is in the file
    assert not path.with_name("recall.db-wal").exists()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    """A freshly migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "recall.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_server_url")
    yield url
    empty_database(url)


@pytest.fixture
def engine(database_url) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def console(database_url, tmp_path):
    """The console over a small recall on `database_url`: (App, ASGI app); see build_console."""
    app, web = build_console(database_url, tmp_path)
    yield app, web
    app.engine.dispose()


@pytest.fixture(scope="session")
def flow_engine_url(tmp_path_factory) -> Iterator[str]:
    """One local flow engine for the session, started and reused as `recall` does it."""
    config = flow_engine.EngineConfig(home=tmp_path_factory.mktemp("prefect"))
    url = flow_engine.connect(config)
    try:
        with flow_engine.flows_on(url):
            yield url
    finally:
        flow_engine.stop(config)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first: parallel workers then end together, none left with a long
    test while the others have nothing to do."""
    items.sort(key=_lateness)


def _lateness(item: pytest.Item) -> int:
    if item.get_closest_marker("slow"):
        return 0
    if item.get_closest_marker("flow") or "browser" in getattr(item, "fixturenames", ()):
        return 1
    return 2
