"""The console benchmark's peer: a minimal endpoint doing only the console's claim and a record.

    python -m uvicorn benchmarks.claim_peer:app_from_env --factory --workers 2
    (RECALL_DATABASE_URL; RECALL_PEER_CLAIMS names the statements captured by `capture_claims`)

POST /claim?agent=A0001 takes the agent's next case with the statement next-case itself sends
to the database (UPDATE ... FOR UPDATE SKIP LOCKED on PostgreSQL, captured from the console's
own code, for each agent, before the server starts) and answers the case id; POST
/record?agent=A0001&case=42 records the call: one UPDATE of the case and one INSERT of its
event, in one transaction. No framework, no template, no session, no login: a request is the
server (uvicorn, as many workers as the console), the engine with its pool (recall's
make_engine), the threads the console runs its database work on, and the database.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import random
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import httpx
from anyio import to_thread
from sqlalchemy import Engine, event, func, select, text

from recall.bootstrap import build_app
from recall.calling.claiming import claimant, next_case, release_case
from recall.db.models import CaseEvent

if TYPE_CHECKING:
    from benchmarks.console import Load

DESK = "peer"
Claims = dict[str, tuple[str, Any]]  # agent id -> (SQL as sent, its parameters)
Message = MutableMapping[str, Any]
RECORD = text(
    "UPDATE cases SET status = 'resolved', outcome = 'refund', attempts = attempts + 1,"
    " claimed_by = NULL, claimed_until = NULL, updated_at = :now"
    " WHERE id = :case_id AND claimed_by = :who"
)
EVENT = text(
    "INSERT INTO case_events (case_id, at, actor, channel, old_status, new_status, note)"
    " VALUES (:case_id, :now, :agent, 'phone', 'identified', 'resolved', :note)"
)
NOTE = "claim peer: reached"


def capture_claims(engine: Engine, agent_ids: list[str], now: dt.datetime) -> Claims:
    """For each agent, the claim statement next-case sends for the peer's desk, as sent: taken
    by next-case itself (the case it claims is let go again)."""
    claims: Claims = {}

    def keep(_conn, _cursor, statement: str, parameters: Any, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE CASES") and "ORDER BY" in statement:
            claims[agent] = (statement, parameters)

    event.listen(engine, "before_cursor_execute", keep)
    try:
        for agent in agent_ids:
            card = next_case(engine=engine, agent_id=agent, desk=DESK, clock=lambda: now)
            if card is not None:
                release_case(engine=engine, agent_id=agent, case_id=card.case_id, desk=DESK)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return claims


class ClaimPeer:
    """The ASGI application: /claim, /record and /health, nothing else."""

    def __init__(self, engine: Engine, claims: Claims, now: dt.datetime) -> None:
        self.engine, self.claims, self.now = engine, claims, now

    async def __call__(
        self, scope: Message, receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:  # fmt: skip
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        asked = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        status, body = 200, b"ok"
        if scope["path"] == "/claim":
            body = await to_thread.run_sync(self.claim, asked["agent"])
        elif scope["path"] == "/record":
            status = await to_thread.run_sync(self.record, asked["agent"], int(asked["case"]))
        elif scope["path"] != "/health":
            status, body = 404, b"not found"
        headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def claim(self, agent: str) -> bytes:
        """The id of the case claimed, empty when there is none."""
        statement, parameters = self.claims[agent]
        with self.engine.begin() as connection:
            won = connection.exec_driver_sql(statement, parameters).scalar()
        return b"" if won is None else str(won).encode()

    def record(self, agent: str, case_id: int) -> int:
        """200 when the case was the desk's and is recorded, 409 when it was not."""
        values = {"case_id": case_id, "now": self.now, "agent": agent,
                  "who": claimant(agent, DESK), "note": NOTE}  # fmt: skip
        with self.engine.begin() as connection:
            if not connection.execute(RECORD, values).rowcount:
                return 409
            connection.execute(EVENT, values)
        return 200


def app_from_env() -> ClaimPeer:
    """The peer of a server process, on the console's engine (RECALL_DATABASE_URL, its pool
    as RECALL_DB_POOL sizes it) at the fixed time RECALL_NOW."""
    claims: Claims = pickle.loads(Path(os.environ["RECALL_PEER_CLAIMS"]).read_bytes())
    app = build_app()
    now = app.settings.now or dt.datetime.now(dt.UTC)
    return ClaimPeer(app.engine, claims, now)


def write_claims(path: Path, claims: Claims) -> None:
    path.write_bytes(pickle.dumps(claims))


async def peer_agent(base: str, username: str, load: Load) -> None:
    """One agent on the peer: for each call handed out, claim a case, then record it."""
    agent, rng = username.upper(), random.Random(username)
    async with httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_connections=1),
                                 timeout=120) as client:  # fmt: skip
        load.ready += 1
        while await load.pause(rng):
            claimed = await load.timed("claim", client.post(f"/claim?agent={agent}"), 200)
            if claimed is None or not claimed.text:
                continue
            case_id = int(claimed.text)
            load.duplicates += load.claimed.setdefault(case_id, agent) != agent
            url = f"/record?agent={agent}&case={case_id}"
            recorded = await load.timed("record", client.post(url), 200)
            load.recorded += recorded is not None  # counted once answered: no await in between


def check_peer(engine: Engine, load: Load) -> None:
    """Every answered record is one event, on a case of its own; no case claimed twice."""
    with engine.connect() as connection:
        events, cases = connection.execute(
            select(func.count(), func.count(func.distinct(CaseEvent.case_id))).where(
                CaseEvent.note == NOTE
            )
        ).one()
    load.checks = {
        "every answered record is one event": events == load.recorded,
        "no case handed to two agents": load.duplicates == 0 and cases == events,
        "no error answer": not load.errors,
    }
