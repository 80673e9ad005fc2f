"""follow_up (hourly): what the passing of time asks of every running recall."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from flows import artifact_key
from flows.send_notices import send_emails, send_texts
from recall.bootstrap import current_app
from recall.calling import follow_up as service
from recall.remedies import till
from recall.reporting import closing, overview


@task(name="till-returns", retries=2, retry_delay_seconds=10)
def till_returns(recall_id: str) -> till.TillReturns:
    app = current_app()
    return till.apply_till_returns(engine=app.engine, recall_id=recall_id, clock=app.clock)


@task(name="follow-up-recall", retries=2, retry_delay_seconds=10)
def follow_up_recall(recall_id: str) -> service.FollowUpReport:
    app = current_app()
    return service.follow_up(
        engine=app.engine, recall_id=recall_id, home_language=app.settings.home_language,
        clock=app.clock,
    )  # fmt: skip


@task(name="purge-personal-data")
def purge(recall_id: str) -> closing.Purged:
    app = current_app()
    return closing.purge_personal_data(
        engine=app.engine, recall_id=recall_id, data_dir=app.settings.data_dir,
        clock=app.clock,
    )  # fmt: skip


@flow(name="follow_up")
def follow_up(recall_ids: list[str] | None = None) -> list[service.FollowUpReport]:
    """One pass over the given recalls (default: every recall still open); closed recalls
    past their retention period get their personal data pseudonymised."""
    app = current_app()
    for recall_id in closing.purge_due(engine=app.engine, now=app.clock()):
        purged = purge(recall_id)
        get_run_logger().info("%s: personal data of %d case(s) pseudonymised", recall_id,
                              purged.cases)  # fmt: skip
    ids = recall_ids or overview.open_recall_ids(engine=app.engine)
    logger = get_run_logger()
    reports = []
    for recall_id in ids:
        returned = till_returns(recall_id)  # first: a case closed at a till is not called
        send_emails(recall_id)  # queued by a bounce or a failed text since the last pass
        send_texts(recall_id)  # waiting for the calling hours
        report = follow_up_recall(recall_id)
        report.till_returns = returned.cases
        logger.info(
            "%s: %d case(s) closed by a till return, %d letter(s) to the call list, "
            "%d callback(s) overdue (%d handed on), %d assigned, %d moved", recall_id,
            report.till_returns, report.letters_to_calls, report.callbacks_overdue,
            report.callbacks_moved, report.assigned, report.moved,
        )  # fmt: skip
        if report.breach is not None:
            create_markdown_artifact(
                key=artifact_key("sla", recall_id),
                markdown=sla_markdown(recall_id, report.breach),
                description=f"{recall_id}: high-hazard cases past the contact SLA",
            )
        reports.append(report)
    return reports


def sla_markdown(recall_id: str, breach: service.SlaBreach) -> str:
    refs = "\n".join(f"- {ref}" for ref in breach.case_refs)
    return (
        f"# {recall_id}: contact SLA missed\n\n"
        f"**{breach.cases:,}** high-hazard case(s) not contacted within {breach.sla_hours:.0f} h "
        f"(the oldest for {breach.oldest_hours:.0f} h). The first of them:\n\n{refs}\n"
    )
