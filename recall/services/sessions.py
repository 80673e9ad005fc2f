"""Console sessions kept in the database: opened, read, saved and ended by their token.

The browser holds a random token; the table holds its SHA-256, the user and the session's
small data (CSRF token, flash messages, calls being dialled). A session ends after
IDLE_FOR without a request or ABSOLUTE_FOR after it began, at logout, and for every session of
a user the moment that user, or the agent they work as, is deactivated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from recall.db.models import ConsoleSession, User

IDLE_FOR = dt.timedelta(hours=2)
ABSOLUTE_FOR = dt.timedelta(hours=12)
TOUCH_EVERY = dt.timedelta(minutes=1)  # seen_at is rewritten at most this often


@dataclass(frozen=True)
class Loaded:
    token: str
    username: str | None
    data: dict[str, Any]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load_session(*, engine: Engine, token: str, now: dt.datetime) -> Loaded | None:
    """The live session of this token, None when unknown, ended or expired (then removed)."""
    key = _hash(token)
    with Session(engine) as session, session.begin():
        row = session.get(ConsoleSession, key)
        if row is None:
            return None
        if now - row.seen_at > IDLE_FOR or now - row.created_at > ABSOLUTE_FOR:
            session.delete(row)
            return None
        if now - row.seen_at > TOUCH_EVERY:
            row.seen_at = now
        return Loaded(token, row.username, json.loads(row.data))


def save_session(
    *, engine: Engine, loaded: Loaded | None, data: dict[str, Any], now: dt.datetime
) -> str | None:
    """Write the session's data back; the token the browser must now hold ("" to forget it,
    None when it keeps the one it has). A new user in the session (a login) gets a new token."""
    user = data.get("user")
    with Session(engine) as session, session.begin():
        if loaded is not None and (not data or user != loaded.username):
            session.execute(
                delete(ConsoleSession).where(ConsoleSession.token_hash == _hash(loaded.token))
            )
            loaded = None if data else loaded
            if not data:
                return ""
        if loaded is not None:
            if data != loaded.data:
                session.execute(
                    update(ConsoleSession)
                    .where(ConsoleSession.token_hash == _hash(loaded.token))
                    .values(data=json.dumps(data))
                )
            return None
        if not data:
            return None
        token = secrets.token_urlsafe(32)
        session.add(ConsoleSession(token_hash=_hash(token), username=user,
                                   data=json.dumps(data), created_at=now, seen_at=now))  # fmt: skip
        session.execute(delete(ConsoleSession).where(ConsoleSession.seen_at < now - IDLE_FOR))
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
