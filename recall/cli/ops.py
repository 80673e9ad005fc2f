"""`recall` commands for a running recall: follow-up, reports, closing, the schedules and the
local flow engine."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from recall.cli.output import out

OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out", help="folder for the files (default: $RECALL_DATA_DIR/reports/RECALL_ID/final)"
    ),
]
RecallArg = Annotated[str, typer.Argument(help="the recall's id, e.g. R-2026-014")]
engine_cli = typer.Typer(help="The local flow engine (a Prefect server) the flows run on.")


def register(cli: typer.Typer) -> None:
    cli.command("follow-up")(follow_up)
    cli.command("report")(report)
    cli.command("close")(close)
    cli.command("purge")(purge)
    cli.command("schedule")(schedule)
    cli.add_typer(engine_cli, name="engine")


def follow_up(
    recall_id: Annotated[
        str | None, typer.Argument(help="one recall's id (default: every open recall)")
    ] = None,
) -> None:
    """One pass of the follow_up flow (every open recall, or one)."""
    from recall.cli.flows import flow_engine

    with flow_engine():
        from flows.follow_up import follow_up as flow

        reports = flow([recall_id] if recall_id else None)
    for report in reports:
        out.print(
            f"{report.recall_id}: {report.till_returns} case(s) closed by a till return, "
            f"{report.letters_to_calls} letter(s) to the call list, "
            f"{report.callbacks_overdue} callback(s) overdue ({report.callbacks_moved} handed on), "
            f"{report.assigned} assigned, {report.moved} moved"
        )
        if report.breach:
            out.print(
                f"[bold red]{report.breach.cases:,} high-hazard case(s) not contacted within "
                f"{report.breach.sla_hours:.0f} h[/] (oldest {report.breach.oldest_hours:.0f} h)"
            )


def report(recall_id: RecallArg) -> None:
    """The progress report (PDF and CSVs in $RECALL_DATA_DIR/reports/RECALL_ID), via its flow."""
    from recall.cli.flows import flow_engine

    with flow_engine():
        from flows.progress_report import progress_report

        (files,) = progress_report([recall_id])
    for path in (files.pdf, *files.csvs.values()):
        out.print(str(path), soft_wrap=True)  # a path stays on one line, whole
    done = files.progress.forecast.done_by
    out.print(f"expected end of the call list: {done:%Y-%m-%d %H:%M} UTC" if done else
              "expected end of the call list: not computable (no active agent)")  # fmt: skip


def close(recall_id: RecallArg, out_dir: OutOpt = None) -> None:
    """Close a recall: open cases leave the call list, the final report is written."""
    from recall.bootstrap import build_app
    from recall.reporting import closing

    app = build_app()
    closed = closing.close_recall(
        engine=app.engine, recall_id=recall_id,
        out_dir=out_dir or app.settings.data_dir / "reports" / recall_id / "final",
        fonts_dir=app.fonts_dir, clock=app.clock, language=app.settings.home_language,
        zone=app.settings.home_zone,
    )  # fmt: skip
    out.print(f"{recall_id} closed; {closed.left_call_list:,} open case(s) left the call list")
    out.print(f"final report: {closed.report.pdf}")
    out.print(f"personal data kept until {closed.purge_after:%Y-%m-%d}, then pseudonymised")


def purge(recall_id: RecallArg) -> None:
    """Pseudonymise a closed recall's personal data once its retention period is over."""
    from recall.bootstrap import build_app
    from recall.reporting import closing

    app = build_app()
    purged = closing.purge_personal_data(
        engine=app.engine, recall_id=recall_id, data_dir=app.settings.data_dir,
        clock=app.clock,
    )  # fmt: skip
    out.print(f"{recall_id}: {purged.cases:,} case(s) pseudonymised, "
              f"{purged.files_removed} file(s) removed; the figures stay")  # fmt: skip


def schedule() -> None:
    """Serve the flows on their schedules (follow_up hourly, progress_report daily at 06:00)."""
    from recall.cli.flows import flow_engine

    with flow_engine():
        from prefect import serve

        from flows.follow_up import follow_up as follow_up_flow
        from flows.progress_report import progress_report

        hourly = follow_up_flow.to_deployment(name="hourly", cron="0 * * * *")
        daily = progress_report.to_deployment(name="daily", cron="0 6 * * *")
        serve(hourly, daily)  # type: ignore[arg-type]  # synchronous here, not a coroutine


@engine_cli.command("start")
def engine_start() -> None:
    """Start the local flow engine now (flow commands otherwise start it when they need it)."""
    from recall.cli.flows import flow_engine

    with flow_engine():
        out.print(f"flow engine answering at {os.environ['PREFECT_API_URL']}")


@engine_cli.command("status")
def engine_status() -> None:
    """Whether the local flow engine of this data dir is running, and where."""
    from recall import flow_engine
    from recall.settings import Settings

    config = flow_engine.EngineConfig.from_env(Settings.from_env().data_dir)
    if config.api_url:
        out.print(f"flows run on the Prefect server at PREFECT_API_URL={config.api_url}")
        return
    url = flow_engine.status(config)
    out.print(f"running at {url}" if url else "not running (the next flow command starts it)")


@engine_cli.command("stop")
def engine_stop() -> None:
    """Stop the local flow engine of this data dir (it also stops by itself when unused)."""
    from recall import flow_engine
    from recall.settings import Settings

    config = flow_engine.EngineConfig.from_env(Settings.from_env().data_dir)
    out.print("stopped" if flow_engine.stop(config) else "it was not running")
