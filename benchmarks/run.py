"""The main job at full scale, end to end, into docs/benchmarks.md: the loyalty export imported,
then `recall launch` (the command itself, in its own process) of a recall of about 345,000
buyers over 250 agents, each step beside a peer measured in the same run: pandas.to_sql and a
bare COPY for the import, one SQL GROUP BY for the identification. A second launch is killed
with kill -9 while its letters are drawn, then launched again, and checked.

python -m benchmarks.run [--customers 1000000] [--lines-per-customer 10] [--agents 250]
                         [--no-postgres] [--no-crash]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from benchmarks import import_peers
from recall import demo_data
from recall.calling.agents import import_agents
from recall.db.engine import make_engine, upgrade
from recall.db.models import Agent, Case, Letter, LetterBatch, QueueEntry
from recall.domain.calling import WORKABLE
from recall.importing.service import import_export

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get(
    "RECALL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
RECALL = [sys.executable, "-m", "recall.cli"]
RECALL_ID = "R-BENCH-345"
OTHER_SKUS = 60  # with the drill, every lot, a whole year: about 345,000 buyers
TARGETS = {"identify": 2.0, "import_postgresql": 2.0, "import_sqlite": 1.5}
FAILED: list[str] = []


@dataclass
class Row:
    step: str
    rows: int
    seconds: float
    peak_mb: float

    @property
    def per_second(self) -> str:
        return f"{self.rows / self.seconds:,.0f}" if self.seconds and self.rows else "-"


@dataclass
class Launch:
    """One `recall launch`: when each of its lines appeared, from the command's start."""

    at: dict[str, float] = field(default_factory=dict)
    said: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def figure(self, marker: str, pattern: str) -> float:
        found = re.search(pattern, self.said.get(marker, ""))
        return float(found.group(1).replace(",", "")) if found else float("nan")


MARKERS = {
    "flow started": "Beginning flow run",
    "identified": "buyers in",
    "cases built": "cases: ",
    "call list": "call list ready",
    "letters planned": "letters planned",
    "letters rendered": "rendered in",
    "all letters": "letters and notices done",
}


def peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def imported(step: str, url: str, files: dict[str, Path], results: list[Row]) -> None:
    """One import, run by `benchmarks.import_step` in a process of its own: its time and its
    own peak memory, not the benchmark's."""
    print(f"- {step} ...", flush=True)
    tables = [f"{name}={path}" for name, path in files.items()]
    done = subprocess.run([sys.executable, "-m", "benchmarks.import_step", url, *tables],
                          check=True, capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    row = Row(step, figures["rows"], figures["seconds"], figures["peak_mb"])
    print(f"  {row.rows:,} rows in {row.seconds:.1f} s ({row.per_second}/s), "
          f"peak {row.peak_mb:,.0f} MB", flush=True)  # fmt: skip
    results.append(row)


def timed(
    step: str, rows_of: Callable[[Any], int], action: Callable[[], Any], results: list[Row]
) -> Any:
    print(f"- {step} ...", flush=True)
    started = time.perf_counter()
    outcome = action()
    row = Row(step, rows_of(outcome), time.perf_counter() - started, peak_mb())
    print(f"  {row.rows:,} rows in {row.seconds:.1f} s ({row.per_second}/s), "
          f"peak {row.peak_mb:,.0f} MB", flush=True)  # fmt: skip
    results.append(row)
    return outcome


def recall_yaml(folder: Path, recall_id: str) -> Path:
    """The benchmark's recall: the demo drill and 60 more products, every lot, a whole year."""
    skus = [demo_data.RECALLED_SKU] + [f"3276000{n:06d}" for n in range(1, OTHER_SKUS + 1)]
    products = "\n".join(f'  - sku: "{sku}"' for sku in skus)
    path = folder / f"{recall_id}.yaml"
    path.write_text(
        f'id: {recall_id}\ntitle: "Gamme X200 - risque de brûlure"\nhazard: high\n'
        f"products:\n{products}\nsold_from: 2025-09-01\nsold_to: 2026-10-31\n"
        'remedies: [refund, replacement, repair]\nhotline: "0 800 123 456"\n'
        'product_name: "Gamme X200"\nrisk: "La batterie peut surchauffer et brûler."\n'
        "call:\n  max_attempts: 5\n  retry_after: 4h\n  timezone: Europe/Paris\n"
        # The launch is timed here; sending the e-mails is benchmarks.reach's (without an SMTP
        # server, `recall launch` would write them all to an outbox of .eml files).
        "notify: [letter]\n",
        encoding="utf-8",
    )
    return path


def group_by_peer(engine: Engine) -> tuple[float, int]:
    """One SQL GROUP BY giving the same buyers and what a case needs of them (net units, first
    and last purchase, lots, products, stores), from the same tables; the faster of two runs."""
    skus = [demo_data.RECALLED_SKU] + [f"3276000{n:06d}" for n in range(1, OTHER_SKUS + 1)]
    listed = "string_agg(DISTINCT {0}, ',')" if engine.dialect.name == "postgresql" else (
        "group_concat(DISTINCT {0})"
    )  # fmt: skip
    # The outer query reads every list: a bare COUNT(*) lets PostgreSQL's planner drop them
    # (the plan's width falls to 19 bytes), and the peer would no longer compute what a case needs.
    sizes = " + ".join(f"COALESCE(length({name}), 0)" for name in ("lots", "skus", "stores"))
    query = text(
        f"SELECT COUNT(*), SUM({sizes} + units), MIN(first_on), MAX(last_on) FROM ("
        "SELECT p.customer_id, SUM(p.quantity) AS units, MIN(p.purchased_on) AS first_on, "
        f"MAX(p.purchased_on) AS last_on, {listed.format('p.lot')} AS lots, "
        f"{listed.format('p.sku')} AS skus, {listed.format('p.store_id')} AS stores "
        "FROM purchases p JOIN customers c "
        "ON c.customer_id = p.customer_id WHERE p.sku IN ("
        + ", ".join(f"'{sku}'" for sku in skus)
        + ") AND p.purchased_on BETWEEN '2025-09-01' AND '2026-10-31' "
        "GROUP BY p.customer_id HAVING SUM(p.quantity) > 0) AS buyers"
    )
    runs = []
    for _ in range(2):
        started = time.perf_counter()
        with engine.connect() as connection:
            buyers = int(connection.execute(query).scalar_one() or 0)
        runs.append(time.perf_counter() - started)
    return min(runs), buyers


def halfway_through_letters(line: str) -> bool:
    drawn = re.search(r"letter batches: (\d+)/(\d+)", line)
    return bool(drawn) and 2 * int(drawn.group(1)) >= int(drawn.group(2))


def launch(
    env: dict[str, str], definition: Path, kill_at: Callable[[str], bool] | None = None
) -> Launch:
    """Run `recall launch`, noting when each step's line appears; kill -9 it once a line it
    prints makes `kill_at` true."""
    run = Launch()
    started = time.perf_counter()
    process = subprocess.Popen(
        [*RECALL, "launch", str(definition)], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    assert process.stdout is not None
    tail: list[str] = []
    for line in process.stdout:
        tail = [*tail[-30:], line]
        for name, marker in MARKERS.items():
            if marker in line and name not in run.at:
                run.at[name], run.said[name] = time.perf_counter() - started, line.strip()
                said = line.strip().split(" - ", 1)[-1]  # the message, without Prefect's prefix
                print(f"  {run.at[name]:7.1f} s  {name}: {said[:140]}", flush=True)
        if kill_at and kill_at(line):
            os.killpg(process.pid, signal.SIGKILL)
            break
    process.wait()
    run.seconds = time.perf_counter() - started
    if process.returncode != (-signal.SIGKILL if kill_at else 0):
        raise SystemExit(f"recall launch ended with {process.returncode}:\n{''.join(tail)}")
    return run


def check_launch(engine: Engine, recall_id: str, letters_dir: Path) -> dict[str, int]:
    """What the tables say of a finished launch; failed checks are kept and reported."""
    with Session(engine) as session:
        of_recall = Case.recall_id == recall_id
        cases = session.scalar(select(func.count()).where(of_recall)) or 0
        customers = session.scalar(select(func.count(func.distinct(Case.customer_id))).where(
            of_recall)) or 0  # fmt: skip
        to_call = session.scalar(select(func.count()).where(
            of_recall, Case.call, Case.status.in_([s.value for s in WORKABLE]))) or 0  # fmt: skip
        held = session.scalar(
            select(func.count()).select_from(Case)
            .join(QueueEntry, QueueEntry.case_id == Case.id)
            .join(Agent, Agent.agent_id == QueueEntry.agent_id)
            .where(of_recall, Case.call, Agent.active)
        ) or 0  # fmt: skip
        with_letter = session.scalar(select(func.count()).where(of_recall, Case.letter)) or 0
        letters = session.scalar(
            select(func.count()).where(Letter.recall_id == recall_id, Letter.page.is_not(None))
        ) or 0  # fmt: skip
        waiting = (LetterBatch.recall_id == recall_id, LetterBatch.rendered_at.is_(None))
        unrendered = session.scalar(select(func.count()).where(*waiting)) or 0
    manifest = letters_dir / "manifest.csv"
    listed = sum(1 for _ in manifest.open(encoding="utf-8")) - 1 if manifest.exists() else 0
    checks = {
        f"{recall_id}: one case per customer": cases == customers,
        f"{recall_id}: every call case with one active agent": held == to_call,
        f"{recall_id}: one rendered letter per letter case": letters == with_letter,
        f"{recall_id}: every letter batch rendered": unrendered == 0,
        f"{recall_id}: manifest lists every letter once": listed == with_letter,
    }
    FAILED.extend(name for name, ok in checks.items() if not ok)
    return {"cases": cases, "to_call": to_call, "letters": with_letter}


def run_database(
    label: str, url: str, files: demo_data.DemoFiles, args: argparse.Namespace, work: Path
) -> tuple[list[Row], list[tuple]]:
    results: list[Row] = []
    launches: list[tuple] = []
    engine = make_engine(url)
    upgrade(engine)
    customers = {"customers": files.customers}
    both = {**customers, "purchases": files.purchases}
    imported(f"{label}: import customers", url, customers, results)
    imported(f"{label}: import purchases", url, {"purchases": files.purchases}, results)
    purchases = results[-1]
    peer_name = "bare COPY into an unindexed table" if engine.dialect.name == "postgresql" else (
        "pandas.to_sql of the same rows"
    )  # fmt: skip
    peer = import_peers.in_child("bare_copy" if engine.dialect.name == "postgresql" else "to_sql",
                                 url, args.checked_rows)  # fmt: skip
    launches.append((label, "import the purchase lines", purchases.rows, purchases.seconds,
                     peer_name, peer, f"import_{engine.dialect.name}"))  # fmt: skip
    imported(f"{label}: re-import both (nothing changes)", url, both, results)
    import_export(engine=engine, files={"products": files.products, "stores": files.stores})
    import_agents(engine=engine, path=args.agents_csv)
    env = dict(os.environ, RECALL_DATABASE_URL=url, RECALL_DATA_DIR=str(work / label),
               PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")  # fmt: skip
    env.pop("PREFECT_API_URL", None)
    subprocess.run([*RECALL, "engine", "start"], env=env, check=True, capture_output=True)
    peer_seconds, peer_buyers = group_by_peer(engine)
    print(f"- {label}: recall launch of {RECALL_ID} ...", flush=True)
    run = launch(env, recall_yaml(work, RECALL_ID))
    figures = check_launch(engine, RECALL_ID, work / label / "letters" / RECALL_ID)
    identified = run.figure("identified", r"\(([\d.]+) s\)")
    launches += [
        (label, "identify the buyers", figures["cases"], identified, "one SQL GROUP BY",
         peer_seconds, "identify"),
        (label, "build the cases", figures["cases"], run.figure("cases built", r"in ([\d.]+) s"),
         "", 0.0, ""),
        (label, "call list assigned and workable (from the command's start)", figures["to_call"],
         run.at.get("call list", float("nan")), "", 0.0, ""),
        (label, "all letters rendered (from the command's start)", figures["letters"],
         run.at.get("all letters", float("nan")), "", 0.0, ""),
        (label, "the whole command", figures["cases"], run.seconds, "", 0.0, ""),
        (label, "flow started (the command's fixed cost, engine running)", 0,
         run.at.get("flow started", float("nan")), "", 0.0, ""),
    ]  # fmt: skip
    print(f"  peer GROUP BY: {peer_buyers:,} buyers in {peer_seconds:.2f} s", flush=True)
    if args.crash:
        crashed = f"{RECALL_ID}-K"
        print(f"- {label}: {crashed} killed halfway through its letters, then launched again",
              flush=True)  # fmt: skip
        launch(env, recall_yaml(work, crashed), kill_at=halfway_through_letters)
        again = launch(env, recall_yaml(work, crashed))
        check_launch(engine, crashed, work / label / "letters" / crashed)
        step = "relaunch after kill -9 halfway through the letters"
        launches.append((label, step, 0, again.seconds, "", 0.0, ""))
    subprocess.run([*RECALL, "engine", "stop"], env=env, check=True, capture_output=True)
    engine.dispose()
    return results, launches


def postgres_database() -> tuple[str, Callable[[], None]] | None:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"recall_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:
        return None

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False), drop


def write_section(title: str, body: str) -> None:
    """Replace the section `## title` of docs/benchmarks.md with `body`, or add it."""
    out = ROOT / "docs" / "benchmarks.md"
    old = out.read_text(encoding="utf-8") if out.exists() else "# Benchmarks\n"
    start = old.find(f"\n## {title}\n")
    if start == -1:
        new = old.rstrip("\n") + "\n\n" + body + "\n"
    else:
        end = old.find("\n## ", start + 1)
        new = old[:start] + "\n" + body + "\n" + (old[end:] if end != -1 else "")
    out.write_text(new, encoding="utf-8")
    print(f"written {out}")


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, "
        f"Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )


def write_report(
    results: list[Row], launches: list[tuple], args: argparse.Namespace,
    files: demo_data.DemoFiles,
) -> Path:  # fmt: skip
    size = files.purchases.stat().st_size / 2**20
    lines = [
        "# Benchmarks",
        "",
        f"Measured {dt.date.today()} on {machine()}.",
        "",
        f"Command: `make bench` (`python -m benchmarks.run --customers {args.customers} "
        f"--lines-per-customer {args.lines_per_customer:g} --agents {args.agents}`). Data: "
        f"`recall demo-data` output, purchases file {size:,.0f} MB of CSV.",
        "",
        "## Launch at full scale",
        "",
        f"`recall launch` of {RECALL_ID} (the demo drill and {OTHER_SKUS} more products, every "
        "lot, sold 2025-09-01 to 2026-10-31) run as a command in its own process, the local flow "
        "engine already running, over the database the import below filled; times are read from "
        "the command's own lines as they appear. Each peer is measured in the same run, on the "
        "same tables: *one SQL GROUP BY* gives the same buyers with what a case needs of them "
        "(net units, first and last purchase, lots, products, stores, joined to the customers; "
        "the faster of two runs, after the import warmed the cache); *pandas.to_sql* and *bare "
        "COPY* load the same checked purchase lines into a table with no index.",
        "",
        "| database | step | rows | seconds | peer | peer seconds | ratio | target |",
        "|---|---|---:|---:|---|---:|---:|---|",
    ]
    for label, step, rows, seconds, peer, peer_seconds, target in launches:
        ratio = seconds / peer_seconds if peer_seconds else None
        limit = TARGETS.get(target)
        verdict = ("met" if ratio is not None and ratio <= limit else "**missed**") if limit else ""
        lines.append(
            f"| {label} | {step} | {rows:,} | {seconds:.1f} | {peer or '-'} | "
            + (f"{peer_seconds:.1f} | {ratio:.2f}x | <= {limit}x: {verdict} |" if ratio else
               "- | - | |")
        )  # fmt: skip
    lines += [
        "",
        "Checks after every launch, from the tables: one case per customer; every call case "
        "with exactly one active agent; one rendered letter per letter case, every batch "
        "rendered, the manifest listing each once"
        + (f". **Failed: {', '.join(FAILED)}**." if FAILED else ": all passed."),
        "",
        "## Import",
        "",
        "Each import runs in a process of its own (`benchmarks/import_step.py`); its peak memory "
        "is the largest resident set of that process or its checking process.",
        "",
        "| step | rows | seconds | rows/s | peak memory (MB) |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r.step} | {r.rows:,} | {r.seconds:.1f} | {r.per_second} | {r.peak_mb:,.0f} |"
        for r in results
    ]
    out = ROOT / "docs" / "benchmarks.md"
    later = ""  # sections written by the other benchmarks stay
    if out.exists():
        kept = out.read_text(encoding="utf-8").split("\n## ")[1:]
        later = "".join(
            "\n## " + part for part in kept
            if not part.startswith(("Launch at full scale", "Import\n"))
        )  # fmt: skip
    out.write_text("\n".join(lines) + "\n" + later, encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lines-per-customer", type=float, default=10.0)
    parser.add_argument("--agents", type=int, default=250)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-crash", dest="crash", action="store_false")
    args = parser.parse_args()
    work = ROOT / "var" / "bench"
    data_dir = work / f"data-{args.customers}-{args.lines_per_customer:g}"
    results: list[Row] = []
    files = timed(
        "generate demo data (purchase lines)",
        lambda f: _count_lines(f.purchases),
        lambda: _demo_export(data_dir, args),
        results,
    )
    args.agents_csv = demo_data.write_agents(work / "roster", count=args.agents)
    args.checked_rows = work / "checked-purchases.csv"
    import_peers.checked_rows_csv(files.purchases, args.checked_rows)
    runs = work / "runs"
    subprocess.run(["rm", "-rf", str(runs)], check=True)
    runs.mkdir(parents=True)
    sqlite_file = runs / "bench.db"
    found, launches = run_database("SQLite", f"sqlite:///{sqlite_file}", files, args, runs)
    results += found
    postgres = None if args.no_postgres else postgres_database()
    if postgres:
        url, drop = postgres
        try:
            found, more = run_database("PostgreSQL", url, files, args, runs)
            results += found
            launches += more
        finally:
            drop()
    print(f"written {write_report(results, launches, args, files)}")
    if FAILED:
        sys.exit("checks failed: " + "; ".join(FAILED))


def _demo_export(data_dir: Path, args: argparse.Namespace) -> demo_data.DemoFiles:
    """The demo export, generated once: the same seed gives the same files."""
    done = data_dir / ".complete"
    files = demo_data.DemoFiles(*(data_dir / f"{name}.csv" for name in
                                  ("customers", "purchases", "products", "stores")),
                                recall_yaml=data_dir / "recall.yaml")  # fmt: skip
    if not done.exists():
        files = demo_data.generate(
            out_dir=data_dir, customers=args.customers, lines_per_customer=args.lines_per_customer
        )
        done.touch()
    return files


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 24), b"")) - 1


if __name__ == "__main__":
    main()
