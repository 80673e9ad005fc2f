"""Call-list assignment at scale: assign, rebalance, idempotence, into docs/benchmarks.md.

    python -m benchmarks.calls [--cases 350000] [--agents 250] [--skip-postgres] [--profile]

Cases and agents are written straight into a fresh database (SQLite file in a temporary
directory, then a throw-away PostgreSQL database); only `assign_call_list` calls are timed.
Each database runs in its own process, so that its peak memory is its own.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import itertools
import pstats
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

from sqlalchemy import Engine, delete, func, insert, select, text, update

from benchmarks.run import machine, postgres_database, write_section
from recall.calling.assignment import AssignmentReport, assign_call_list
from recall.campaign.definitions import register_recall
from recall.db.engine import make_engine, upgrade
from recall.db.models import Agent, Case, CaseEvent, QueueEntry
from recall.domain.calling import call_priority
from recall.domain.definition_parsing import parse_definition

RAW = {
    "id": "R-CALLS", "title": "Perceuse X200 - risque de brûlure", "hazard": "high",
    "products": [{"sku": "3276000123456", "lots": ["L4410..L4420"]}],
    "sold_from": "2026-01-01", "sold_to": "2026-06-30",
}  # fmt: skip
SOLD_FROM = dt.date(2026, 1, 1)
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
RUNS = 3
JOINING = 10
LEAVING = 5


FAILED: list[str] = []  # checks that failed in this process: the run goes on, then exits 1


@dataclass
class Row:
    step: str
    agents: int
    assigned: int  # as reported
    moved: int  # as reported
    changed: int  # cases whose agent changed, from the tables
    fewest: int | None  # the fewest moves that balance the loads (rebalances)
    seconds: list[float]
    target: float | None
    peak_mb: float

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "-"
        return "met" if self.median < self.target else "**missed**"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def case_rows(start: int, stop: int, rng: random.Random) -> list[dict]:
    """Plausible call-list cases: 95 % French speakers, 4 % English, 1 % German."""
    rows = []
    for n in range(start, stop):
        draw = rng.random()
        quantity = 1 + (draw < 0.2) + (draw < 0.05)
        last = SOLD_FROM + dt.timedelta(days=rng.randrange(181))
        rows.append({
            "recall_id": RAW["id"], "customer_id": f"{n:010d}", "seq": n + 1,
            "case_ref": f"{RAW['id']}-{n + 1:06d}", "status": "identified", "quantity": quantity,
            "lots": f"L{4410 + n % 11}", "skus": "3276000123456", "stores": f"S{n % 120 + 1:03d}",
            "first_purchase": max(SOLD_FROM, last - dt.timedelta(days=20 * (quantity - 1))),
            "last_purchase": last, "letter": False, "call": True, "notice_only": False,
            "phone_e164": f"+336{n:08d}", "phone_invalid": False,
            "language": "fr" if draw < 0.95 else "en" if draw < 0.99 else "de",
            "priority": call_priority("high", quantity, last), "call_zone": "Europe/Paris",
            "attempts": 0, "created_at": NOW, "updated_at": NOW,
        })  # fmt: skip
    return rows


def seed(engine: Engine, cases: int, agents: int) -> None:
    """One high-hazard recall, `cases` cases (COPY on PostgreSQL), `agents` active agents."""
    register_recall(engine=engine, definition=parse_definition(RAW), raw=RAW, clock=lambda: NOW)
    rng = random.Random(2026)
    # Made one chunk at a time, so that the peak memory measured is the assignment's.
    chunks = (case_rows(s, min(s + 50_000, cases), rng) for s in range(0, cases, 50_000))
    if engine.dialect.name == "postgresql":
        _copy_cases(engine, chunks)
    else:
        with engine.begin() as connection:
            for chunk in chunks:
                connection.execute(insert(Case), chunk)
    with engine.begin() as connection:
        connection.execute(insert(Agent), [agent_row(n) for n in range(agents)])


def _copy_cases(engine: Engine, chunks: Iterator[list[dict]]) -> None:
    raw = engine.raw_connection()
    try:
        first = next(chunks)
        statement = f"COPY cases ({', '.join(first[0])}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[attr-defined]
            for chunk in itertools.chain([first], chunks):
                for row in chunk:
                    copy.write_row(list(row.values()))
        raw.commit()
    finally:
        raw.close()


def agent_row(n: int) -> dict:
    """All speak French; 20 of the first 250 English too, 5 are specialists; capacity 1 or 2."""
    bilingual = n % 12 == 3 and n < 240
    return {
        "agent_id": f"A{n + 1:04d}", "name": f"Agent {n + 1}",
        "languages": "fr,en" if bilingual else "fr",
        "skills": "health,escalation" if n % 50 == 7 else "", "capacity": 2 if n % 3 == 0 else 1,
        "phone": None, "active": True, "updated_at": NOW,
    }  # fmt: skip


def joining(count: int) -> list[dict]:
    """New French-speaking agents, a third of them full capacity."""
    return [
        {**agent_row(0), "agent_id": f"J{n + 1:03d}", "name": f"New agent {n + 1}",
         "languages": "fr", "skills": "", "capacity": 2 if n % 3 == 0 else 1}
        for n in range(count)
    ]  # fmt: skip


def leaving(agents: int) -> list[str]:
    """Agents spread over the roster, the first one bilingual and full capacity."""
    return [f"A{n + 1:04d}" for n in range(3, agents, max(1, agents // LEAVING))][:LEAVING]


# The state between runs: every timed call starts from the same, freshly cleaned tables.


def reset(engine: Engine) -> None:
    """No case assigned, no move logged, only the first roster, all active."""
    with engine.begin() as connection:
        connection.execute(delete(CaseEvent))
        connection.execute(delete(Agent).where(Agent.agent_id.like("J%")))
        connection.execute(update(Agent).values(active=True))
        connection.execute(delete(QueueEntry))
        connection.execute(update(Case).values(callback_agent=None))


def tidy(engine: Engine) -> None:
    """What autovacuum or a WAL checkpoint would do between two runs, out of the timing."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE cases"))
            connection.execute(text("VACUUM ANALYZE call_queue"))
            connection.execute(text("VACUUM ANALYZE case_events"))
            connection.execute(text("VACUUM ANALYZE agents"))
    else:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def assign(engine: Engine, *, rebalance: bool = False) -> AssignmentReport:
    return assign_call_list(
        engine=engine, recall_id=str(RAW["id"]), home_language="fr", rebalance=rebalance,
        clock=lambda: NOW,
    )  # fmt: skip


def add_agents(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(insert(Agent), joining(JOINING))


def deactivate(engine: Engine, agent_ids: list[str]) -> None:
    with engine.begin() as connection:
        connection.execute(update(Agent).where(Agent.agent_id.in_(agent_ids)).values(active=False))


def snapshot(engine: Engine) -> dict[int, str | None]:
    with engine.connect() as connection:
        query = select(Case.id, QueueEntry.agent_id).outerjoin(
            QueueEntry, QueueEntry.case_id == Case.id
        )
        return dict(connection.execute(query).tuples().all())


def moves_logged(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(CaseEvent)) or 0


def roster(engine: Engine) -> tuple[dict[str, int], dict[str, int]]:
    """Open cases held by each active agent, and each active agent's capacity."""
    with engine.connect() as connection:
        capacity = dict(
            connection.execute(select(Agent.agent_id, Agent.capacity).where(Agent.active))
            .tuples()
            .all()
        )
        held = connection.execute(
            select(QueueEntry.agent_id, func.count())
            .join(Case, Case.id == QueueEntry.case_id)
            .where(Case.call)
            .group_by(QueueEntry.agent_id)
        )
        counts = dict(held.tuples().all())
    return {a: counts.get(a, 0) for a in capacity}, capacity


# Checks, computed from the tables, independently of the service's own arithmetic.


def check(condition: bool, message: str) -> bool:
    if not condition and message not in FAILED:
        print(f"    CHECK FAILED: {message}", file=sys.stderr, flush=True)
        FAILED.append(message)
    return condition


def check_balanced(engine: Engine, label: str) -> None:
    """Every case has an active agent; agents of equal capacity differ by at most one case."""
    loads, capacity = roster(engine)
    with engine.connect() as connection:
        orphans = connection.scalar(
            select(func.count())
            .select_from(Case)
            .outerjoin(QueueEntry, QueueEntry.case_id == Case.id)
            .where(
                Case.call,
                QueueEntry.agent_id.is_(None) | QueueEntry.agent_id.not_in(list(capacity)),
            )
        )
    check(orphans == 0, f"{label}: {orphans:,} cases without an active agent")
    spread = {}
    for cap in sorted(set(capacity.values())):
        same = [loads[a] for a in capacity if capacity[a] == cap]
        spread[cap] = (min(same), max(same))
        check(max(same) - min(same) <= 1, f"{label}: capacity {cap} loads {min(same)}..{max(same)}")
    shown = ", ".join(f"capacity {c}: {lo:,}..{hi:,}" for c, (lo, hi) in spread.items())
    print(f"    check {label}: every case has an active agent; {shown}", flush=True)


def fewest_moves(loads: dict[str, int], capacity: dict[str, int]) -> int:
    """The fewest cases to move so that every agent holds their exact share by capacity,
    rounded down or up: take what is above the ceilings, fill what is below the floors."""
    total, units = sum(loads.values()), sum(capacity.values())
    above = sum(max(0, n - -(-total * capacity[a] // units)) for a, n in loads.items())
    below = sum(max(0, total * capacity[a] // units - n) for a, n in loads.items())
    return max(above, below)


def outside_shares(loads: dict[str, int], capacity: dict[str, int]) -> int:
    """Cases that must move for every agent to hold their exact share by capacity, rounded
    down or up (docs/decisions.md): the balance a rebalance promises."""
    return fewest_moves(loads, capacity)


@dataclass
class Call:
    step: str
    seconds: float
    report: AssignmentReport
    changed: int  # cases whose agent changed
    rehomed: int  # of those, cases that had an agent before
    logged: int  # move events written

    def check(self) -> None:
        """The report counts the cases whose agent changed; each move has its event."""
        r = self.report
        check(r.assigned + r.moved == self.changed,
              f"{self.step}: reported {r.assigned:,} assigned + {r.moved:,} moved, "
              f"agent changed for {self.changed:,}")  # fmt: skip
        check(self.logged == self.rehomed,
              f"{self.step}: {self.rehomed:,} cases moved, {self.logged:,} events")  # fmt: skip


def changed(before: dict[int, str | None], after: dict[int, str | None]) -> tuple[int, int]:
    moved = [
        before.get(case_id)
        for case_id, agent_id in after.items()
        if before.get(case_id) != agent_id
    ]
    return len(moved), sum(1 for agent_id in moved if agent_id is not None)


# The timed steps.


class Steps:
    """One database's runs: each step from its own starting state, `RUNS` times."""

    def __init__(self, engine: Engine, agents: int, profile: bool) -> None:
        self.engine, self.agents, self.profile = engine, agents, profile
        self.rows: list[Row] = []
        self.profiled: set[str] = set()

    def call(self, step: str, *, rebalance: bool = False) -> Call:
        """Wall time of one `assign_call_list` call (profiled once per step with --profile)."""
        before, events = snapshot(self.engine), moves_logged(self.engine)
        profiler = None
        if self.profile and step not in self.profiled:
            profiler = cProfile.Profile()
            self.profiled.add(step)
        started = time.perf_counter()
        if profiler:
            report = profiler.runcall(assign, self.engine, rebalance=rebalance)
        else:
            report = assign(self.engine, rebalance=rebalance)
        seconds = time.perf_counter() - started
        logged = moves_logged(self.engine) - events
        call = Call(step, seconds, report, *changed(before, snapshot(self.engine)), logged)
        print(f"    {step}: {seconds:.2f} s; reported assigned {report.assigned:,}, "
              f"moved {report.moved:,}; agent changed {call.changed:,}; "
              f"fallbacks {report.fallbacks}", flush=True)  # fmt: skip
        if profiler:
            print_profile(step, profiler)
        call.check()
        return call

    def record(self, calls: list[Call], target: float | None, fewest: int | None = None) -> None:
        last = calls[-1]
        self.rows.append(Row(
            last.step, last.report.agents, last.report.assigned, last.report.moved,
            last.changed, fewest, [c.seconds for c in calls], target, peak_mb(),
        ))  # fmt: skip

    def starting(self, *, joined: bool = False, rebalanced: bool = False) -> None:
        reset(self.engine)
        if joined or rebalanced:
            assign(self.engine)
            add_agents(self.engine)
        if rebalanced:
            assign(self.engine, rebalance=True)
        tidy(self.engine)

    def rebalance(self, step: str) -> tuple[Call, int]:
        """A timed rebalance: it takes what is above the fair shares, and lands on them."""
        loads, capacity = roster(self.engine)
        least = fewest_moves(loads, capacity)
        call = self.call(step, rebalance=True)
        moved = call.report.moved
        check(moved == least, f"{step}: moved {moved:,}, the fewest that balance: {least:,}")
        left = outside_shares(*roster(self.engine))
        check(left == 0, f"{step}: {left:,} cases still outside the shares afterwards")
        print(f"    check {step}: the fewest moves to within a share rounded either way: "
              f"{least:,}; moved {call.report.moved:,}; outside afterwards: {left:,}")  # fmt: skip
        check_balanced(self.engine, step)
        return call, least

    def initial(self, cases: int) -> None:
        step, calls, lists = "initial assignment", [], set()
        for _ in range(RUNS):
            self.starting()
            call = self.call(step)
            check(
                call.report.assigned == cases and not call.report.unplaced, f"{step}: {call.report}"
            )
            check_balanced(self.engine, step)
            lists.add(hash(frozenset(snapshot(self.engine).items())))
            calls.append(call)
        check(len(lists) == 1, f"{step}: the runs gave different lists")
        self.record(calls, 2.0)

    def join(self) -> None:
        step, calls = f"rebalance after {JOINING} agents join", []
        for _ in range(RUNS):
            self.starting(joined=True)
            call, least = self.rebalance(step)
            calls.append(call)
        self.record(calls, 1.0, least)

    def leave(self) -> None:
        """Those who leave: a plain assignment hands their cases on, then a rebalance."""
        plain, again = f"{LEAVING} agents leave: assign", f"{LEAVING} agents leave: then rebalance"
        first: list[Call] = []
        second: list[Call] = []
        gone = leaving(self.agents)
        for _ in range(RUNS):
            self.starting(rebalanced=True)
            held = sum(n for a, n in roster(self.engine)[0].items() if a in gone)
            deactivate(self.engine, gone)
            first.append(self.call(plain))
            check(first[-1].changed == held, f"{plain}: {first[-1].changed:,} moved, {held:,} held")
            call, least = self.rebalance(again)
            second.append(call)
        self.record(first, 1.0)
        self.record(second, 1.0, least)

    def idle(self) -> None:
        """Nothing to do, after the last step: nothing may move."""
        for step, rebalance in (
            ("nothing to do: assign", False),
            ("nothing to do: rebalance", True),
        ):
            calls = []
            for _ in range(RUNS):
                if rebalance:
                    call, least = self.rebalance(step)
                else:
                    call, least = self.call(step), None
                check(call.changed == 0, f"{step}: agent changed for {call.changed:,} cases")
                calls.append(call)
            self.record(calls, 1.0 if rebalance else 2.0, least)


def print_profile(step: str, profiler: cProfile.Profile) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(r"assignment\.py|\{method")  # ours, the driver's
    stats.sort_stats("tottime").print_stats(12)
    print(f"--- profile of {step} ---\n{out.getvalue()}", flush=True)


def run_database(
    label: str, url: str, cases: int, agents: int, profile: bool
) -> tuple[list[Row], list[str]]:
    """Seed a fresh database and run every step on it (in a process of its own)."""
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    seed(engine, cases, agents)
    print(f"{label}: seeded {cases:,} cases, {agents} agents in "
          f"{time.perf_counter() - started:.1f} s (not timed)", flush=True)  # fmt: skip
    steps = Steps(engine, agents, profile)
    steps.initial(cases)
    steps.join()
    steps.leave()
    steps.idle()
    version = ""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            version = f" {connection.scalar(text('SHOW server_version'))}".split(" (")[0]
    engine.dispose()
    for row in steps.rows:
        row.step = f"{label}{version}: {row.step}"
    return steps.rows, [f"{label}: {message}" for message in FAILED]


def in_own_process(label: str, url: str, args: argparse.Namespace) -> tuple[list[Row], list[str]]:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(run_database, label, url, args.cases, args.agents, args.profile).result()


def section(rows: list[Row], failed: list[str], args: argparse.Namespace) -> str:
    lines = [
        "## Call lists", "",
        f"Measured {dt.date.today()} on {machine()}.", "",
        f"Command: `python -m benchmarks.calls --cases {args.cases} --agents {args.agents}` "
        f"(part of `make bench`). One high-hazard recall, {args.cases:,} call-list cases "
        "(95 % French, 4 % English, 1 % German speakers) over "
        f"{args.agents} agents (all speak French, 20 English too, 5 specialists, "
        f"capacity 1 or 2); then {JOINING} agents join, then {LEAVING} leave. "
        f"Each step runs {RUNS} times from the same starting state, rebuilt and vacuumed "
        "(PostgreSQL) or checkpointed (SQLite, a file on disk) outside the timing; the time is "
        "the median wall time of the `assign_call_list` call. *assigned* and *moved* are what "
        "the call reports; *agent changed* is counted in the tables; *fewest moves that "
        "balance* brings every agent within their exact share by capacity, rounded down or up. "
        "Checked after each run, from the tables: every case has an active agent; agents of "
        "equal capacity differ by at most one case; the cases reported are the ones whose agent "
        "changed, each move with its event; a rebalance moves exactly the fewest cases that "
        "balance (computed here) and leaves every agent within their share; with nothing to "
        "do, nothing moves. Peak memory: the largest resident set "
        "of the process that seeded and ran that database.",
        "",
        "| step | active agents | assigned | moved | agent changed | fewest moves that balance "
        "| median seconds | runs (s) | target | peak memory (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---:|",
    ]  # fmt: skip
    for r in rows:
        runs = ", ".join(f"{s:.2f}" for s in r.seconds)
        target = f"< {r.target:g} s: {r.verdict}" if r.target else "-"
        fewest = "-" if r.fewest is None else f"{r.fewest:,}"
        cells = [r.step, r.agents, f"{r.assigned:,}", f"{r.moved:,}", f"{r.changed:,}", fewest,
                 f"{r.median:.2f}", runs, target, f"{r.peak_mb:,.0f}"]  # fmt: skip
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    if failed:
        lines += ["", "Checks that failed (the benchmark exits with status 1):", ""]
        lines += [f"- {message}" for message in failed]
    return "\n".join(lines)


def scale_arguments(description: str | None) -> argparse.ArgumentParser:
    """The options of a benchmark over a launched recall: its size, and whether PostgreSQL runs."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--cases", type=int, default=350_000)
    parser.add_argument("--agents", type=int, default=250)
    parser.add_argument("--skip-postgres", action="store_true")
    return parser


def main() -> None:
    parser = scale_arguments(__doc__)
    parser.add_argument(
        "--profile", action="store_true", help="cProfile one run of each step; docs untouched"
    )
    args = parser.parse_args()
    rows: list[Row] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="recall-calls-") as work:
        found, failures = in_own_process("SQLite", f"sqlite:///{work}/calls.db", args)
        rows, failed = rows + found, failed + failures
    postgres = None if args.skip_postgres else postgres_database()
    if postgres is None and not args.skip_postgres:
        print("PostgreSQL unreachable: skipped", file=sys.stderr)
    if postgres:
        url, drop = postgres
        try:
            found, failures = in_own_process("PostgreSQL", url, args)
            rows, failed = rows + found, failed + failures
        finally:
            drop()
    body = section(rows, failed, args)
    print(body)
    if args.profile:
        print("profiled runs are slower: docs/benchmarks.md left as it was")
    else:
        write_section("Call lists", body)
    if failed:
        sys.exit("checks failed:\n" + "\n".join(failed))


if __name__ == "__main__":
    main()
