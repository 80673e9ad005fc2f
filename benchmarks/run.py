"""Import and identification at scale: time, throughput and peak memory, into docs/benchmarks.md.

python -m benchmarks.run [--customers 1000000] [--lines-per-customer 10] [--no-postgres]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from recall import demo_data
from recall.db.engine import make_engine, upgrade
from recall.importing.service import import_export
from recall.services.cases import build_case_batch
from recall.services.identify import identify_buyers
from recall.services.recalls import load_definition, register_recall

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get(
    "RECALL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass
class Row:
    step: str
    rows: int
    seconds: float
    peak_mb: float

    @property
    def per_second(self) -> str:
        return f"{self.rows / self.seconds:,.0f}" if self.seconds and self.rows else "-"


def peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def timed(
    step: str, rows_of: Callable[[Any], int], action: Callable[[], Any], results: list[Row]
) -> Any:
    print(f"- {step} ...", flush=True)
    started = time.perf_counter()
    outcome = action()
    row = Row(step, rows_of(outcome), time.perf_counter() - started, peak_mb())
    print(
        f"  {row.rows:,} rows in {row.seconds:.1f} s ({row.per_second}/s), "
        f"peak {row.peak_mb:,.0f} MB",
        flush=True,
    )
    results.append(row)
    return outcome


def launch(engine, recall_yaml: Path) -> int:
    definition, raw = load_definition(recall_yaml)
    register_recall(engine=engine, definition=definition, raw=raw)
    found = identify_buyers(engine=engine, definition=definition)
    created = 0
    for batch in range(found.batches):
        created += build_case_batch(engine=engine, definition=definition, batch=batch).created
    return created


def run_database(label: str, url: str, files: demo_data.DemoFiles, results: list[Row]) -> None:
    engine = make_engine(url)
    upgrade(engine)
    both = {"customers": files.customers, "purchases": files.purchases}
    timed(
        f"{label}: import customers",
        lambda r: r.tables[0].rows_read,
        lambda: import_export(engine=engine, files={"customers": files.customers}),
        results,
    )
    timed(
        f"{label}: import purchases",
        lambda r: r.tables[0].rows_read,
        lambda: import_export(engine=engine, files={"purchases": files.purchases}),
        results,
    )
    timed(
        f"{label}: re-import both (nothing changes)",
        lambda r: sum(t.rows_read for t in r.tables),
        lambda: import_export(engine=engine, files=both),
        results,
    )
    definition, _ = load_definition(files.recall_yaml)
    register_recall(engine=engine, definition=definition, raw={})
    found = timed(
        f"{label}: identify buyers of the sample recall",
        lambda r: r.buyers,
        lambda: identify_buyers(engine=engine, definition=definition),
        results,
    )
    timed(
        f"{label}: build cases",
        lambda n: n,
        lambda: sum(
            build_case_batch(engine=engine, definition=definition, batch=b).created
            for b in range(found.batches)
        ),
        results,
    )
    engine.dispose()


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


def write_report(results: list[Row], args: argparse.Namespace, files: demo_data.DemoFiles) -> Path:
    size = files.purchases.stat().st_size / 2**20
    lines = [
        "# Benchmarks",
        "",
        f"Measured {dt.date.today()} on {machine()}.",
        "",
        f"Command: `make bench` (`python -m benchmarks.run --customers {args.customers} "
        f"--lines-per-customer {args.lines_per_customer}`). Data: `recall demo-data` output, "
        f"purchases file {size:,.0f} MB of CSV. Peak memory is the largest resident set of the "
        "benchmark process or its helper process so far.",
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
    if out.exists() and "\n## " in out.read_text(encoding="utf-8"):
        later = "\n## " + out.read_text(encoding="utf-8").split("\n## ", 1)[1]
    out.write_text("\n".join(lines) + "\n" + later, encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lines-per-customer", type=float, default=10.0)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    work = ROOT / "var" / "bench"
    data_dir = work / f"data-{args.customers}-{args.lines_per_customer:g}"
    results: list[Row] = []
    files = timed(
        "generate demo data (purchase lines)",
        lambda f: _count_lines(f.purchases),
        lambda: demo_data.generate(
            out_dir=data_dir, customers=args.customers, lines_per_customer=args.lines_per_customer
        ),
        results,
    )
    sqlite_file = work / "bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)
    run_database("SQLite", f"sqlite:///{sqlite_file}", files, results)
    postgres = None if args.no_postgres else postgres_database()
    if postgres:
        url, drop = postgres
        try:
            run_database("PostgreSQL", url, files, results)
        finally:
            drop()
    print(f"written {write_report(results, args, files)}")


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 24), b"")) - 1


if __name__ == "__main__":
    main()
