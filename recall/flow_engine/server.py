"""The local flow engine's process: Prefect's server, with a token and an idle exit.

Started by `recall.flow_engine.connect` in a session of its own, so it outlives the command
that started it and the next command finds it running. Every response carries the token
written beside its address, so a command never mistakes another program on that port for
it; after `--idle-minutes` without a request or an open connection it stops by itself.

python -m recall.flow_engine.server --port 8123 --token T --idle-minutes 60 --state FILE
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

from recall.flow_engine import TOKEN_HEADER

CHECK_EVERY_SECONDS = 15.0

Scope = dict[str, Any]


class Watched:
    """ASGI wrapper: stamps the token on every response and keeps the time of the last use."""

    def __init__(self, app: Any, token: str) -> None:
        self.app, self.token = app, token.encode()
        self.open = 0
        self.last_use = time.monotonic()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        async def stamped(message: dict[str, Any]) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (TOKEN_HEADER.encode(), self.token)]
            await send(message)

        self.open += 1
        try:
            await self.app(scope, receive, stamped)
        finally:
            self.open -= 1
            self.last_use = time.monotonic()

    def idle_for(self) -> float:
        return 0.0 if self.open else time.monotonic() - self.last_use


async def _stop_when_idle(server: Any, watched: Watched, idle_seconds: float) -> None:
    while not server.started:  # idle time counts from the moment it answers
        await asyncio.sleep(0.5)
    watched.last_use = time.monotonic()
    while not server.should_exit:
        await asyncio.sleep(min(CHECK_EVERY_SECONDS, idle_seconds / 2))
        if watched.idle_for() >= idle_seconds:
            server.should_exit = True


def serve(*, port: int, token: str, idle_minutes: float, state: Path) -> None:
    """Serve Prefect's API on 127.0.0.1:port until stopped or idle."""
    import uvicorn
    from prefect.server.api.server import create_app

    watched = Watched(create_app(final=True), token)
    config = uvicorn.Config(
        watched, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)

    async def main() -> None:
        watcher = asyncio.create_task(_stop_when_idle(server, watched, idle_minutes * 60))
        try:
            await server.serve()
        finally:
            watcher.cancel()

    try:
        asyncio.run(main())
    finally:
        _forget(state)


def _forget(state: Path) -> None:
    """Remove the address file if it still names this process."""
    with contextlib.suppress(OSError, ValueError):
        if json.loads(state.read_text()).get("pid") == os.getpid():
            state.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--idle-minutes", type=float, default=60.0)
    parser.add_argument("--state", type=Path, required=True)
    args = parser.parse_args()
    serve(port=args.port, token=args.token, idle_minutes=args.idle_minutes, state=args.state)


if __name__ == "__main__":
    main()
