"""The engine's pool is as large as a server worker's threads: a burst opens each connection
once, RECALL_DB_POOL sizes it, and no request holds a connection while it takes another."""

import threading
import time
from collections import Counter
from collections.abc import Callable

import anyio
import pytest
from anyio.to_thread import current_default_thread_limiter
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.pool import NullPool

from recall.bootstrap import build_app
from recall.db.engine import IDLE_CHECK_S, SERVER_THREADS, make_engine
from recall.settings import Settings
from tests.console_support import build_console, csrf_of, log_in


def test_the_pool_is_as_large_as_the_threads_uvicorn_runs_requests_on():
    async def threads() -> float:
        return current_default_thread_limiter().total_tokens

    assert anyio.run(threads) == SERVER_THREADS


def opened_during(engine: Engine, work: Callable[[], None]) -> int:
    """How many connections to the database `work` made the engine open."""
    opened = Counter[str]()
    listener = lambda *_: opened.update(["connection"])  # noqa: E731
    event.listen(engine, "connect", listener)
    try:
        work()
    finally:
        event.remove(engine, "connect", listener)
    return opened["connection"]


def burst(engine: Engine, threads: int) -> None:
    """`threads` threads each holding a connection at the same moment."""
    together = threading.Barrier(threads, timeout=20)
    failures: list[BaseException] = []

    def hold() -> None:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                together.wait()
        except BaseException as exc:  # a thread's failure is the test's
            failures.append(exc)

    running = [threading.Thread(target=hold) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    assert not failures, failures[0]


def test_bursts_of_a_workers_threads_open_each_connection_once(database_url):
    engine = make_engine(database_url)

    def three_bursts() -> None:
        for _ in range(3):
            burst(engine, SERVER_THREADS)

    try:
        assert engine.pool.size() == SERVER_THREADS  # type: ignore[attr-defined]
        opened = opened_during(engine, three_bursts)
    finally:
        engine.dispose()
    assert opened == SERVER_THREADS  # none closed between bursts, none opened again


def test_RECALL_DB_POOL_sizes_the_console_engine(database_url, tmp_path):
    env = {"RECALL_DATABASE_URL": database_url, "RECALL_DATA_DIR": str(tmp_path),
           "RECALL_DB_POOL": "7"}  # fmt: skip
    app = build_app(Settings.from_env(env))
    try:
        assert app.settings.db_pool == 7
        assert app.engine.pool.size() == 7  # type: ignore[attr-defined]
        kept = app.engine.pool.checkedin()  # type: ignore[attr-defined]  # the migration check's
        opened = opened_during(app.engine, lambda: burst(app.engine, 7))
    finally:
        app.engine.dispose()
    assert kept + opened == 7


@pytest.mark.parametrize("given", ["0", "-3", "forty", "2.5"])
def test_RECALL_DB_POOL_is_a_whole_number_above_zero(given, tmp_path):
    with pytest.raises(ValueError, match="RECALL_DB_POOL"):
        Settings.from_env({"RECALL_DATA_DIR": str(tmp_path), "RECALL_DB_POOL": given})


def test_without_RECALL_DB_POOL_the_pool_has_a_workers_threads(tmp_path):
    settings = Settings.from_env({"RECALL_DATA_DIR": str(tmp_path)})
    assert settings.db_pool == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'recall.db'}", pool=settings.db_pool)
    assert engine.pool.size() == SERVER_THREADS  # type: ignore[attr-defined]
    engine.dispose()


class HeldByThread:
    """The connections each thread holds, and the most any thread held at once."""

    def __init__(self, engine: Engine) -> None:
        self.held: Counter[int] = Counter()
        self.most = 0
        self.checkouts = 0
        event.listen(engine, "checkout", self.taken)
        event.listen(engine, "checkin", self.given_back)

    def taken(self, *_: object) -> None:
        me = threading.get_ident()
        self.held[me] += 1
        self.checkouts += 1
        self.most = max(self.most, self.held[me])

    def given_back(self, *_: object) -> None:
        self.held[threading.get_ident()] -= 1


def test_no_page_of_an_agents_day_holds_a_connection_while_taking_another(database_url, tmp_path):
    """A thread holding one connection and waiting for a second, while every other thread does
    the same, waits for ever once the pool is as large as the threads: so none may."""
    app, web = build_console(database_url, tmp_path)
    held = HeldByThread(app.engine)
    try:
        with TestClient(web) as client:
            token = log_in(client, "alice")
            client.get("/my/list")
            opened = client.post("/my/next", data={"csrf": token}, follow_redirects=False)
            case = opened.headers["location"]
            page = client.get(case).text
            client.post(f"{case}/call", data={"csrf": token})
            recorded = {"csrf": csrf_of(page), "disposition": "no_answer"}
            again = client.post(f"{case}/record", data=recorded, follow_redirects=False)
            assert again.status_code == 303, again.text
            case = again.headers["location"]
            client.get(case)
            done = {"csrf": token, "disposition": "reached", "outcome": "refund"}
            assert client.post(f"{case}/record", data=done, follow_redirects=False).is_redirect
            client.post("/hotline", data={"csrf": token, "q": "Durand"})
            client.get("/me")
    finally:
        app.engine.dispose()
    assert held.checkouts > 20  # the pages did reach the database
    assert held.most == 1


def test_a_connection_the_database_ended_while_idle_is_replaced_before_use(postgres_server_url):
    engine = make_engine(postgres_server_url)
    admin = create_engine(postgres_server_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            first = connection.scalar(text("SELECT pg_backend_pid()"))
        with admin.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        time.sleep(IDLE_CHECK_S + 0.2)
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT pg_backend_pid()")) != first
    finally:
        engine.dispose()
        admin.dispose()


def test_a_connection_just_used_is_handed_out_without_a_ping(postgres_server_url):
    engine = make_engine(postgres_server_url)
    pings = Counter[str]()
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pings.update(["ping"])
        return ping(dbapi_connection)

    engine.dialect.do_ping = counted  # type: ignore[method-assign]
    try:
        for _ in range(20):
            with engine.begin() as connection:
                connection.execute(text("SELECT 1"))
        assert pings["ping"] == 0
        time.sleep(IDLE_CHECK_S + 0.2)
        with engine.begin() as connection:
            connection.execute(text("SELECT 1"))
        assert pings["ping"] == 1
    finally:
        engine.dispose()
