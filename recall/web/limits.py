"""Limits on what a request may make the server read, checked before any of it is read.

A console form or a Twilio webhook is a few kilobytes; the largest body is a recall
definition uploaded from the console (at most 256 KiB), except a retailer's file of
fulfilments (a few hundred thousand rows: up to MAX_UPLOAD_BYTES, on its own route only).
Anything beyond the limit is
refused with 413 as soon as its Content-Length says so, or, for a body sent in chunks, as
soon as it goes over: a webhook's signature is only checked on a body within the limit. A
form of more than MAX_FORM_FIELDS fields is refused the same way (parsing a million empty
fields costs seconds).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

MAX_BODY_BYTES = 1 << 20
MAX_UPLOAD_BYTES = 20 << 20
UPLOAD_ROUTES = ("/fulfilments",)  # path endings of the routes that take a large file
MAX_FORM_FIELDS = 1000

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    """ASGI middleware: the body limit and the form-field limit of every HTTP request."""

    def __init__(
        self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, max_fields: int = MAX_FORM_FIELDS
    ) -> None:
        self.app, self.max_bytes, self.max_fields = app, max_bytes, max_fields

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"0")
        if not declared.isdigit():
            await _refuse(send, 400, "Content-Length is not a number")
            return
        upload = scope.get("method") == "POST" and str(scope.get("path", "")).endswith(
            UPLOAD_ROUTES
        )
        limit = max(self.max_bytes, MAX_UPLOAD_BYTES) if upload else self.max_bytes
        too_large = f"a request body is at most {limit // 1024} KiB"
        if int(declared) > limit:
            await _refuse(send, 413, too_large)
            return
        form = headers.get(b"content-type", b"").startswith(b"application/x-www-form-urlencoded")
        started = refused = False
        read = fields = 0

        async def limited() -> Message:
            """The body as it comes; once over a limit, the 413 is sent and the application
            told the client has gone (it stops reading and its own answer is dropped)."""
            nonlocal read, fields, refused
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                read += len(body)
                fields += body.count(b"&") if form else 0
                why = too_large if read > limit else (
                    f"a form has at most {self.max_fields} fields"
                    if fields >= self.max_fields else ""
                )  # fmt: skip
                if why and not started:
                    refused = True
                    await _refuse(send, 413, why)
                if why:
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except Exception:
            if not refused:  # the application's own error, not its reaction to the cut
                raise


async def _refuse(send: Send, status: int, why: str) -> None:
    body = why.encode()
    await send({
        "type": "http.response.start", "status": status,
        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()), (b"connection", b"close")],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})
