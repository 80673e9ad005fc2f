"""The console under load: simulated agents cycling next case / record, into docs/benchmarks.md.

    python -m benchmarks.console [--agents 250] [--cases 25000] [--seconds 60]
                                 [--sqlite-agents 30] [--skip-postgres]

The server is `recall serve` in its own processes (2 workers), over a fresh database (a
throw-away PostgreSQL database, then a SQLite file). Each simulated agent logs in through
the login form, then loops: think, POST /api/my/next, think, POST /api/cases/{id}/record
(four calls in five reached with a refund, the fifth no answer). Two paces: thinking 5 to
15 s, a case every 30 s per agent, twice the pace of the campaign this is built for (350,000
calls in three days by 250 agents is one per agent per minute); and a stress pace of 1 to 3 s,
ten times that, to find where the console gives out.
Latencies are measured by the clients, from request to full response. Afterwards the tables
are checked: every answered record is one call attempt, no case was handed to two agents,
every call was recorded by the agent whose list held the case.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, insert, select, text

from benchmarks.calls import NOW, seed
from benchmarks.run import machine, postgres_database, write_section
from recall.accounts.users import hash_password
from recall.calling.assignment import assign_call_list
from recall.campaign.launches import RECALL_CLI
from recall.db.engine import make_engine, upgrade
from recall.db.models import Agent, CallAttempt, Case, Customer, QueueEntry, User

PASSWORD = "bench password 2026"
PACES = {"campaign x2": (5.0, 15.0), "stress x10": (1.0, 3.0)}
TARGET_P95_MS = 100.0


@dataclass
class Run:
    label: str
    pace: str
    agents: int
    cases: int
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    claimed: dict[int, str] = field(default_factory=dict)
    duplicates: int = 0
    recorded: int = 0
    checks: dict[str, bool] = field(default_factory=dict)

    def all_latencies(self) -> list[float]:
        return [v for values in self.latencies.values() for v in values]


def prepare(engine: Engine, cases: int, agents: int) -> None:
    """The recall's cases and agents (as the call-list benchmark makes them), their customers,
    an assignment, and one console user per agent."""
    upgrade(engine)
    seed(engine, cases, agents)
    with engine.begin() as connection:
        ids = connection.scalars(select(Case.customer_id)).all()
        for start in range(0, len(ids), 20_000):
            connection.execute(
                insert(Customer),
                [
                    {"customer_id": cid, "first_name": "Client", "last_name": cid[-4:],
                     "country": "FR", "language": "fr", "do_not_call": False, "row_hash": "x"}
                    for cid in ids[start : start + 20_000]
                ],
            )  # fmt: skip
    assign_call_list(engine=engine, recall_id="R-CALLS", home_language="fr", clock=lambda: NOW)
    hashed = hash_password(PASSWORD)  # one hash for all: the server still checks each login
    with engine.begin() as connection:
        agent_ids = connection.scalars(select(Agent.agent_id).order_by(Agent.agent_id)).all()
        connection.execute(
            insert(User),
            [
                {"username": a.lower(), "password_hash": hashed, "role": "agent", "agent_id": a,
                 "active": True, "created_at": NOW}
                for a in agent_ids
            ],
        )  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    url: str, data_dir: Path, port: int, workers: int, **settings: str
) -> subprocess.Popen:
    """`recall serve` over `url`, with more RECALL_* `settings` when given; once it answers."""
    env = dict(os.environ)
    env.update(
        RECALL_DATABASE_URL=url, RECALL_DATA_DIR=str(data_dir), RECALL_NOW=NOW.isoformat(),
        PREFECT_SERVER_ANALYTICS_ENABLED="false", **settings,
    )  # fmt: skip
    # Its log goes to a file: a pipe nobody reads fills up, and a server writing a traceback to
    # it then hangs.
    with open(data_dir / "server.log", "wb") as log:
        server = subprocess.Popen(
            [*RECALL_CLI, "serve", "--port", str(port), "--workers", str(workers)],
            env=env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the console did not start: " + server_log(data_dir))


def server_log(data_dir: Path) -> str:
    return (data_dir / "server.log").read_text(errors="replace")[-2000:]


async def agent_loop(base: str, username: str, run: Run, start_at: float, stop_at: float) -> None:
    rng = random.Random(username)
    think = PACES[run.pace]
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        login = await client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
        form = {"username": username, "password": PASSWORD, "csrf": token}
        answer = await client.post("/login", data=form)
        if answer.status_code != 303:
            run.errors[f"login {answer.status_code}"] += 1
            return
        headers = {"X-CSRF-Token": (await client.get("/api/me")).json()["csrf"]}
        await asyncio.sleep(max(0.0, start_at - time.monotonic()) + rng.uniform(*think))
        while time.monotonic() < stop_at:
            case = await timed(run, "next case", client.post("/api/my/next", headers=headers))
            if case is None:
                break
            found = case.json()["case"]
            if found is None:
                break
            owner = run.claimed.setdefault(found["case_id"], username)
            run.duplicates += owner != username
            await asyncio.sleep(rng.uniform(*think))
            body = {"disposition": "reached", "outcome": "refund"}
            if rng.random() < 0.2:
                body = {"disposition": "no_answer"}
            url = f"/api/cases/{found['case_id']}/record"
            if await timed(run, "record", client.post(url, headers=headers, json=body)):
                run.recorded += 1
            await asyncio.sleep(rng.uniform(*think))


async def timed(run: Run, what: str, request) -> httpx.Response | None:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    try:
        response = await request
    except httpx.HTTPError as exc:
        run.errors[f"{what}: {type(exc).__name__}"] += 1
        return None
    run.latencies[what].append((time.perf_counter() - started) * 1000)
    if response.status_code != 200:
        run.errors[f"{what}: {response.status_code}"] += 1
        return None
    return response


async def simulate(base: str, run: Run) -> None:
    start_at = time.monotonic() + 5 + run.agents * 0.06  # every agent logged in by then
    stop_at = start_at + run.seconds
    names = [f"a{n + 1:04d}" for n in range(run.agents)]
    await asyncio.gather(*(agent_loop(base, n, run, start_at, stop_at) for n in names))


SHARED_CASES = (
    "SELECT count(*) FROM (SELECT case_id FROM call_attempts GROUP BY case_id"
    " HAVING count(DISTINCT agent_id) > 1) AS s"
)


def check(engine: Engine, run: Run) -> None:
    with engine.connect() as connection:
        attempts = connection.scalar(select(func.count(CallAttempt.id)))
        shared = connection.scalar(text(SHARED_CASES))
        foreign = connection.scalar(
            select(func.count())
            .select_from(CallAttempt)
            .join(QueueEntry, QueueEntry.case_id == CallAttempt.case_id)
            .where(QueueEntry.agent_id != CallAttempt.agent_id)
        )
    run.checks = {
        "every answered record is one call attempt": attempts == run.recorded,
        "no case handed to two agents": run.duplicates == 0 and shared == 0,
        "every call made by the case's own agent": foreign == 0,
        "no error answer": not run.errors,
    }


def measure(label: str, pace: str, url: str, agents: int, cases: int, seconds: float) -> Run:
    print(f"{label}: seeding {cases:,} cases for {agents} agents ...", flush=True)
    engine = make_engine(url)
    prepare(engine, cases, agents)
    run = Run(label, pace, agents, cases, seconds)
    with tempfile.TemporaryDirectory(prefix="recall-console-bench-") as data_dir:
        port = free_port()
        server = start_server(url, Path(data_dir), port, workers=2)
        try:
            print(
                f"{label}: {agents} agents at the {pace} pace for {seconds:.0f} s ...", flush=True
            )
            asyncio.run(simulate(f"http://127.0.0.1:{port}", run))
        finally:
            server.terminate()
            server.wait(timeout=30)
            if run.errors:
                print(f"  errors: {dict(run.errors)}; the server's log ends:", flush=True)
                print(server_log(Path(data_dir)), flush=True)
    check(engine, run)
    engine.dispose()
    for name, ok in run.checks.items():
        print(f"  {'ok ' if ok else 'FAILED'} {name}")
    return run


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def table(runs: list[Run]) -> str:
    lines = [
        "## Console under load", "",
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}.", "",
        "Command: `python -m benchmarks.console` (part of `make bench`). " + " ".join(
            (__doc__ or "").split("\n\n")[2].split()
        ), "",
        "| database | pace | agents | requests | per second | endpoint | p50 ms | p95 ms | p99 ms "
        "| p95 target | checks |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---|---|",
    ]  # fmt: skip
    for run in runs:
        everything = run.all_latencies()
        checks = (
            "all passed"
            if all(run.checks.values())
            else "FAILED: " + ", ".join(name for name, ok in run.checks.items() if not ok)
        )
        if run.errors:
            checks += (
                f" ({sum(run.errors.values())}: "
                + ", ".join(f"{what} x{count}" for what, count in run.errors.most_common())
                + ")"
            )
        rows = [("all", everything), *sorted(run.latencies.items())]
        for endpoint, values in rows:
            p95 = percentile(values, 0.95)
            verdict = "met" if p95 < TARGET_P95_MS else "**missed**"
            lines.append(
                f"| {run.label} | {run.pace} | {run.agents} | {len(values):,} | "
                f"{len(values) / run.seconds:,.0f} | {endpoint} | "
                f"{statistics.median(values):.1f} | {p95:.1f} | {percentile(values, 0.99):.1f} | "
                f"< {TARGET_P95_MS:.0f}: {verdict} | {checks if endpoint == 'all' else ''} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=250)
    parser.add_argument("--cases", type=int, default=25_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--sqlite-agents", type=int, default=30)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    runs = []
    for pace in PACES:
        if args.skip_postgres:
            break
        database = postgres_database()
        if database is None:
            sys.exit("PostgreSQL is not reachable: run with --skip-postgres")
        url, drop = database
        try:
            runs.append(measure("PostgreSQL", pace, url, args.agents, args.cases, args.seconds))
        finally:
            drop()
    for pace in PACES:
        with tempfile.TemporaryDirectory(prefix="recall-console-db-") as folder:
            url = f"sqlite:///{Path(folder) / 'recall.db'}"
            cases = args.cases * args.sqlite_agents // args.agents
            runs.append(measure("SQLite", pace, url, args.sqlite_agents, cases, args.seconds))
    write_section("Console under load", table(runs))
    if not all(all(run.checks.values()) for run in runs):
        sys.exit(1)


if __name__ == "__main__":
    main()
