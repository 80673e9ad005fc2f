"""Console sessions kept in the database: opened, read, saved and ended by their token.

The browser holds a random token; the table holds its SHA-256, the user and the session's
small data (CSRF token, flash messages, calls being dialled). A session ends after
IDLE_FOR without a request or ABSOLUTE_FOR after it began, at logout, and for every session of
a user the moment that user, the agent they work as, or their password changes.

A request costs one primary-key read; a write only when the data changed, the user changed
(login, logout) or TOUCH_EVERY has passed since the session was last marked seen.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from recall.db.models import ConsoleSession, User

IDLE_FOR = dt.timedelta(hours=2)
ABSOLUTE_FOR = dt.timedelta(hours=12)
TOUCH_EVERY = dt.timedelta(minutes=1)  # seen_at is rewritten at most this often


@dataclass(frozen=True)
class SessionUser:
    """The user row read with the session, in the same query."""

    role: str
    agent_id: str | None
    language: str | None = None
    time_zone: str | None = None


@dataclass(frozen=True)
class Loaded:
    """A live session as read at the start of a request."""

    key: str  # the token's SHA-256
    username: str | None
    raw: str  # the data as stored: a change is seen even deep inside it
    seen_at: dt.datetime
    user: SessionUser | None  # the session's user when they exist and are active

    @property
    def data(self) -> dict[str, Any]:
        """A fresh copy of the data, for the request to change at will."""
        found = json.loads(self.raw)
        return found if isinstance(found, dict) else {}


def token_key(token: str) -> str:
    """What the table keeps of a token: a stolen table yields no usable cookie."""
    return hashlib.sha256(token.encode()).hexdigest()


def expired(*, created_at: dt.datetime, seen_at: dt.datetime, now: dt.datetime) -> bool:
    return now - seen_at > IDLE_FOR or now - created_at > ABSOLUTE_FOR


_LOAD = (
    select(ConsoleSession.username, ConsoleSession.data, ConsoleSession.created_at,
           ConsoleSession.seen_at, User.role, User.agent_id, User.active, User.language,
           User.time_zone)
    .outerjoin(User, User.username == ConsoleSession.username)
    .where(ConsoleSession.token_hash == bindparam("key"))
)  # fmt: skip
_SAVE = (
    update(ConsoleSession)
    .where(ConsoleSession.token_hash == bindparam("key"))
    .values(data=bindparam("raw"), seen_at=bindparam("now"))
    .execution_options(synchronize_session=False)
)


def load_session(*, engine: Engine, token: str, now: dt.datetime) -> Loaded | None:
    """The live session of this token and its active user, in one read; None when unknown,
    ended or expired. Never writes (an expired row is swept when a new session is opened)."""
    key = token_key(token)
    # One statement, no transaction around it: no BEGIN and ROLLBACK sent on each request.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        row = connection.execute(_LOAD, {"key": key}).first()
    if row is None or expired(created_at=row.created_at, seen_at=row.seen_at, now=now):
        return None
    user = SessionUser(row.role, row.agent_id, row.language, row.time_zone) if row.active else None
    return Loaded(key, row.username, row.data, row.seen_at, user)


def needs_saving(
    *, loaded: Loaded | None, data: dict[str, Any], now: dt.datetime, touch: bool = True
) -> bool:
    """Whether the request's session must be written: decided without the database, so a
    request that changed nothing costs no write and no trip to a worker thread. A request the
    user did not make (a page refreshing its figures: `touch` False) never keeps it alive."""
    if loaded is None:
        return bool(data)
    if not data or data.get("user") != loaded.username:
        return True
    stale = touch and now - loaded.seen_at >= TOUCH_EVERY
    return json.dumps(data) != loaded.raw or stale


def save_session(
    *, engine: Engine, loaded: Loaded | None, data: dict[str, Any], now: dt.datetime
) -> str | None:
    """Write the session back; the token the browser must now hold ("" to forget it, None when
    it keeps the one it has). A new user in the session (a login) gets a new token."""
    with Session(engine) as session, session.begin():
        if loaded is not None and data and data.get("user") == loaded.username:
            session.connection().execute(
                _SAVE, {"key": loaded.key, "raw": json.dumps(data), "now": now}
            )
            return None
        if loaded is not None:
            session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == loaded.key))
        if not data:
            return "" if loaded is not None else None
        token = secrets.token_urlsafe(32)
        session.execute(
            delete(ConsoleSession).where(
                or_(ConsoleSession.seen_at < now - IDLE_FOR,
                    ConsoleSession.created_at < now - ABSOLUTE_FOR)
            )
        )  # fmt: skip
        session.add(ConsoleSession(token_hash=token_key(token), username=data.get("user"),
                                   data=json.dumps(data), created_at=now, seen_at=now))  # fmt: skip
        return token


def end_sessions(session: Session, usernames: Iterable[str]) -> None:
    """End every session of these users, in the caller's transaction."""
    names = list(usernames)
    if names:
        session.execute(delete(ConsoleSession).where(ConsoleSession.username.in_(names)))


def users_of_agents(session: Session, agent_ids: Iterable[str]) -> list[str]:
    """The console users who work as these agents."""
    ids = list(agent_ids)
    if not ids:
        return []
    return list(session.scalars(select(User.username).where(User.agent_id.in_(ids))))
