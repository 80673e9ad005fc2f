"""Building the engine and bringing its schema to the newest migration."""

from __future__ import annotations

import re
import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION = re.compile(r'^(down_)?revision\s*=\s*"?([^"\n]*)"?\s*$', re.MULTILINE)


# The most requests a server worker runs at once: uvicorn runs every sync endpoint, and the
# sessions' reads and writes, on anyio's default thread limiter of 40 threads. A request holds
# one connection at a time, so a pool as large never keeps a thread waiting for one.
# SQLAlchemy's default pool (5, and 10 more opened and closed as needed) made a burst open and
# close connections by the hundred, each a new PostgreSQL process.
SERVER_THREADS = 40
SPARE = 4  # connections beyond the pool, for threads outside the server's (e-mail senders)
IDLE_CHECK_S = 2.0  # a pooled connection unused this long is checked before it is handed out


def make_engine(url: str, *, pool: int = 0) -> Engine:
    """An engine for `url` keeping `pool` connections (0: SERVER_THREADS); SQLite gets WAL, a
    busy timeout and foreign keys."""
    parsed = make_url(url)
    sizing = {"pool_size": pool or SERVER_THREADS, "max_overflow": SPARE}
    if parsed.get_backend_name() != "sqlite":
        # The last connection returned is the next handed out: under a light load a few stay
        # busy and need no check, the others wait unused.
        engine = create_engine(url, pool_use_lifo=True, **sizing)
        _check_when_idle(engine)
        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    else:
        sizing = {}  # one connection per thread (SQLAlchemy's pool for a database in memory)
    engine = create_engine(url, connect_args={"timeout": 30}, **sizing)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _check_when_idle(engine: Engine) -> None:
    """Ping a connection that sat in the pool IDLE_CHECK_S or more before handing it out (the
    server may have restarted, a firewall dropped it); one used a moment ago goes out as is.
    A ping at every checkout (pool_pre_ping) was a sixth of the console's round trips."""

    def returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    def handed_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.pop("returned_at", None)
        if returned_at is None or time.monotonic() - returned_at < IDLE_CHECK_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # gone: the pool replaces it and tries again
            raise DisconnectionError(str(exc)) from exc

    event.listen(engine, "checkin", returned)
    event.listen(engine, "checkout", handed_out)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


@cache
def head_revision() -> str:
    """The newest migration, read from the files themselves (Alembic is not loaded for it)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for down, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            (parents if down else revisions).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def current_revision(engine: Engine) -> str | None:
    """The schema's migration, or None for a database never migrated."""
    try:
        with engine.connect() as connection:
            return connection.scalar(text("SELECT version_num FROM alembic_version"))
    except DBAPIError:  # no such table yet
        return None


def upgrade(engine: Engine) -> None:
    """Apply every pending migration; a schema already current costs one small query."""
    if current_revision(engine) == head_revision():
        return
    from alembic import command

    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
