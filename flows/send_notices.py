"""send_notices: a recall's queued digital notices sent, e-mails then SMS; re-runnable (the
hourly follow-up runs it too: texts wait for the calling hours, bounces queue new ones)."""

from __future__ import annotations

from prefect import flow, get_run_logger, task

from recall.bootstrap import current_app
from recall.reach import emails, sms


@task(name="send-emails")
def send_emails(recall_id: str) -> emails.EmailReport:
    app = current_app()
    logger = get_run_logger()
    report = emails.send_emails(
        engine=app.engine, mailer=app.mailer, templates=app.templates,
        settings=app.mail_settings, recall_id=recall_id, clock=app.clock,
        progress=lambda done, total: logger.info(
            "e-mails: %d/%d sent, %d refused, %d deferred", done.sent, total, done.refused,
            done.deferred),
    )  # fmt: skip
    logger.info(
        "e-mails: %d sent in %.1f s (%s), %d refused (next channel), %d deferred, %d skipped "
        "(answered meanwhile), %d in doubt from an earlier stop", report.sent, report.seconds,
        app.mailer.name, report.refused, report.deferred, report.skipped, report.in_doubt,
    )  # fmt: skip
    for problem in report.problems:
        logger.warning("e-mails: %s", problem)
    return report


@task(name="send-sms")
def send_texts(recall_id: str) -> sms.SmsReport:
    app = current_app()
    report = sms.send_sms_notices(
        engine=app.engine, telephony=app.telephony, settings=app.sms_settings,
        recall_id=recall_id, clock=app.clock,
    )  # fmt: skip
    get_run_logger().info(
        "SMS: %d sent (%s), %d waiting for the calling hours, %d no longer needed, %d refused "
        "(next channel), %d deferred, %d in doubt from an earlier stop", report.sent,
        app.telephony.name, report.waiting_for_hours, report.skipped, report.failed,
        report.deferred, report.in_doubt,
    )  # fmt: skip
    return report


@flow(name="send_notices")
def send_notices(recall_id: str) -> tuple[emails.EmailReport, sms.SmsReport]:
    """The recall's e-mail and SMS notices still queued."""
    return send_emails(recall_id), send_texts(recall_id)
