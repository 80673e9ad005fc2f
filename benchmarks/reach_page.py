"""The customers' self-service page under load, for benchmarks.reach: `recall serve` in its own
processes, simulated customers each opening their link, confirming their postal code, opening
the form and choosing a remedy; and the peer, `/health` of the same server at the same pace.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import ssl
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select, text

from benchmarks.console import free_port, percentile, server_log, start_server
from recall.db.models import Case, CaseEvent, Customer, WebAnswer
from recall.db.secrets import page_key
from recall.domain.page_tokens import make_token

# Every customer opens their page within ARRIVALS_S, and is still on it when the last arrives:
# reading the notice, then typing the postal code; reading the form, then choosing.
ARRIVALS_S = 10.0
THINK_S = (5.0, 15.0)
WORKERS = 2
STEPS = ("open", "confirm", "form", "answer", "thanks")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
# One TLS context for every client: httpx makes one per client otherwise, 20 ms each, and 500
# of them would hold the clients' event loop for ten seconds.
TLS = ssl.create_default_context()


@dataclass
class Load:
    label: str
    what: str  # "page" or "peer"
    customers: int
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    answered: int = 0
    active: int = 0
    most_active: int = 0  # customers in the middle of their visit at the same moment
    server_cpu: float = 0.0  # processor seconds of the server's workers
    connections: int | None = None  # database connections the server opened (PostgreSQL)
    machine_load: float = 0.0  # the machine's load average at the start (other processes too)
    checks: dict[str, bool] = field(default_factory=dict)

    def everything(self) -> list[float]:
        return [v for values in self.latencies.values() for v in values]

    def p95(self, step: str | None = None) -> float:
        return percentile(self.everything() if step is None else self.latencies[step], 0.95)


@dataclass(frozen=True)
class Visitor:
    case_id: int
    token: str
    postal_code: str
    store_id: str
    address: str  # the customer's own address, as the proxy's X-Forwarded-For tells it


def visitors(engine: Engine, count: int) -> list[Visitor]:
    """`count` cases spread over the recall, with their links and postal codes."""
    key = page_key(engine)
    with engine.connect() as connection:
        total = connection.scalar(select(func.count()).select_from(Case)) or 0
        step = max(1, total // count)
        rows = connection.execute(
            select(Case.id, Customer.postal_code, Case.stores)
            .join(Customer, Customer.customer_id == Case.customer_id)
            .where(Case.id % step == 0).order_by(Case.id).limit(count)
        ).all()  # fmt: skip
    return [
        Visitor(case_id, make_token(case_id, key), postal or "", stores.split(",")[0],
                f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}")
        for n, (case_id, postal, stores) in enumerate(rows)
    ]  # fmt: skip


async def timed(load: Load, step: str, request, expected: int) -> httpx.Response | None:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    try:
        response = await request
    except httpx.HTTPError as exc:
        load.errors[f"{step}: {type(exc).__name__}"] += 1
        return None
    load.latencies[step].append((time.perf_counter() - started) * 1000)
    if response.status_code != expected:
        load.errors[f"{step}: {response.status_code}"] += 1
        return None
    return response


def _csrf(response: httpx.Response | None) -> str | None:
    found = _CSRF.search(response.text) if response is not None else None
    return found.group(1) if found else None


async def customer(base: str, who: Visitor, load: Load, start_at: float) -> None:
    """One customer's visit: open the link, confirm the postal code (the page comes back with
    the form), choose a refund at their store (the thanks come back)."""
    rng = random.Random(who.case_id)
    page = f"/r/{who.token}"
    headers = {"X-Forwarded-For": who.address}
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60,
                                 verify=TLS) as client:  # fmt: skip
        await asyncio.sleep(max(0.0, start_at - time.monotonic()) + rng.uniform(0, ARRIVALS_S))
        _arrived(load, +1)
        try:
            csrf = _csrf(await timed(load, "open", client.get(page), 200))
            await asyncio.sleep(rng.uniform(*THINK_S))
            form = {"csrf": csrf or "", "postal_code": who.postal_code, "lang": ""}
            if csrf is None or not await timed(
                load, "confirm", client.post(f"{page}/confirm", data=form), 303
            ):
                return
            csrf = _csrf(await timed(load, "form", client.get(page), 200))
            await asyncio.sleep(rng.uniform(*THINK_S))
            answer = {"csrf": csrf or "", "lang": "", "possession": "has_it",
                      "remedy": "refund", "store_id": who.store_id}  # fmt: skip
            if csrf is None or not await timed(
                load, "answer", client.post(f"{page}/answer", data=answer), 303
            ):
                return
            load.answered += 1
            await timed(load, "thanks", client.get(f"{page}/thanks"), 200)
        finally:
            _arrived(load, -1)


async def health_customer(base: str, who: Visitor, load: Load, start_at: float) -> None:
    """The peer: as many requests, at the same pace, to `/health` (no database, no page)."""
    rng = random.Random(who.case_id)
    headers = {"X-Forwarded-For": who.address}
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60,
                                 verify=TLS) as client:  # fmt: skip
        await asyncio.sleep(max(0.0, start_at - time.monotonic()) + rng.uniform(0, ARRIVALS_S))
        _arrived(load, +1)
        for step, think in zip(STEPS, (True, False, True, False, False), strict=True):
            await timed(load, step, client.get("/health"), 200)
            if think:
                await asyncio.sleep(rng.uniform(*THINK_S))
        _arrived(load, -1)


def _arrived(load: Load, change: int) -> None:
    load.active += change
    load.most_active = max(load.most_active, load.active)


def server_cpu(pid: int) -> float:
    """Processor seconds of a process and its children (the server's workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0.0
    for each in [pid, *map(int, children)]:
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def opened_connections(engine: Engine) -> int | None:
    """The connections PostgreSQL has accepted into this database so far; None on SQLite."""
    if engine.dialect.name != "postgresql":
        return None
    query = text("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
    with engine.connect() as connection:
        return int(connection.scalar(query) or 0)


async def simulate(base: str, people: list[Visitor], load: Load) -> None:
    visit = customer if load.what == "page" else health_customer
    start_at = time.monotonic() + 2 + len(people) * 0.004  # every client made by then
    started = time.perf_counter()
    await asyncio.gather(*(visit(base, who, load, start_at) for who in people))
    load.seconds = time.perf_counter() - started


def check_answers(engine: Engine, people: list[Visitor], load: Load) -> None:
    ids = [who.case_id for who in people]
    with engine.connect() as connection:
        rows = connection.execute(
            select(WebAnswer.case_id, func.count()).where(WebAnswer.case_id.in_(ids))
            .group_by(WebAnswer.case_id)
        ).all()  # fmt: skip
        with_events = connection.scalar(
            select(func.count(func.distinct(CaseEvent.case_id))).where(
                CaseEvent.case_id.in_(ids), CaseEvent.channel == "web",
                CaseEvent.new_status == "resolved")
        )  # fmt: skip
        resolved = connection.scalar(select(func.count()).where(
            Case.id.in_(ids), Case.status == "resolved", Case.outcome == "refund"))  # fmt: skip
    load.checks = {
        "every customer answered": load.answered == len(people),
        "every answer is one web_answers row": dict(rows) == dict.fromkeys(ids, 1),
        "every case resolved by its answer, with its events on the web channel": (
            resolved == with_events == len(people)
        ),
        "no error answer": not load.errors,
    }


def measure_page(label: str, url: str, engine: Engine, customers: int) -> list[Load]:
    """The page, then its peer, on one server started for both."""
    people = visitors(engine, customers)
    loads = [Load(label, "page", len(people)), Load(label, "peer", len(people))]
    with tempfile.TemporaryDirectory(prefix="recall-reach-page-") as folder:
        port = free_port()
        # Behind a proxy, as in production: each customer's own address is the one limited.
        server = start_server(url, Path(folder), port, WORKERS,
                              RECALL_TRUSTED_PROXIES="127.0.0.1")  # fmt: skip
        try:
            for load in loads:
                print(f"{label}: {len(people)} customers at once, {load.what} ...", flush=True)
                load.machine_load = os.getloadavg()[0]
                cpu, opened = server_cpu(server.pid), opened_connections(engine)
                asyncio.run(simulate(f"http://127.0.0.1:{port}", people, load))
                load.server_cpu = server_cpu(server.pid) - cpu
                after = opened_connections(engine)
                load.connections = None if opened is None or after is None else after - opened
                print(f"  p95 {load.p95():.0f} ms over {len(load.everything()):,} requests, "
                      f"{load.most_active} customers at once at most; the server's processor "
                      f"{load.server_cpu:.1f} s, {load.connections} connections opened",
                      flush=True)  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=30)
            if any(load.errors for load in loads):
                print(f"  errors: {[dict(load.errors) for load in loads]}; the server's log ends:")
                print(server_log(Path(folder)), flush=True)
    check_answers(engine, people, loads[0])
    loads[1].checks = {"no error answer": not loads[1].errors}
    for name, ok in loads[0].checks.items():
        print(f"  {'ok ' if ok else 'FAILED'} {name}", flush=True)
    return loads
