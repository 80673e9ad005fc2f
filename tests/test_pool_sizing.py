"""`recall serve` with more workers than PostgreSQL has connections for: each worker's pool is
made to fit, or the server refuses to start, rather than failing under load with "too many
clients"."""

import pytest

from recall.db.engine import SERVER_THREADS, SPARE, make_engine
from recall.db.pool_sizing import (
    MIN_POOL,
    TooManyWorkers,
    available_connections,
    fitting_pool,
)
from tests.support import command_line


def test_every_workers_pool_fits_in_the_connections_left():
    assert fitting_pool(92, 2, 0) == SERVER_THREADS  # two workers of 40 (and 4 spare) fit
    assert fitting_pool(92, 3, 0) == 92 // 3 - SPARE  # three: 26 each
    assert fitting_pool(92, 3, 10) == 10  # a pool asked for (RECALL_DB_POOL) that fits
    assert 3 * (fitting_pool(92, 3, 0) + SPARE) <= 92
    with pytest.raises(TooManyWorkers, match="run fewer workers"):
        fitting_pool(92, 92 // (MIN_POOL + SPARE) + 1, 0)


def test_the_connections_left_are_read_from_postgresql(database_url):
    engine = make_engine(database_url)
    left = available_connections(engine)
    if engine.dialect.name == "sqlite":
        assert left is None  # no server, no limit
        return
    with engine.connect() as connection:
        most = int(connection.exec_driver_sql("SHOW max_connections").scalar())
    assert 0 < left < most
    engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_serve_refuses_more_workers_than_postgresql_can_hold(database_url, tmp_path, monkeypatch):
    run = command_line(monkeypatch, database_url, tmp_path, "2026-11-23T10:00+01:00")
    refused = run("serve", "--workers", "60", "--port", "1")
    assert refused.exit_code == 2
    assert "run fewer workers" in refused.output and "max_connections" in refused.output
