"""Logins, roles and CSRF for the console.

The session is kept in the database behind an opaque cookie (recall/web/sessions.py) and
holds the username and a CSRF token; a deactivated user's sessions end at once, and the user
row is read back at most every USER_TTL seconds. Every form posts the token; JSON calls that
change something send it in the X-CSRF-Token header.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Path, Request

from recall.bootstrap import App
from recall.domain.access import Role, may_enter
from recall.services.users import UserView, get_user

CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
# A row id in a URL: one both databases can hold (a larger one is a 422, not a crash).
MAX_ROW_ID = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
CaseId = RowId


class LoginRequired(Exception):
    """No session, or its user is gone: pages redirect to the login, JSON answers 401."""


class Forbidden(Exception):
    """Logged in, but not let into this part of the console."""


class BadCsrf(Exception):
    """A changing request without the session's CSRF token."""


def recall_app(request: Request) -> App:
    app: App = request.app.state.recall
    return app


AppDep = Annotated[App, Depends(recall_app)]


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = request.session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return str(token)


USER_TTL = 5.0  # seconds a user is trusted without reading them again (deactivation delay)


def _user(request: Request, app: App, username: str) -> UserView | None:
    """The user, read at most once every USER_TTL seconds per process: a query on every
    request would cost more than the rest of an agent's click."""
    known: dict[str, tuple[float, UserView | None]] = request.app.state.users
    now = time.monotonic()
    cached = known.get(username)
    if cached is None or now - cached[0] > USER_TTL:
        cached = known[username] = (now, get_user(engine=app.engine, username=username))
    return cached[1]


def current_user(request: Request, app: AppDep) -> UserView:
    username = request.session.get("user")
    user = _user(request, app, username) if username else None
    if user is None:
        request.session.pop("user", None)
        raise LoginRequired()
    request.state.user = user
    return user


UserDep = Annotated[UserView, Depends(current_user)]


def require(area: str) -> Callable[[UserView], UserView]:
    """A dependency letting in only the roles of an area of the console."""

    def allowed(user: UserDep) -> UserView:
        if not may_enter(user.role, area):
            raise Forbidden()
        return user

    return allowed


def agent_of(user: UserView) -> str:
    if user.role != Role.AGENT or not user.agent_id:
        raise Forbidden()
    return user.agent_id


AgentUser = Annotated[UserView, Depends(require("calls"))]
LeadUser = Annotated[UserView, Depends(require("lead"))]
ReportUser = Annotated[UserView, Depends(require("reports"))]


async def check_csrf(request: Request) -> None:
    """Refuse a changing request whose token is missing or is not the session's."""
    if not request.session.get("user") and request.url.path != "/login":
        raise LoginRequired()  # say "log in" rather than "bad form" to a stranger
    sent: object = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get(CSRF_FIELD)
    expected = request.session.get(CSRF_FIELD)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise BadCsrf()


Csrf = Depends(check_csrf)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
