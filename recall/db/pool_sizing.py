"""How many connections each server worker may keep: all of them must fit under PostgreSQL's
`max_connections`, or the last workers' requests fail with "too many clients" under load."""

from __future__ import annotations

from sqlalchemy import Engine, text

from recall.db.engine import SERVER_THREADS, SPARE
from recall.domain.errors import Refused

HEADROOM = 5  # connections left for the commands, the flow engine and an operator's psql
MIN_POOL = 5  # fewer, and a worker's threads mostly wait for a connection


class TooManyWorkers(Refused):
    """The database can't hold even a small pool for each worker."""


def fitting_pool(available: int, workers: int, asked: int) -> int:
    """The pool each of `workers` processes keeps (beyond it, SPARE more at most): `asked` (0:
    SERVER_THREADS) when every worker's fits in the `available` connections, else the most
    that fits."""
    wanted = asked or SERVER_THREADS
    fits = available // max(workers, 1) - SPARE
    if fits >= wanted:
        return wanted
    if fits < MIN_POOL:
        raise TooManyWorkers(
            f"the database accepts {available} more connections: too few for {workers} "
            f"workers of {MIN_POOL + SPARE} each; run fewer workers (--workers) or raise "
            "PostgreSQL's max_connections"
        )
    return fits


def available_connections(engine: Engine) -> int | None:
    """The connections a server may open on the engine's database (None: no limit known, as
    on SQLite): max_connections, less the superuser's reserve, the connections open now and
    HEADROOM."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        most = int(connection.scalar(text("SHOW max_connections")) or 0)
        reserved = int(connection.scalar(text("SHOW superuser_reserved_connections")) or 0)
        open_now = int(connection.scalar(text("SELECT count(*) FROM pg_stat_activity")) or 0)
    return most - reserved - (open_now - 1) - HEADROOM  # this check's own is not counted
