"""The console's sessions as an ASGI middleware: `request.session` as Starlette gives it, kept
in the database (recall/accounts/sessions.py) with only an opaque token in the cookie."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from recall.accounts.sessions import (
    ABSOLUTE_FOR,
    Loaded,
    load_session,
    needs_saving,
    save_session,
)
from recall.accounts.users import UserView
from recall.domain.access import Role
from recall.web.limits import ASGIApp, Message, Receive, Scope, Send

COOKIE = "recall_session"
LOADED = "recall.session"  # the scope key of the session as read, with its user


class ServerSessions:
    def __init__(
        self, app: ASGIApp, *, engine: Engine, clock: Callable[[], dt.datetime], secure: bool
    ) -> None:
        self.app, self.engine, self.clock, self.secure = app, engine, clock, secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _cookie(scope)
        loaded: Loaded | None = None
        if token:
            loaded = await run_in_threadpool(
                load_session, engine=self.engine, token=token, now=self.clock()
            )
        data: dict[str, Any] = loaded.data if loaded else {}
        scope["session"], scope[LOADED] = data, loaded

        async def saving(message: Message) -> None:
            if message["type"] == "http.response.start":
                now, kept = self.clock(), None
                if needs_saving(loaded=loaded, data=data, now=now, touch=not _refresh(scope)):
                    kept = await run_in_threadpool(
                        save_session, engine=self.engine, loaded=loaded, data=data, now=now
                    )
                if kept is not None or (token and loaded is None):
                    headers = list(message.get("headers", []))
                    headers.append((b"set-cookie", self._cookie_header(kept or "")))
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, saving)

    def _cookie_header(self, token: str) -> bytes:
        age = int(ABSOLUTE_FOR.total_seconds()) if token else 0
        parts = [f"{COOKIE}={token}", "Path=/", f"Max-Age={age}", "HttpOnly", "SameSite=Lax"]
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts).encode("latin-1")


def _cookie(scope: Scope) -> str:
    for name, value in scope.get("headers") or []:
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header: no session
                return ""
            if COOKIE in jar:
                return jar[COOKIE].value[:100]
    return ""


def _refresh(scope: Scope) -> bool:
    """A page refreshing its own figures (refresh.js), not a click of the user."""
    return any(name == b"x-refresh" for name, _ in scope.get("headers", []))


def session_user(scope: Scope) -> UserView | None:
    """The active user of the session this request came with, as read with the session."""
    loaded: Loaded | None = scope.get(LOADED)
    if loaded is None or loaded.user is None or loaded.username is None:
        return None
    user = loaded.user
    return UserView(loaded.username, Role(user.role), user.agent_id, True, user.language,
                    user.time_zone)  # fmt: skip
