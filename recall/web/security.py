"""Logins, roles and CSRF for the console.

The session is kept in the database behind an opaque cookie (recall/web/sessions.py) and
holds the username and a CSRF token; the user row is read with it, in the same query, so a
deactivated user or one with a new role is seen on their next request. Every form posts the
token; JSON calls that change something send it in the X-CSRF-Token header.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Request

from recall.accounts.users import UserView
from recall.bootstrap import App
from recall.domain.access import Role, may_enter
from recall.web.sessions import session_user

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


# The dependencies below do no I/O, so they are async: a sync one would take a worker thread
# each, and under load a request would queue for the thread pool once per dependency.
async def recall_app(request: Request) -> App:
    app: App = request.app.state.recall
    return app


AppDep = Annotated[App, Depends(recall_app)]


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = request.session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return str(token)


async def current_user(request: Request) -> UserView:
    """The session's user, as read with the session (no query of its own)."""
    username = request.session.get("user")
    user = session_user(request.scope)
    if not username or user is None or user.username != username:
        request.session.pop("user", None)
        raise LoginRequired()
    request.state.user = user
    return user


UserDep = Annotated[UserView, Depends(current_user)]


def require(area: str) -> Callable[[UserView], Awaitable[UserView]]:
    """A dependency letting in only the roles of an area of the console."""

    async def allowed(user: UserDep) -> UserView:
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
    if not request.session.get("user") and request.url.path not in ("/login", "/language"):
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
