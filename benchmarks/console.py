"""The console under load, at the recall's real size and beside a minimal claim endpoint, into
docs/benchmarks.md.

    python -m benchmarks.console [--cases 350000] [--agents 250] [--seconds 60]
                                 [--step-seconds 15] [--sqlite-agents 30] [--skip-postgres]
                                 [--skip-sqlite] [--skip-ramp]

The recall at its real size: 350,000 call-list cases over 250 agents, each agent a console
user (COPY on PostgreSQL, then analysed as autovacuum would). The server is `recall serve` in
its own processes (2 workers), each keeping as many database connections as it has threads
(RECALL_DB_POOL). Each simulated agent logs in through the login form (before the run: logins
are not timed), opens My list and presses Next case, then works as a person does: the case
page, think twice, record (four calls in five reached with a refund, the fifth no answer),
which opens the next case's page; every tenth call they go back to My list and press Next
case, which gives back the case their desk holds. First calls are spread over a call's time,
as on a day long begun. Two paces: thinking 5 to 15 s twice a call, a case every 30 s per agent,
twice the pace of the campaign this is built for (350,000 calls in three days by 250 agents is
one per agent per minute); and a stress pace of 1 to 3 s, ten times the campaign, to find
where the console gives out. SQLite serves fewer agents of the same recall. Latencies are
measured by the clients, from request to full response. Afterwards the tables are checked:
every answered record is one call attempt, no case was handed to two agents, every call was
recorded by the agent whose list held the case. Each run's cost is read from /proc: the
processor time of the server's processes and of the database's backends, per request.

The ramp, on PostgreSQL: calls are handed to the same agents at a set rate (Poisson
arrivals), raised step by step until the p95 passes 100 ms; a call is two requests. On the
console: record, then the next case's page. On the peer (benchmarks/claim_peer.py, a bare
ASGI app served by uvicorn with as many workers, on the console's engine and threads): the
claim statement next-case sends (UPDATE ... FOR UPDATE SKIP LOCKED), then a record (one UPDATE
and one INSERT of its event), nothing else. The throughput a server holds is the most requests
a second of a step whose p95 stayed under 100 ms; the console should hold half the peer's.
"""

from __future__ import annotations

import argparse
import asyncio
import math
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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, insert, select, text

from benchmarks import claim_peer
from benchmarks.calls import NOW, seed
from benchmarks.run import machine, postgres_database, write_section
from recall.accounts.users import hash_password
from recall.calling.assignment import assign_call_list
from recall.calling.queue import copy_rows
from recall.campaign.launches import RECALL_CLI
from recall.db.engine import make_engine, upgrade
from recall.db.models import Agent, CallAttempt, Case, Customer, QueueEntry, User

PASSWORD = "bench password 2026"
PACES = {"campaign x2": (5.0, 15.0), "stress x10": (1.0, 3.0)}
# Calls a second, up to where the peer gives out on two cores (about 1,600 requests/s).
RAMP = (2, 4, 6, 8, 10, 13, 16, 20, 25, 30, 40, 50, 60, 75, 90, 110, 130, 160, 200, 250, 320,
        400, 500, 650, 800, 1000)  # fmt: skip
TARGET_P95_MS = 100.0
TARGET_RATIO = 0.5  # of the peer's throughput
LIST_EVERY = 10  # calls between two visits to My list
WORKERS = 2
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_RECORDED = re.compile(r'name="recorded" value="(\d+)"')


@dataclass
class Step:
    asked: float  # calls a second handed out
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def held(self) -> bool:
        return not self.errors and percentile(self.latencies, 0.95) < TARGET_P95_MS


@dataclass
class Load:
    """Simulated agents on one server: how they pace their calls, and what they measured."""

    label: str  # the database
    pace: str  # a key of PACES, or "ramp"
    agents: int
    server: str = "console"  # or "claim peer"
    seconds: float = 0.0
    list_every: int = LIST_EVERY  # 0: never back to the list (the ramp)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    claimed: dict[int, str] = field(default_factory=dict)
    duplicates: int = 0
    recorded: int = 0
    ready: int = 0  # agents logged in
    in_flight: int = 0  # requests sent, not answered yet
    started: asyncio.Event = field(default_factory=asyncio.Event)
    calls: asyncio.Queue | None = None  # the ramp's calls handed out; None in the queue: stop
    stop_at: float = math.inf
    steps: list[Step] = field(default_factory=list)
    machine_load: float = 0.0  # the load average as the run started (other work included)
    connections: int | None = None  # connections the server opened to PostgreSQL
    server_cpu: float = 0.0  # processor seconds of the server's processes
    database_cpu: float | None = None  # processor seconds of the database's backends
    meter: Meter | None = None  # started once every agent is logged in (and warm: the ramp)
    checks: dict[str, bool] = field(default_factory=dict)

    def everything(self) -> list[float]:
        return [v for values in self.latencies.values() for v in values]

    async def pause(self, rng: random.Random) -> bool:
        """Wait for the next call: thinking twice (a pace) or a call handed out (the ramp);
        False when the run is over."""
        if self.calls is not None:
            return await self.calls.get() is not None
        think = PACES[self.pace]
        if not self.started.is_set():
            await self.started.wait()
            # First calls spread over a whole call's time, as if the day had long begun: not
            # every agent opening their list in the same few seconds.
            await asyncio.sleep(rng.uniform(0, 2 * think[1]))
        else:
            await asyncio.sleep(rng.uniform(*think) + rng.uniform(*think))
        return time.monotonic() < self.stop_at

    async def timed(
        self, what: str, request: Awaitable[httpx.Response], expected: int
    ) -> httpx.Response | None:
        started, self.in_flight = time.perf_counter(), self.in_flight + 1
        try:
            response = await request
        except httpx.HTTPError as exc:
            self.errors[f"{what}: {type(exc).__name__}"] += 1
            return None
        finally:
            self.in_flight -= 1
        self.latencies[what].append((time.perf_counter() - started) * 1000)
        if response.status_code != expected:
            self.errors[f"{what}: {response.status_code}"] += 1
            return None
        return response


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def prepare(engine: Engine, cases: int, agents: int) -> None:
    """The recall's cases and agents (as the call-list benchmark makes them), their customers,
    an assignment, one console user per agent, and the tables' statistics."""
    upgrade(engine)
    seed(engine, cases, agents)
    columns = ("customer_id", "first_name", "last_name", "country", "language", "do_not_call",
               "row_hash")  # fmt: skip
    with engine.begin() as connection:
        ids = connection.scalars(select(Case.customer_id)).all()
        rows = [(cid, "Client", cid[-4:], "FR", "fr", False, "x") for cid in ids]
        if engine.dialect.name == "postgresql":
            copy_rows(connection, "customers", columns, rows)
        else:
            connection.execute(insert(Customer), [dict(zip(columns, r, strict=True)) for r in rows])
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
    if engine.dialect.name == "postgresql":  # what autovacuum does after a launch
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    url: str, data_dir: Path, port: int, workers: int, **settings: str
) -> subprocess.Popen:
    """`recall serve` over `url`, with more RECALL_* `settings` when given; once it answers."""
    command = [*RECALL_CLI, "serve", "--port", str(port), "--workers", str(workers)]
    return serving(command, url, data_dir, port, settings)


def serving(
    command: list[str], url: str, data_dir: Path, port: int, settings: dict[str, str]
) -> subprocess.Popen:
    """The server `command` starts, over `url` at the benchmark's time; once it answers."""
    env = dict(os.environ)
    env.update(
        RECALL_DATABASE_URL=url, RECALL_DATA_DIR=str(data_dir), RECALL_NOW=NOW.isoformat(),
        PREFECT_SERVER_ANALYTICS_ENABLED="false", **settings,
    )  # fmt: skip
    # Its log goes to a file: a pipe nobody reads fills up, and a server writing a traceback to
    # it then hangs.
    with open(data_dir / "server.log", "wb") as log:
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log,
                                  cwd=Path(__file__).resolve().parents[1])  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not start: " + server_log(data_dir))


def server_log(data_dir: Path) -> str:
    return (data_dir / "server.log").read_text(errors="replace")[-2000:]


def _found(pattern: re.Pattern[str], response: httpx.Response | None) -> str:
    found = pattern.search(response.text) if response is not None else None
    return found.group(1) if found else ""


async def log_in(client: httpx.AsyncClient, username: str, load: Load) -> str | None:
    """Log in through the form; the session's CSRF token, None when refused."""
    token = _found(_CSRF, await client.get("/login"))
    form = {"username": username, "password": PASSWORD, "csrf": token}
    answer = await client.post("/login", data=form)
    if answer.status_code != 303:
        load.errors[f"log in: {answer.status_code}"] += 1
        return None
    return _found(_CSRF, await client.get("/my/list"))


async def next_from_list(client: httpx.AsyncClient, load: Load, csrf: str) -> str:
    """My list, then Next case: the case page's address, "" when nothing is left."""
    if await load.timed("my list", client.get("/my/list"), 200) is None:
        return ""
    answer = await load.timed("next case", client.post("/my/next", data={"csrf": csrf}), 303)
    where = answer.headers["location"] if answer is not None else ""
    return where if where.startswith("/cases/") else ""


async def console_agent(base: str, username: str, load: Load) -> None:
    """One agent at the console, from logging in until the run is over."""
    rng = random.Random(username)
    async with httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_connections=1),
                                 timeout=120) as client:  # fmt: skip
        csrf = await log_in(client, username, load)
        load.ready += 1
        if csrf is None or not await load.pause(rng):
            return
        where, calls = await next_from_list(client, load, csrf), 0
        page = await load.timed("case page", client.get(where), 200) if where else None
        while page is not None and await load.pause(rng):
            case_id = int(where.rsplit("/", 1)[1])
            load.duplicates += load.claimed.setdefault(case_id, username) != username
            form = {"csrf": csrf, "recorded": _found(_RECORDED, page), "disposition": "reached",
                    "outcome": "refund"}  # fmt: skip
            if rng.random() < 0.2:
                form.update(disposition="no_answer", outcome="")
            answer = await load.timed("record", client.post(f"{where}/record", data=form), 303)
            load.recorded += answer is not None
            where, calls = answer.headers["location"] if answer is not None else "", calls + 1
            if not where.startswith("/cases/") or (load.list_every and calls % LIST_EVERY == 0):
                where = await next_from_list(client, load, csrf)
            page = await load.timed("case page", client.get(where), 200) if where else None


Simulated = Callable[[str, str, Load], Awaitable[None]]


async def simulate(base: str, agent: Simulated, load: Load, step_seconds: float) -> None:
    """Every agent logged in, then the pace's run or the ramp's steps."""
    names = [f"a{n + 1:04d}" for n in range(load.agents)]
    if load.pace == "ramp":
        load.calls = asyncio.Queue()
    tasks = [asyncio.create_task(agent(base, name, load)) for name in names]
    while load.ready < load.agents and not all(task.done() for task in tasks):
        await asyncio.sleep(0.2)
    load.stop_at = time.monotonic() + load.seconds
    load.started.set()
    if load.calls is None and load.meter:
        load.meter.start()
    if load.calls is not None:
        await ramp(load, step_seconds)
    await asyncio.gather(*tasks)


async def ramp(load: Load, step_seconds: float) -> None:
    """A call for each agent to start with, then calls at each rate of RAMP for `step_seconds`,
    until two steps in a row missed the p95 (or one by far)."""
    assert load.calls is not None
    rng = random.Random(2026)
    for _ in range(load.agents):  # one call each over 10 s, taken in turn: every agent warm
        load.calls.put_nowait(True)
        await asyncio.sleep(10 / load.agents)
    await answered(load)
    if load.meter:
        load.meter.start()
    for asked in RAMP:
        load.latencies, errors = defaultdict(list), sum(load.errors.values())
        await hand_out(load, rng, asked, step_seconds)
        errors = sum(load.errors.values()) - errors
        load.steps.append(Step(asked, step_seconds, load.everything(), errors))
        p95 = percentile(load.steps[-1].latencies, 0.95)
        print(f"  {asked} calls/s: {load.steps[-1].rate:.0f} requests/s, p95 {p95:.0f} ms"
              + (f", {errors} errors" if errors else ""), flush=True)  # fmt: skip
        missed = [not step.held for step in load.steps[-2:]]
        if (len(missed) == 2 and all(missed)) or p95 > 5 * TARGET_P95_MS:
            break
    for _ in range(load.agents):
        load.calls.put_nowait(None)


async def hand_out(load: Load, rng: random.Random, rate: float, seconds: float) -> None:
    """Calls at `rate` a second for `seconds`, then every one of them made and answered."""
    assert load.calls is not None
    at, end = time.monotonic(), time.monotonic() + seconds
    while (at := at + rng.expovariate(rate)) < end:
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        load.calls.put_nowait(True)
    await answered(load)


async def answered(load: Load) -> None:
    """Until every call handed out is made: an agent takes a call off the queue and sends its
    first request at once, its second as the first is answered."""
    assert load.calls is not None
    while not load.calls.empty() or load.in_flight:
        await asyncio.sleep(0.02)


def settled(most: float = 2.0, patience: float = 90.0) -> None:
    """Wait (a while at most) for the machine to calm down after the run before: a ramp begun
    while the stress run's clients still weigh on the cores measures them, not the server."""
    ends = time.monotonic() + patience
    while os.getloadavg()[0] > most and time.monotonic() < ends:
        time.sleep(5)


def drive(base: str, agent: Simulated, load: Load, engine: Engine, pid: int, step: float) -> None:
    """`load` on the server at `base`, with what it cost the server and the database."""
    settled()
    load.machine_load = os.getloadavg()[0]
    load.meter = Meter(pid, engine)
    asyncio.run(simulate(base, agent, load, step))
    load.meter.stop(load)
    if load.steps:
        load.seconds = sum(s.seconds for s in load.steps)
        load.latencies = defaultdict(list, {"all": [v for s in load.steps for v in s.latencies]})


@dataclass
class Meter:
    """The processor time a run cost the server's processes and the database's backends (from
    /proc: the pool keeps the same backends all along), and the connections opened."""

    pid: int
    engine: Engine
    at_start: tuple[float, dict[int, float], int | None] = (0.0, {}, None)

    def start(self) -> None:
        self.at_start = (server_cpu(self.pid), backends_cpu(self.engine),
                         opened_connections(self.engine))  # fmt: skip

    def stop(self, load: Load) -> None:
        server, backends, opened = self.at_start
        load.server_cpu = server_cpu(self.pid) - server
        now = backends_cpu(self.engine)
        load.database_cpu = sum(now[p] - backends.get(p, 0.0) for p in now) if now else None
        after = opened_connections(self.engine)
        load.connections = None if opened is None or after is None else after - opened


def cpu_seconds(pid: int) -> float:
    """Processor seconds (user and system) of one process, from /proc; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(pid: int) -> float:
    """Processor seconds of a process and its children (the server's workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return sum(cpu_seconds(each) for each in [pid, *map(int, children)])


def backends_cpu(engine: Engine) -> dict[int, float]:
    """Processor seconds of each PostgreSQL backend of the database (but this one's); none on
    SQLite, or when the database runs on another machine."""
    if engine.dialect.name != "postgresql" or engine.url.host not in ("127.0.0.1", "localhost"):
        return {}
    query = text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid()"
    )
    with engine.connect() as connection:
        return {pid: cpu_seconds(pid) for pid in connection.scalars(query)}


def opened_connections(engine: Engine) -> int | None:
    """The connections PostgreSQL has accepted into this database so far; None on SQLite."""
    if engine.dialect.name != "postgresql":
        return None
    query = text("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
    with engine.connect() as connection:
        return int(connection.scalar(query) or 0)


SHARED_CASES = (
    "SELECT count(*) FROM (SELECT case_id FROM call_attempts GROUP BY case_id"
    " HAVING count(DISTINCT agent_id) > 1) AS s"
)


def attempts(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count(CallAttempt.id))) or 0


def check(engine: Engine, load: Load, before: int) -> None:
    """What the tables say of the run: `before` is the call attempts there were."""
    with engine.connect() as connection:
        shared = connection.scalar(text(SHARED_CASES))
        foreign = connection.scalar(
            select(func.count())
            .select_from(CallAttempt)
            .join(QueueEntry, QueueEntry.case_id == CallAttempt.case_id)
            .where(QueueEntry.agent_id != CallAttempt.agent_id)
        )
    load.checks = {
        "every answered record is one call attempt": attempts(engine) - before == load.recorded,
        "no case handed to two agents": load.duplicates == 0 and shared == 0,
        "every call made by the case's own agent": foreign == 0,
        "no error answer": not load.errors,
    }


def on_console(url: str, engine: Engine, loads: list[Load], step: float) -> None:
    """The paces, then the ramp, on one `recall serve`; each load's checks."""
    with tempfile.TemporaryDirectory(prefix="recall-console-bench-") as data_dir:
        port = free_port()
        server = start_server(url, Path(data_dir), port, workers=WORKERS)
        try:
            for load in loads:
                before = attempts(engine)
                print(f"{load.label}: {load.agents} agents, {load.pace} ...", flush=True)
                drive(f"http://127.0.0.1:{port}", console_agent, load, engine, server.pid, step)
                check(engine, load, before)
                say(load)
        finally:
            server.terminate()
            server.wait(timeout=30)
            if any(load.errors for load in loads):
                print(f"the server's log ends: {server_log(Path(data_dir))}", flush=True)


def on_peer(label: str, url: str, engine: Engine, agents: int, step: float) -> Load:
    """The ramp on the claim peer, served as the console is."""
    load = Load(label, "ramp", agents, server="claim peer", list_every=0)
    agent_ids = [f"A{n + 1:04d}" for n in range(agents)]
    with tempfile.TemporaryDirectory(prefix="recall-claim-peer-") as data_dir:
        claims = Path(data_dir) / "claims.pickle"
        claim_peer.write_claims(claims, claim_peer.capture_claims(engine, agent_ids, NOW))
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", "benchmarks.claim_peer:app_from_env",
                   "--factory", "--port", str(port), "--workers", str(WORKERS),
                   "--no-access-log", "--timeout-keep-alive", "75"]  # fmt: skip
        server = serving(command, url, Path(data_dir), port, {"RECALL_PEER_CLAIMS": str(claims)})
        try:
            print(f"{load.label}: {agents} agents on the claim peer, ramp ...", flush=True)
            drive(f"http://127.0.0.1:{port}", claim_peer.peer_agent, load, engine, server.pid,
                  step)  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=30)
    claim_peer.check_peer(engine, load)
    say(load)
    return load


def say(load: Load) -> None:
    everything = load.everything()
    print(f"  {len(everything):,} requests, p95 {percentile(everything, 0.95):.0f} ms; "
          f"{cost(load)}", flush=True)  # fmt: skip
    for name, ok in load.checks.items():
        print(f"  {'ok ' if ok else 'FAILED'} {name}", flush=True)


def on_database(label: str, url: str, args: argparse.Namespace, agents: int) -> list[Load]:
    print(f"{label}: seeding {args.cases:,} cases for {args.agents} agents ...", flush=True)
    engine = make_engine(url)
    started = time.perf_counter()
    prepare(engine, args.cases, args.agents)
    print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
    if engine.dialect.server_version_info and engine.dialect.name == "postgresql":
        label += " " + ".".join(map(str, engine.dialect.server_version_info))
    loads = [Load(label, pace, agents, seconds=args.seconds) for pace in PACES]
    ramped = engine.dialect.name == "postgresql" and not args.skip_ramp
    if ramped:
        loads.append(Load(label, "ramp", agents, list_every=0))
    on_console(url, engine, loads, args.step_seconds)
    if ramped:
        loads.append(on_peer(label, url, engine, agents, args.step_seconds))
    engine.dispose()
    return loads


def pace_rows(load: Load) -> list[str]:
    checks = "all passed" if all(load.checks.values()) else "FAILED: " + ", ".join(
        name for name, ok in load.checks.items() if not ok
    )  # fmt: skip
    if load.errors:
        checks += f" ({', '.join(f'{what} x{n}' for what, n in load.errors.most_common())})"
    rows = []
    for page, values in [("all", load.everything()), *sorted(load.latencies.items())]:
        p95 = percentile(values, 0.95)
        verdict = "met" if p95 < TARGET_P95_MS else "**missed**"
        rows.append(
            f"| {load.label} | {load.pace} | {load.agents} | {page} | {len(values):,} | "
            f"{len(values) / load.seconds:,.1f} | {statistics.median(values):.1f} | {p95:.1f} | "
            f"{percentile(values, 0.99):.1f} | < {TARGET_P95_MS:.0f}: {verdict} | "
            + (f"{checks} |" if page == "all" else " |")
        )
    return rows


def ramp_rows(load: Load) -> list[str]:
    return [
        f"| {load.server} | {step.asked} | {len(step.latencies):,} | {step.rate:.1f} | "
        f"{statistics.median(step.latencies):.1f} | {percentile(step.latencies, 0.95):.1f} | "
        f"{percentile(step.latencies, 0.99):.1f} | {step.errors} |"
        for step in load.steps
        if step.latencies
    ]


def held(load: Load) -> float:
    """The most requests a second of a step whose p95 stayed under the target."""
    return max((step.rate for step in load.steps if step.held), default=0.0)


def gave_out(load: Load) -> bool:
    """A step of the ramp missed the p95: the server's limit was found."""
    return any(not step.held for step in load.steps)


def held_text(load: Load, rate: float) -> str:
    if rate and not gave_out(load):
        return f"at least **{rate:.0f}** requests/s (the ramp's last step)"
    if rate or not load.steps:
        return f"**{rate:.0f}** requests/s"
    return f"**none**: not even the first step ({load.steps[0].rate:.0f} requests/s)"


def cost(load: Load) -> str:
    requests = len(load.everything()) or 1
    database = "" if load.database_cpu is None else (
        f" and {1000 * load.database_cpu / requests:.1f} ms of the database's"
    )  # fmt: skip
    opened = "" if load.connections is None else f", {load.connections} connections opened"
    return (f"{load.label} {load.pace} ({load.server}): load average {load.machine_load:.2f} at "
            f"the start; {1000 * load.server_cpu / requests:.1f} ms of the server's processor"
            f"{database} a request{opened}")  # fmt: skip


def section(loads: list[Load], command: str) -> str:
    paces = [load for load in loads if load.pace != "ramp"]
    ramps = [load for load in loads if load.pace == "ramp"]
    lines = [
        "## Console under load", "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} on {machine()}; load average "
        f"{os.getloadavg()[0]:.2f} at the end (the machine may be shared: see each run's).", "",
        f"Command: `{command}` (part of `make bench`). "
        + " ".join(" ".join((__doc__ or "").split("\n\n")[2:]).split()), "",
        "| database | pace | agents | page | requests | per second | p50 ms | p95 ms | p99 ms "
        "| p95 target | checks |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---|---|",
        *[row for load in paces for row in pace_rows(load)],
    ]  # fmt: skip
    if len(ramps) == 2:
        console, peer = held(ramps[0]), held(ramps[1])
        ratio = console / peer if peer else 0.0
        verdict = "met" if ratio >= TARGET_RATIO else "**missed**"
        if not gave_out(ramps[1]):  # its real throughput is higher: the ratio is a bound
            verdict = "**missed**" if ratio < TARGET_RATIO else "not known"
            ratio_text = f"at most **{ratio:.2f}**, the peer never having missed"
        else:
            ratio_text = f"**{ratio:.2f}**"
        lines += [
            "", "| server | calls/s asked | requests | requests/s | p50 ms | p95 ms | p99 ms "
            "| errors |", "|---|---:|---:|---:|---:|---:|---:|---:|",
            *ramp_rows(ramps[0]), *ramp_rows(ramps[1]), "",
            f"Held with a p95 under {TARGET_P95_MS:.0f} ms: the console "
            f"{held_text(ramps[0], console)}, the claim peer {held_text(ramps[1], peer)}: ratio "
            f"{ratio_text} (target >= {TARGET_RATIO}: {verdict}).",
        ]  # fmt: skip
    pool = os.environ.get("RECALL_DB_POOL")
    lines += ["", *[f"- {cost(load)}." for load in loads]]
    if pool:
        lines.append(f"- RECALL_DB_POOL was {pool} (connections kept by each server process).")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=250)
    parser.add_argument("--cases", type=int, default=350_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--step-seconds", type=float, default=15)
    parser.add_argument("--sqlite-agents", type=int, default=30)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-ramp", action="store_true")
    args = parser.parse_args()
    loads: list[Load] = []
    if not args.skip_postgres:
        database = postgres_database()
        if database is None:
            sys.exit("PostgreSQL is not reachable: run with --skip-postgres")
        url, drop = database
        try:
            loads += on_database("PostgreSQL", url, args, args.agents)
        finally:
            drop()
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory(prefix="recall-console-db-") as folder:
            url = f"sqlite:///{Path(folder) / 'recall.db'}"
            loads += on_database("SQLite", url, args, args.sqlite_agents)
    command = " ".join(["python -m benchmarks.console", *sys.argv[1:]])
    write_section("Console under load", section(loads, command))
    if not all(all(load.checks.values()) for load in loads):
        sys.exit(1)


if __name__ == "__main__":
    main()
