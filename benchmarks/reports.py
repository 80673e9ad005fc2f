"""The progress report and the follow-up pass at scale, into docs/benchmarks.md.

    python -m benchmarks.reports [--cases 350000] [--agents 250] [--skip-postgres]

One high-hazard recall of `cases` call-list cases over `agents` agents, ten days into its
campaign: every case identified on day 0; over days 0-9, 45 % reached by phone (notified and
contacted), 22 % notified by a letter, 3 % unreachable after unanswered calls; 30 % resolved
with a remedy (two thirds of them carried out), 5 % declined; one call per called case; an
incident per 1,000 cases; 500 callbacks missed by their agent. Written straight into a fresh
database (SQLite file, then a throw-away PostgreSQL database); timed: `write_progress_report`
(every figure, the PDF and its CSVs), the regulator's monthly report (figures, PDF and CSV),
a file of fulfilments from the retailer (every refund agreed and not paid yet), drawing the
effectiveness check (level B, a quarter of those notified) and one `follow_up`
pass (the missed callbacks handed on, the rebalance, the SLA; then passes with nothing left
to do). Reports run 3 times, the median is reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, insert, select, text, update

from benchmarks.calls import NOW, RAW, scale_arguments, seed
from benchmarks.run import machine, peak_mb, postgres_database, write_section
from recall.calling.assignment import assign_call_list
from recall.calling.follow_up import follow_up
from recall.db.engine import make_engine, upgrade
from recall.db.models import CallAttempt, Case, CaseEvent, Fulfilment, Incident, QueueEntry
from recall.remedies.fulfilment_file import import_fulfilments
from recall.reporting.effectiveness import draw_checks
from recall.reporting.files import write_progress_report
from recall.reporting.monthly import monthly_report, write_monthly_report
from recall.settings import PROJECT_TEMPLATES

RUNS = 3
DAY0 = NOW - dt.timedelta(days=10)
REPORT_TARGET = 10.0
CHUNK = 50_000


def fate(n: int) -> list[tuple[str, int]]:
    """The status steps of case n, with the day each was reached."""
    draw, day = n % 100, n % 10
    steps = [("identified", 0)]
    if draw < 67:
        steps.append(("notified", day))
    if draw < 45:
        steps.append(("contacted", day))
    if draw < 30:
        steps.append(("resolved", day))
    elif draw < 35:
        steps.append(("declined", day))
    elif 67 <= draw < 70:
        steps.append(("unreachable", day))
    return steps


def notified_by(n: int) -> str | None:
    draw = n % 100
    return "phone" if draw < 45 else "letter" if draw < 67 else None


def populate(engine: Engine, cases: int, agents: int) -> None:
    seed(engine, cases, agents)
    assign_call_list(
        engine=engine, recall_id=str(RAW["id"]), home_language="fr", clock=lambda: DAY0
    )
    with engine.begin() as connection:
        ids = connection.scalars(select(Case.id).order_by(Case.id)).all()
        owners = dict(
            connection.execute(select(QueueEntry.case_id, QueueEntry.agent_id)).tuples().all()
        )
    events, attempts, finals = [], [], {}
    for n, case_id in enumerate(ids):
        steps = fate(n)
        old = None
        for status, day in steps:
            at = DAY0 + dt.timedelta(days=day, hours=1 + n % 8)
            channel = "letter" if status == "notified" and notified_by(n) == "letter" else "phone"
            events.append({"case_id": case_id, "at": at, "actor": "bench", "channel": channel,
                           "old_status": old, "new_status": status, "note": None})  # fmt: skip
            old = status
        finals[case_id] = steps[-1][0]
        if notified_by(n) != "letter" and len(steps) > 1:
            at = DAY0 + dt.timedelta(days=steps[1][1], hours=1 + n % 8)
            reached = steps[-1][0] in ("contacted", "resolved", "declined")
            attempts.append({"case_id": case_id, "agent_id": owners[case_id], "started_at": at,
                             "ended_at": at + dt.timedelta(minutes=4), "duration_s": 240,
                             "disposition": "reached" if reached else "no_answer"})  # fmt: skip
    with engine.begin() as connection:
        for start in range(0, len(events), CHUNK):
            connection.execute(insert(CaseEvent), events[start : start + CHUNK])
        for start in range(0, len(attempts), CHUNK):
            connection.execute(insert(CallAttempt), attempts[start : start + CHUNK])
        for status in ("notified", "contacted", "resolved", "declined", "unreachable"):
            for channel in ("phone", "letter", None):
                chosen = [c for n, (c, s) in enumerate(finals.items())
                          if s == status and notified_by(n) == channel]  # fmt: skip
                for start in range(0, len(chosen), CHUNK):
                    connection.execute(
                        update(Case).where(Case.id.in_(chosen[start : start + CHUNK]))
                        .values(status=status, notified_by=channel, first_channel="call",
                                outcome="refund" if status == "resolved" else None,
                                agreed_at=DAY0 if status == "resolved" else None,
                                attempts=1 if status == "unreachable" else 0)
                    )  # fmt: skip
        resolved = [c for c, s in finals.items() if s == "resolved"]
        done = [{"case_id": c, "recall_id": str(RAW["id"]), "kind": "refund_paid", "units": 1,
                 "amount": "49.90", "currency": "EUR",
                 "done_on": (DAY0 + dt.timedelta(days=i % 10)).date(),
                 "source": "file", "recorded_by": "bench", "recorded_at": NOW}
                for i, c in enumerate(resolved) if i % 3]  # fmt: skip
        for start in range(0, len(done), CHUNK):
            connection.execute(insert(Fulfilment), done[start : start + CHUNK])
        harmed = [{"case_id": c, "recall_id": str(RAW["id"]), "kind": "burn",
                   "severity": ("injury", "property_damage", "none")[i % 3],
                   "occurred_on": (DAY0 - dt.timedelta(days=i % 20)).date(),
                   "recorded_by": "bench", "recorded_at": DAY0 + dt.timedelta(days=i % 10)}
                  for i, c in enumerate(ids[::1000])]  # fmt: skip
        connection.execute(insert(Incident), harmed)
        missed = [c for c, s in finals.items() if s == "contacted"][:500]
        connection.execute(
            update(Case).where(Case.id.in_(missed)).values(
                callback_at=NOW - dt.timedelta(hours=5), callback_agent=select(QueueEntry.agent_id)
                .where(QueueEntry.case_id == Case.id).scalar_subquery())
        )  # fmt: skip
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


PEER = (
    "SELECT first_channel, status, notified_by IS NULL, COUNT(*), SUM(quantity) FROM cases "
    "WHERE recall_id = :r GROUP BY first_channel, status, notified_by IS NULL",
    "SELECT e.case_id, e.new_status, MIN(e.at), MAX(e.at) FROM case_events e "
    "JOIN cases c ON c.id = e.case_id WHERE c.recall_id = :r GROUP BY e.case_id, e.new_status",
)


def peer(engine: Engine) -> float:
    """The median time of the two bare statements: a floor for any report of the recall."""
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        with engine.connect() as connection:
            for statement in PEER:
                connection.execute(text(statement), {"r": str(RAW["id"])}).fetchall()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def _agreed_not_done(engine: Engine) -> list[str]:
    """The references of the cases with a refund agreed and not paid yet."""
    paid = select(Fulfilment.case_id)
    with engine.connect() as connection:
        return list(connection.scalars(
            select(Case.case_ref).where(Case.outcome == "refund", Case.id.not_in(paid))
        ))  # fmt: skip


def measure(label: str, url: str, cases: int, agents: int, out: Path) -> list[tuple]:
    engine = make_engine(url)
    upgrade(engine)
    print(f"{label}: seeding {cases:,} cases ...", flush=True)
    populate(engine, cases, agents)
    rows = []
    floor = peer(engine)
    print(f"  peer (one grouped pass over cases, one over the event log): {floor:.2f} s")
    rows.append((label, "peer: bare GROUP BY of the cases and of the event log", [floor], None,
                 "the two scans every figure needs at least"))  # fmt: skip
    timings = []
    for run in range(RUNS):
        started = time.perf_counter()
        files = write_progress_report(
            engine=engine, recall_id=str(RAW["id"]), out_dir=out / f"{label}-{run}",
            fonts_dir=PROJECT_TEMPLATES / "fonts", clock=lambda: NOW,
        )  # fmt: skip
        timings.append(time.perf_counter() - started)
    total = files.progress.completion.total
    print(f"  report: {statistics.median(timings):.2f} s; resolved {total.resolved:,}")
    rows.append((label, "progress report (figures, PDF, 4 CSVs)", timings, REPORT_TARGET,
                 f"{files.pdf.stat().st_size / 1024:,.0f} KB PDF; "
                 f"{statistics.median(timings) / floor:.1f}x the peer"))  # fmt: skip
    timings = []
    for run in range(RUNS):
        started = time.perf_counter()
        month = monthly_report(engine=engine, recall_id=str(RAW["id"]), month=f"{NOW:%Y-%m}",
                               clock=lambda: NOW)  # fmt: skip
        monthly = write_monthly_report(month, out_dir=out / f"{label}-monthly-{run}",
                                       fonts_dir=PROJECT_TEMPLATES / "fonts")  # fmt: skip
        timings.append(time.perf_counter() - started)
    print(f"  monthly report: {statistics.median(timings):.2f} s; corrected "
          f"{month.corrected.cumulative:,} of {month.units_affected:,} units")  # fmt: skip
    rows.append((label, "monthly report for the regulator (figures, PDF, CSV)", timings,
                 REPORT_TARGET, f"{monthly.pdf.stat().st_size / 1024:,.0f} KB PDF; "
                 f"{statistics.median(timings) / floor:.1f}x the peer; "
                 f"{month.corrected.cumulative:,} units corrected, "
                 f"{month.agreed.cases:,} agreed not carried out"))  # fmt: skip
    waiting = _agreed_not_done(engine)
    path = out / f"{label}-fulfilments.csv"
    rows_text = "".join(f"{ref};refund_paid;2026-11-20;49,90;S001\n" for ref in waiting)
    path.write_text("case_ref;kind;done_on;amount;done_by\n" + rows_text, encoding="utf-8")
    started = time.perf_counter()
    imported = import_fulfilments(engine=engine, path=path, actor="bench", clock=lambda: NOW)
    timings = [time.perf_counter() - started]
    print(f"  fulfilment file: {timings[0]:.2f} s for {len(waiting):,} rows; "
          f"{imported.recorded:,} recorded, {imported.rejected:,} rejected")  # fmt: skip
    rows.append((label, "fulfilment file from the retailer", timings, None,
                 f"{len(waiting):,} rows, {imported.recorded:,} recorded, "
                 f"{len(waiting) / timings[0]:,.0f} rows/s"))  # fmt: skip
    started = time.perf_counter()
    drawn = draw_checks(engine=engine, recall_id=str(RAW["id"]), out_dir=out / f"{label}-checks",
                        clock=lambda: NOW, rng=random.Random(1))  # fmt: skip
    timings = [time.perf_counter() - started]
    print(f"  effectiveness check drawn: {timings[0]:.2f} s; {drawn.sample:,} of "
          f"{drawn.notified:,} notified")  # fmt: skip
    rows.append((label, "effectiveness check drawn (level B)", timings, None,
                 f"{drawn.sample:,} of {drawn.notified:,} notified; check list"))  # fmt: skip
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        report = follow_up(engine=engine, recall_id=str(RAW["id"]), home_language="fr",
                           clock=lambda: NOW)  # fmt: skip
        timings.append(time.perf_counter() - started)
        if len(timings) == 1:
            moved = report.callbacks_moved
    print(f"  follow-up: first {timings[0]:.2f} s ({moved} callbacks handed on), then "
          f"{statistics.median(timings[1:]):.2f} s")  # fmt: skip
    rows.append((label, "follow-up, first pass", timings[:1], None,
                 f"{moved} missed callbacks handed on, rebalance, SLA"))  # fmt: skip
    rows.append((label, "follow-up, next passes", timings[1:], None, "nothing left to move"))
    engine.dispose()
    return rows


def table(rows: list[tuple], args: argparse.Namespace) -> str:
    lines = [
        "## Progress report and follow-up", "",
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}.", "",
        f"Command: `python -m benchmarks.reports --cases {args.cases} --agents {args.agents}` "
        "(part of `make bench`). " + " ".join((__doc__ or "").split("\n\n")[2].split()), "",
        "| database | step | median s | runs (s) | target | notes |",
        "|---|---|---:|---|---|---|",
    ]  # fmt: skip
    for label, step, timings, target, notes in rows:
        median = statistics.median(timings)
        verdict = "-" if target is None else (
            f"< {target:.0f} s: " + ("met" if median < target else "**missed**"))  # fmt: skip
        runs = ", ".join(f"{t:.2f}" for t in timings)
        lines.append(f"| {label} | {step} | {median:.2f} | {runs} | {verdict} | {notes} |")
    lines += ["", f"Peak memory of the benchmark process: {peak_mb():,.0f} MB."]
    return "\n".join(lines)


def main() -> None:
    args = scale_arguments(__doc__).parse_args()
    rows: list[tuple] = []
    with tempfile.TemporaryDirectory(prefix="recall-reports-bench-") as folder:
        out = Path(folder)
        rows += measure("SQLite", f"sqlite:///{out / 'recall.db'}", args.cases, args.agents, out)
        if not args.skip_postgres:
            database = postgres_database()
            if database is None:
                sys.exit("PostgreSQL is not reachable: run with --skip-postgres")
            url, drop = database
            try:
                rows += measure("PostgreSQL", url, args.cases, args.agents, out)
            finally:
                drop()
    write_section("Progress report and follow-up", table(rows, args))


if __name__ == "__main__":
    main()
