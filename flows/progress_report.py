"""progress_report (daily, and `recall report`): the PDF, its CSVs and Prefect artifacts."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
)

from flows import artifact_key
from recall.bootstrap import current_app
from recall.reporting import overview
from recall.reporting.completion import STAGES
from recall.reporting.files import ReportFiles, write_progress_report


@task(name="write-progress-report")
def write_report(recall_id: str) -> ReportFiles:
    app = current_app()
    return write_progress_report(
        engine=app.engine, recall_id=recall_id,
        out_dir=app.settings.data_dir / "reports" / recall_id,
        fonts_dir=app.fonts_dir, clock=app.clock, language=app.settings.home_language,
        zone=app.settings.home_zone,
    )  # fmt: skip


@flow(name="progress_report")
def progress_report(recall_ids: list[str] | None = None) -> list[ReportFiles]:
    """Write each recall's report (default: every recall still open) and publish its figures."""
    ids = recall_ids or overview.open_recall_ids(engine=current_app().engine)
    made = []
    for recall_id in ids:
        files = write_report(recall_id)
        publish(files)
        get_run_logger().info("%s: report written to %s (%.1f s)", recall_id, files.pdf,
                              files.seconds)  # fmt: skip
        made.append(files)
    return made


def publish(files: ReportFiles) -> None:
    """The same figures in the Prefect UI: a table, a summary and how far along the recall is."""
    report = files.progress
    c = report.completion
    create_table_artifact(
        key=artifact_key("funnel", c.recall_id),
        table=[
            {"channel": name, **{s: getattr(f, s) for s in STAGES}}
            for name, f in {"all": c.total, **c.by_channel}.items()
        ],
        description=f"{c.recall_id}: funnel by channel",
    )
    done = report.forecast.done_by
    end = f"expected done by {done:%Y-%m-%d %H:%M} UTC" if done else "end not computable"
    create_markdown_artifact(
        key=artifact_key("progress", c.recall_id),
        markdown=(
            f"# {c.recall_id} - {c.title}\n\n"
            f"- resolved: **{c.total.resolved:,} / {c.total.identified:,}** "
            f"({c.total.resolved_share:.1%})\n"
            f"- units corrected: {report.units.corrected:,} / {report.units.affected:,} "
            f"({report.units.effectiveness:.1%} effectiveness)\n"
            f"- call list left: {report.forecast.cases_left:,}; {end}\n"
        ),
        description=f"{c.recall_id}: progress",
    )
    create_progress_artifact(progress=100 * c.total.resolved_share,
                             description=f"{c.recall_id}: share of cases resolved")  # fmt: skip
