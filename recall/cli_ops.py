"""`recall` commands for a running recall: follow-up, reports, closing, and the schedules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recall.bootstrap import app_clock, build_app, prepare_prefect
from recall.cli import fail, out
from recall.services import closing
from recall.settings import Settings

OutOpt = Annotated[Path | None, typer.Option("--out", help="folder for the files")]


def register(cli: typer.Typer) -> None:
    cli.command("follow-up")(follow_up)
    cli.command("report")(report)
    cli.command("close")(close)
    cli.command("purge")(purge)
    cli.command("schedule")(schedule)


def _flows() -> Settings:
    settings = Settings.from_env()
    prepare_prefect(settings)
    build_app(settings)  # migrate before a flow starts
    return settings


def follow_up(recall_id: Annotated[str | None, typer.Argument()] = None) -> None:
    """One pass of the follow_up flow (every open recall, or one)."""
    _flows()
    from flows.follow_up import follow_up as flow

    for report in flow([recall_id] if recall_id else None):
        out.print(
            f"{report.recall_id}: {report.letters_to_calls} letter(s) to the call list, "
            f"{report.callbacks_overdue} callback(s) overdue ({report.callbacks_moved} handed on), "
            f"{report.assigned} assigned, {report.moved} moved"
        )
        if report.breach:
            out.print(
                f"[bold red]{report.breach.cases:,} high-hazard case(s) not contacted within "
                f"{report.breach.sla_hours:.0f} h[/] (oldest {report.breach.oldest_hours:.0f} h)"
            )


def report(recall_id: str) -> None:
    """The progress report (PDF and CSVs in $RECALL_DATA_DIR/reports/RECALL_ID), via its flow."""
    _flows()
    from flows.progress_report import progress_report

    try:
        (files,) = progress_report([recall_id])
    except LookupError as exc:
        fail(str(exc))
    out.print(f"{files.pdf}")
    for path in files.csvs.values():
        out.print(f"{path}")
    done = files.progress.forecast.done_by
    out.print(f"expected end of the call list: {done:%Y-%m-%d %H:%M} UTC" if done else
              "expected end of the call list: not computable (no active agent)")  # fmt: skip


def close(recall_id: str, out_dir: OutOpt = None) -> None:
    """Close a recall: open cases leave the call list, the final report is written."""
    app = build_app()
    try:
        closed = closing.close_recall(
            engine=app.engine, recall_id=recall_id,
            out_dir=out_dir or app.settings.data_dir / "reports" / recall_id / "final",
            fonts_dir=app.settings.templates_dir / "fonts", clock=app_clock(app.settings),
        )  # fmt: skip
    except (LookupError, closing.ClosingError) as exc:
        fail(str(exc))
    out.print(f"{recall_id} closed; {closed.left_call_list:,} open case(s) left the call list")
    out.print(f"final report: {closed.report.pdf}")
    out.print(f"personal data kept until {closed.purge_after:%Y-%m-%d}, then pseudonymised")


def purge(recall_id: str) -> None:
    """Pseudonymise a closed recall's personal data once its retention period is over."""
    app = build_app()
    try:
        purged = closing.purge_personal_data(
            engine=app.engine, recall_id=recall_id, data_dir=app.settings.data_dir,
            clock=app_clock(app.settings),
        )  # fmt: skip
    except (LookupError, closing.ClosingError) as exc:
        fail(str(exc))
    out.print(f"{recall_id}: {purged.cases:,} case(s) pseudonymised, "
              f"{purged.files_removed} file(s) removed; the figures stay")  # fmt: skip


def schedule() -> None:
    """Serve the flows on their schedules (follow_up hourly, progress_report daily at 06:00)."""
    _flows()
    from prefect import serve

    from flows.follow_up import follow_up as follow_up_flow
    from flows.progress_report import progress_report

    hourly = follow_up_flow.to_deployment(name="hourly", cron="0 * * * *")
    daily = progress_report.to_deployment(name="daily", cron="0 6 * * *")
    serve(hourly, daily)  # type: ignore[arg-type]  # synchronous here, not a coroutine
