"""Digital reach at scale (issue 19): e-mail notices to a real SMTP server, then the customers'
self-service page under load, into docs/benchmarks.md.

    python -m benchmarks.reach [--cases 350000] [--connections 16] [--customers 500]
                               [--peer-messages 50000] [--skip-postgres] [--skip-sqlite]
                               [--profile]

One recall of `cases` cases, every customer with a valid e-mail address (nine in ten French,
one in ten English), written straight into a fresh database (a SQLite file, then a throw-away
PostgreSQL database) and queued by `queue_digital_notices`. The e-mails are sent by `recall
email send`, the command itself in its own process, over `connections` connections with no
rate limit, to an aiosmtpd server (tests/smtp_server.py) in another process that counts what
it takes per address; afterwards every address must have had exactly one message, every
outbox row be `sent`, every case be notified by e-mail with its event. Its peer, in the same
run: a bare smtplib loop over as many connections to a server started the same way, sending
one pre-composed message of the recall (no database, no composing), as fast as the server
takes them. Then the self-service page, `recall serve` (2 workers, behind a trusted proxy,
the page's rate limits on) over the same database: `customers` simulated customers (httpx),
each from an address of its own, all opening their link within 10 s, then reading 5 to 15 s
before typing their postal code (the page comes back with the form) and again before choosing
a refund at their store (the thanks come back): the last arrives before the first leaves.
Afterwards every answer must be one web_answers row, its case resolved with its events on
the `web` channel. Its peer: as many clients at the same pace asking `/health` of the same
server (no database, no page). Latencies are measured by the clients, request to response.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, insert, text

from benchmarks import reach_emails, reach_page
from benchmarks.console import percentile
from benchmarks.reach_emails import Sent
from benchmarks.reach_page import Load
from benchmarks.run import machine, postgres_database, write_section
from recall.campaign.definitions import register_recall
from recall.db.engine import make_engine, upgrade
from recall.db.models import Case, Customer, Store
from recall.domain.definition_parsing import parse_definition
from recall.reach.queue import queue_digital_notices

RECALL_ID = "R-REACH"
RAW = {
    "id": RECALL_ID, "title": "Perceuse X200 - risque de brûlure", "hazard": "high",
    "products": [{"sku": "3276000123456", "lots": ["L4410..L4420"]}],
    "sold_from": "2026-01-01", "sold_to": "2026-06-30",
    "product_name": "Perceuse-visseuse X200 18 V",
    "risk": {"fr": "La batterie peut surchauffer pendant la charge et brûler.",
             "en": "The battery can overheat while charging and burn."},
    "hotline": "0 800 123 456", "notify": ["email", "letter"],
}  # fmt: skip
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)  # a Monday, within the calling hours
SOLD_FROM = dt.date(2026, 1, 1)
STORES = 120
CHUNK = 50_000
EMAIL_TARGET = (350_000, 300.0)  # e-mails, seconds
P95_TARGET_MS = 200.0
Rows = Callable[[int, int], list[dict]]


def address(n: int) -> str:
    return f"client{n:07d}@exemple.fr"


def customer_rows(start: int, stop: int) -> list[dict]:
    return [
        {"customer_id": f"{n:010d}", "first_name": "Élodie", "last_name": f"Client {n}",
         "email": address(n), "email_valid": True, "phone": None, "phone_e164": None,
         "address_line1": f"{n % 200 + 1} rue de l'Église", "postal_code": f"{69001 + n % 9}",
         "city": "Lyon", "country": "FR", "language": "en" if n % 10 == 9 else "fr",
         "do_not_call": False, "row_hash": "x"}
        for n in range(start, stop)
    ]  # fmt: skip


def case_rows(start: int, stop: int) -> list[dict]:
    return [
        {"recall_id": RECALL_ID, "customer_id": f"{n:010d}", "seq": n + 1,
         "case_ref": f"{RECALL_ID}-{n + 1:06d}", "status": "identified",
         "quantity": 1 + (n % 7 == 0), "lots": f"L{4410 + n % 11}", "skus": "3276000123456",
         "stores": f"S{n % STORES + 1:03d}", "first_purchase": SOLD_FROM + dt.timedelta(n % 181),
         "last_purchase": SOLD_FROM + dt.timedelta(n % 181), "letter": True, "call": False,
         "notice_only": False, "phone_e164": None, "phone_invalid": False,
         "language": "en" if n % 10 == 9 else "fr", "priority": None,
         "call_zone": "Europe/Paris", "attempts": 0, "created_at": NOW, "updated_at": NOW}
        for n in range(start, stop)
    ]  # fmt: skip


def populate(engine: Engine, cases: int) -> None:
    """The recall, its stores, customers and cases (as a launch leaves them), their e-mails
    queued."""
    upgrade(engine)
    definition = parse_definition(RAW)
    register_recall(engine=engine, definition=definition, raw=RAW, clock=lambda: NOW)
    with engine.begin() as connection:
        connection.execute(insert(Store), [
            {"store_id": f"S{n:03d}", "name": f"Brico Maison {n}", "city": "Lyon",
             "region": "Rhône", "row_hash": "x"} for n in range(1, STORES + 1)
        ])  # fmt: skip
    _write(engine, "customers", customer_rows, cases)
    _analyze(engine, "ANALYZE customers")  # as the import does after a large file
    _write(engine, "cases", case_rows, cases)
    queued = queue_digital_notices(engine=engine, definition=definition,
                                   mail_domain="brico.example", clock=lambda: NOW)  # fmt: skip
    if queued.emails != cases:
        raise SystemExit(f"{queued.emails:,} e-mails queued for {cases:,} cases")
    _analyze(engine, "VACUUM ANALYZE")  # what autovacuum does while the notices wait


def _write(engine: Engine, table: str, rows_of: Rows, count: int) -> None:
    """Rows in bulk: COPY on PostgreSQL, one executemany per chunk on SQLite."""
    chunks = (rows_of(s, min(s + CHUNK, count)) for s in range(0, count, CHUNK))
    if engine.dialect.name != "postgresql":
        model = {"customers": Customer, "cases": Case}[table]
        with engine.begin() as connection:
            for chunk in chunks:
                connection.execute(insert(model), chunk)
        return
    raw = engine.raw_connection()
    try:
        first = next(chunks)
        statement = f"COPY {table} ({', '.join(first[0])}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[attr-defined]
            for chunk in itertools.chain([first], chunks):
                for row in chunk:
                    copy.write_row(list(row.values()))
        raw.commit()
    finally:
        raw.close()


def _analyze(engine: Engine, statement: str) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(statement))


def measure(label: str, url: str, args: argparse.Namespace, work: Path) -> tuple[Sent, list[Load]]:
    engine = make_engine(url)
    started = time.perf_counter()
    populate(engine, args.cases)
    print(f"{label}: {args.cases:,} cases seeded, their e-mails queued in "
          f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
    if args.profile:
        reach_emails.profile_sender(url, RECALL_ID, args.connections, NOW)
        sys.exit(0)
    if not args.message:
        args.message = reach_emails.sample_message(url, RECALL_ID, NOW)
    addresses = [address(n) for n in range(args.cases)]
    sent = reach_emails.send_by_command(label, url, RECALL_ID, addresses, args.connections,
                                        work, NOW)  # fmt: skip
    loads = reach_page.measure_page(label, url, engine, args.customers)
    engine.dispose()
    return sent, loads


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def failed(checks: dict[str, bool]) -> str:
    missed = [name for name, ok in checks.items() if not ok]
    return "all passed" if not missed else "FAILED: " + ", ".join(missed)


def email_table(runs: list[Sent], peer: Sent) -> list[str]:
    count, seconds = EMAIL_TARGET
    lines = [
        "| database | sender | e-mails | seconds | per second | sender's processor s | "
        "server's processor s | peer / sender | target | machine's load | checks |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for run in [*runs, peer]:
        target = "-"
        if run is not peer:
            limit = seconds * run.messages / count
            target = f"{count:,} in < {seconds:.0f} s: {verdict(run.seconds < limit)}"
        ratio = f"{peer.per_second / run.per_second:.2f}x" if run is not peer else "1x"
        lines.append(
            f"| {run.label} | {run.what} | {run.messages:,} | {run.seconds:.1f} | "
            f"{run.per_second:,.0f} | {run.cpu:.1f} | {run.server_cpu:.1f} | {ratio} | "
            f"{target} | {run.machine_load:.1f} | {failed(run.checks)} |"
        )
    return lines


def page_table(loads: list[Load]) -> list[str]:
    lines = [
        "| database | requests to | customers | at once | requests | step | p50 ms | p95 ms | "
        "p99 ms | p95 / peer's | p95 target | server's processor per request | database "
        "connections opened | machine's load | checks |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    peers = {load.label: load for load in loads if load.what == "peer"}
    for load in loads:
        peer = peers[load.label]
        steps = [("all", load.everything())]
        if load.what == "page":
            steps += [(step, load.latencies[step]) for step in reach_page.STEPS]
        for step, values in steps:
            p95 = percentile(values, 0.95)
            ratio = f"{p95 / peer.p95():.1f}x" if load is not peer and peer.p95() else "1x"
            target = f"< {P95_TARGET_MS:.0f}: {verdict(p95 < P95_TARGET_MS)}"
            whole = [
                f"{load.customers}", f"{load.most_active}", f"{len(values):,}", step,
                f"{statistics.median(values) if values else 0:.0f}", f"{p95:.0f}",
                f"{percentile(values, 0.99):.0f}", ratio, target if load is not peer else "-",
                f"{1000 * load.server_cpu / max(1, len(values)):.1f} ms",
                "-" if load.connections is None else f"{load.connections:,}",
                f"{load.machine_load:.1f}", failed(load.checks),
            ]  # fmt: skip
            if step != "all":  # the figures of the whole visit are said once
                for column in (0, 1, 9, 10, 11, 12):
                    whole[column] = ""
            where = "the page" if load.what == "page" else "peer: /health"
            lines.append(f"| {load.label} | {where} | " + " | ".join(whole) + " |")
    return lines


def section(runs: list[Sent], peer: Sent, loads: list[Load], args: argparse.Namespace) -> str:
    command = (
        f"python -m benchmarks.reach --cases {args.cases} --connections {args.connections} "
        f"--customers {args.customers} --peer-messages {args.peer_messages}"
    )
    about = " ".join((__doc__ or "").split("\n\n")[2].split())
    return "\n".join([
        "## Digital reach: e-mails and the self-service page", "",
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}.", "",
        f"Command: `{command}` (part of `make bench`). {about}", "",
        f"E-mails: one message is {peer.size:,} bytes (text and HTML, base64).", "",
        *email_table(runs, peer), "",
        *page_table(loads),
    ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=350_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--peer-messages", type=int, default=50_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--profile", action="store_true", help="profile the sender on SQLite")
    args = parser.parse_args()
    args.message = b""
    runs: list[Sent] = []
    loads: list[Load] = []
    with tempfile.TemporaryDirectory(prefix="recall-reach-bench-") as folder:
        work = Path(folder)
        if not args.skip_sqlite or args.profile:
            sent, measured = measure("SQLite", f"sqlite:///{work / 'recall.db'}", args, work)
            runs.append(sent)
            loads += measured
        if not args.skip_postgres:
            database = postgres_database()
            if database is None:
                sys.exit("PostgreSQL is not reachable: run with --skip-postgres")
            url, drop = database
            try:
                sent, measured = measure("PostgreSQL", url, args, work)
                runs.append(sent)
                loads += measured
            finally:
                drop()
    peer = reach_emails.bare_smtp(args.peer_messages, args.connections, args.message)
    write_section("Digital reach: e-mails and the self-service page",
                  section(runs, peer, loads, args))  # fmt: skip
    checks = [run.checks for run in [*runs, peer]] + [load.checks for load in loads]
    if not all(all(c.values()) for c in checks):
        sys.exit("checks failed")


if __name__ == "__main__":
    main()
