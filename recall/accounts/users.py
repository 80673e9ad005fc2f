"""Console accounts: creating users, checking passwords, slowing password guessers down.

Passwords are kept as scrypt hashes (memory-hard, in the standard library) with a salt of
their own; a login for an unknown name costs the same as one for a known name.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recall.accounts.sessions import end_sessions
from recall.clock import Clock, utc_now
from recall.db.models import Agent, LoginThrottle, User
from recall.domain.access import (
    ADDRESS_POLICY,
    MIN_PASSWORD,
    USER_POLICY,
    Failures,
    Role,
    ThrottlePolicy,
    after_failure,
    locked,
)
from recall.domain.errors import NotFound, Refused
from recall.domain.zones import known_zone
from recall.i18n import LANGUAGES

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_DUMMY_HASH = ""  # computed on first use: the cost of checking a password nobody has


class UserError(Refused):
    """A user that can't be created as asked; nothing was written."""


class LoginFailed(Refused):
    """Wrong name or password (which one is not said)."""


class LoginThrottled(Refused):
    """Too many failed logins: refused until `until`, whatever the password."""

    def __init__(self, until: dt.datetime) -> None:
        super().__init__(f"too many failed logins: try again after {until:%H:%M} UTC")
        self.until = until


@dataclass(frozen=True)
class UserView:
    username: str
    role: Role
    agent_id: str | None
    active: bool
    language: str | None = None  # the console's language they chose; None: the home one
    time_zone: str | None = None  # the clock they work on; None: the home one


def hash_password(password: str) -> str:
    """An scrypt hash with its salt and parameters, as one string."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    parts = (_SCRYPT["n"], _SCRYPT["r"], _SCRYPT["p"], _b64(salt), _b64(digest))
    return "scrypt$" + "$".join(str(part) for part in parts)


def check_password(password: str, stored: str) -> bool:
    """Whether the password matches the stored hash (in constant time)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        found = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(found, _unb64(digest))


def add_user(
    *,
    engine: Engine,
    username: str,
    password: str,
    role: Role | str,
    agent_id: str | None = None,
    clock: Clock = utc_now,
) -> UserView:
    """Create a console user; an agent's user is linked to their agent id."""
    role = _role(role)
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise UserError("username: 1 to 64 characters, no spaces")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password: at least {MIN_PASSWORD} characters")
    if (role == Role.AGENT) != bool(agent_id):
        raise UserError("--agent is needed for an agent, and only for an agent")
    try:
        with Session(engine) as session, session.begin():
            if agent_id and session.get(Agent, agent_id) is None:
                raise UserError(f"no agent {agent_id!r}: import the agents file first")
            session.add(
                User(
                    username=username, password_hash=hash_password(password), role=role.value,
                    agent_id=agent_id, active=True, created_at=clock(),
                )
            )  # fmt: skip
    except IntegrityError:
        raise UserError(f"a user {username!r} already exists") from None
    return UserView(username, role, agent_id, True)


def get_user(*, engine: Engine, username: str) -> UserView | None:
    """The active user of that name, or None."""
    with Session(engine) as session:
        user = session.get(User, username)
        return _view(user) if user is not None and user.active else None


def list_users(*, engine: Engine) -> list[UserView]:
    """Every user, by name."""
    with Session(engine) as session:
        return [_view(u) for u in session.scalars(select(User).order_by(User.username))]


def set_user_active(*, engine: Engine, username: str, active: bool) -> UserView:
    """Let a user in again, or keep them out: deactivated, every session of theirs ends."""
    with Session(engine) as session, session.begin():
        user = session.get(User, username)
        if user is None:
            raise NotFound(f"no user {username!r}")
        user.active = active
        if not active:
            end_sessions(session, [username])
        return _view(user)


def set_password(*, engine: Engine, username: str, password: str) -> UserView:
    """Give a user a new password; every session of theirs ends (a thief's copy with them)."""
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password: at least {MIN_PASSWORD} characters")
    with Session(engine) as session, session.begin():
        user = session.get(User, username)
        if user is None:
            raise NotFound(f"no user {username!r}")
        user.password_hash = hash_password(password)
        end_sessions(session, [username])
        return _view(user)


def authenticate(
    *, engine: Engine, username: str, password: str, client: str, clock: Clock = utc_now
) -> UserView:
    """The user whose password this is; LoginThrottled while the name or address is locked."""
    try:
        return _authenticate(engine, username, password, client, clock())
    except IntegrityError:  # a concurrent failure counted the same key first: count again
        return _authenticate(engine, username, password, client, clock())


def _authenticate(
    engine: Engine, username: str, password: str, client: str, now: dt.datetime
) -> UserView:
    keys = {f"user:{username.strip().lower()}": USER_POLICY, f"address:{client}": ADDRESS_POLICY}
    with Session(engine) as session, session.begin():
        records = {key: session.get(LoginThrottle, key, with_for_update=True) for key in keys}
        lock_ends = [t for r in records.values() if (t := locked(_failures(r), now))]
        if lock_ends:
            raise LoginThrottled(max(lock_ends))
        user = session.get(User, username.strip())
        stored = user.password_hash if user is not None else _dummy_hash()
        if check_password(password, stored) and user is not None and user.active:
            user_key = next(iter(keys))
            if records[user_key] is not None:
                session.delete(records[user_key])
            return _view(user)
        for key, policy in keys.items():
            _count_failure(session, key, records[key], policy, now)
    raise LoginFailed("wrong username or password")


def _count_failure(
    session: Session,
    key: str,
    record: LoginThrottle | None,
    policy: ThrottlePolicy,
    now: dt.datetime,
) -> None:
    failures = after_failure(_failures(record), policy, now)
    if record is None:
        record = LoginThrottle(key=key)
        session.add(record)
    record.failures, record.first_failure_at = failures.count, failures.first_at
    record.locked_until = failures.locked_until


def _failures(record: LoginThrottle | None) -> Failures | None:
    if record is None:
        return None
    return Failures(record.failures, record.first_failure_at, record.locked_until)


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise UserError(
            f"role: {role!r} is not one of {', '.join(r.value for r in Role)}"
        ) from None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if not _DUMMY_HASH:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH


def set_preferences(
    *, engine: Engine, username: str, language: str | None = None, time_zone: str | None = None
) -> UserView:
    """Keep a user's console language and clock (None leaves one as it is)."""
    if language is not None and language not in LANGUAGES:
        raise UserError(f"language: one of {', '.join(LANGUAGES)}")
    if time_zone is not None and not known_zone(time_zone):
        raise UserError(f"time zone: {time_zone!r} is not one like Europe/Paris")
    with Session(engine) as session, session.begin():
        user = session.get(User, username)
        if user is None:
            raise NotFound(f"no user {username!r}")
        user.language = language or user.language
        user.time_zone = time_zone or user.time_zone
        return _view(user)


def _view(user: User) -> UserView:
    return UserView(user.username, Role(user.role), user.agent_id, user.active, user.language,
                    user.time_zone)  # fmt: skip


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode())
