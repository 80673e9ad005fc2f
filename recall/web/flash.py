"""The message a page shows once after a redirect ("AB12: saved"), carried by a cookie rather
than written to the session: a call's save and the next page cost no session write.

The cookie is signed with the session's CSRF token (a secret the server keeps per session),
so only this session's own pages can have set it; it lives five minutes and is cleared by the
page that shows it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from fastapi import Request
from fastapi.responses import Response

from recall.web.security import csrf_token

COOKIE = "recall_flash"
LIVES = 300  # seconds: a message nobody saw in five minutes is dropped
_MOST = 2000  # characters kept of a message (a cookie holds 4 KB)


def waiting(request: Request) -> str | None:
    """The message this session's last redirect left, if it is genuine."""
    sent = request.cookies.get(COOKIE, "")
    key = request.session.get("csrf")
    body, _, mac = sent.partition(".")
    if not body or not key or not hmac.compare_digest(mac, _mac(key, body)):
        return None
    try:
        return base64.urlsafe_b64decode(body.encode()).decode("utf-8")
    except ValueError:
        return None


def leave(response: Response, request: Request, message: str) -> None:
    """Have the next page show `message`, after any message not shown yet."""
    pending = waiting(request)
    said = f"{pending} {message}" if pending else message
    body = base64.urlsafe_b64encode(said[:_MOST].encode("utf-8")).decode()
    value = f"{body}.{_mac(csrf_token(request), body)}"
    response.set_cookie(COOKIE, value, max_age=LIVES, httponly=True, samesite="lax",
                        secure=request.app.state.recall.settings.secure_cookies)  # fmt: skip


def shown(response: Response, request: Request) -> None:
    """The message was shown: clear it (only when one came)."""
    if COOKIE in request.cookies:
        response.delete_cookie(COOKIE, httponly=True, samesite="lax")


def _mac(key: str, body: str) -> str:
    return hmac.new(key.encode(), body.encode(), hashlib.sha256).hexdigest()[:32]
