"""The locks of the customers' public pages: rate limits, CSRF and the postal-code cookie.

The console's CSRF token lives in a console session; a customer has none and gets none (a
session row per visitor would be a table anyone can fill). Their forms carry a double-submit
token instead, bound to the page's link: an HMAC, under the links' key, of the link and of a
random value kept in an HTTP-only cookie; a site that can't read the cookie can't forge it.
Confirming the postal code sets a second cookie, signed the same way, for a short while.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable

from fastapi import Request, Response

CSRF_COOKIE = "recall_page_csrf"
CONFIRMED_COOKIE = "recall_page"
CONFIRMED_FOR = 30 * 60  # seconds a confirmed postal code lets the customer answer


class RateLimiter:
    """At most `limit` requests a key per window of `window` seconds, in this process (each
    server process counts its own: behind N of them the limit is N times as loose)."""

    def __init__(
        self, limit: int, window: float, *, max_keys: int = 100_000,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.limit, self.window, self.max_keys, self.timer = limit, window, max_keys, timer
        self._counts: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one request of `key`; False when it is over the limit."""
        now = self.timer()
        with self._lock:
            start, count = self._counts.get(key, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            if key not in self._counts and len(self._counts) >= self.max_keys:
                self._forget(now)
            self._counts[key] = (start, count + 1)
        return count < self.limit

    def _forget(self, now: float) -> None:
        """Drop the windows that ended; if none did, every key (a flood of new keys)."""
        ended = [k for k, (start, _) in self._counts.items() if now - start >= self.window]
        for key in ended or list(self._counts):
            del self._counts[key]


def _mac(key: bytes, *parts: str) -> str:
    digest = hmac.new(key, "|".join(parts).encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode("ascii")


def csrf_nonce(request: Request) -> tuple[str, bool]:
    """The browser's CSRF value, and whether it is new (to be set as a cookie)."""
    kept = request.cookies.get(CSRF_COOKIE, "")
    if 20 <= len(kept) <= 64:
        return kept, False
    return secrets.token_urlsafe(24), True


def csrf_field(key: bytes, token: str, nonce: str) -> str:
    """The form's CSRF value for this link in this browser."""
    return _mac(key, "csrf", token, nonce)


def csrf_ok(request: Request, key: bytes, token: str, sent: str) -> bool:
    """Whether a form's CSRF value was made for this link and this browser's cookie."""
    nonce = request.cookies.get(CSRF_COOKIE, "")
    expected = csrf_field(key, token, nonce)
    return bool(nonce) and hmac.compare_digest(sent.encode(), expected.encode())


def confirmed_value(key: bytes, token: str, nonce: str, now: float) -> str:
    """The cookie saying this browser confirmed the link's postal code, until a while from now."""
    until = str(int(now) + CONFIRMED_FOR)
    return f"{until}.{_mac(key, 'confirmed', token, nonce, until)}"


def is_confirmed(request: Request, key: bytes, token: str, now: float) -> bool:
    """Whether this browser confirmed the postal code of this link, and not too long ago."""
    until, _, mac = request.cookies.get(CONFIRMED_COOKIE, "").partition(".")
    nonce = request.cookies.get(CSRF_COOKIE, "")
    if not until.isdigit() or not nonce or int(until) <= now:
        return False
    return hmac.compare_digest(mac.encode(), _mac(key, "confirmed", token, nonce, until).encode())


def set_cookie(response: Response, name: str, value: str, *, secure: bool, age: int | None) -> None:
    """An HTTP-only, same-site cookie for the whole site (links are /r/ and, from QR codes, /R/)."""
    response.set_cookie(
        name, value, max_age=age, path="/", httponly=True, samesite="lax", secure=secure
    )
