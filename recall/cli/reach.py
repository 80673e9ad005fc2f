"""`recall email ...` and `recall sms ...`: the digital notices sent, bounces applied,
doubtful e-mails queued again."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from recall.cli.output import fail, out, say

email_cli = typer.Typer(help="E-mail notices: send the queued ones, apply bounces.")
sms_cli = typer.Typer(help="SMS notices: send the waiting ones (within the calling hours).")
RecallArg = Annotated[str, typer.Argument(help="the recall's id, e.g. R-2026-014")]


def register(cli: typer.Typer) -> None:
    cli.add_typer(email_cli, name="email")
    cli.add_typer(sms_cli, name="sms")


@email_cli.command("send")
def email_send(recall_id: RecallArg) -> None:
    """Send the recall's queued e-mail notices (RECALL_SMTP_URL, else .eml files)."""
    from recall.bootstrap import build_app
    from recall.reach.emails import send_emails

    app = build_app()
    report = send_emails(
        engine=app.engine, mailer=app.mailer, templates=app.templates,
        settings=app.mail_settings, recall_id=recall_id, clock=app.clock,
        progress=lambda done, total: say(f"e-mails: {done.sent:,}/{total:,} sent"),
    )  # fmt: skip
    where = (
        "the mail server"
        if app.mailer.name == "smtp"
        else f"{app.settings.data_dir / 'email-outbox'}"
    )
    out.print(
        f"{recall_id}: {report.sent:,} e-mail(s) handed to {where} in {report.seconds:.1f} s; "
        f"{report.refused:,} refused (moved to their next channel), {report.deferred:,} "
        f"deferred, {report.skipped:,} no longer needed", soft_wrap=True,
    )  # fmt: skip
    if report.in_doubt:
        out.print(
            f"{report.in_doubt:,} e-mail(s) were being handed over when an earlier run stopped: "
            f"not sent again, not counted as notified (`recall email requeue {recall_id}` sends "
            "them again, at the risk of a second copy)", soft_wrap=True,
        )  # fmt: skip
    if report.problems:
        fail(f"{report.problems[0]}; run the command again to send the rest", 3)


@email_cli.command("bounces")
def email_bounces(
    file: Annotated[
        Path, typer.Argument(help="CSV with a message_id or a reference column, one bounce a row")
    ],
) -> None:
    """Apply a bounce report: each notice taken back, its case moved to its next channel."""
    from recall.bootstrap import build_app
    from recall.reach.email_outcomes import record_bounces
    from recall.spreadsheet import UnreadableFile, read_small_csv

    try:
        frame = read_small_csv(file)
    except UnreadableFile as exc:
        fail(str(exc))
    column = next(
        (c for c in ("message_id", "message-id", "reference") if c in frame.columns), None
    )
    if column is None:
        fail(f"{file}: needs a message_id or a reference column (has {', '.join(frame.columns)})")
    keys = [k for k in frame[column].tolist() if k.strip()]
    app = build_app()
    done = record_bounces(app.engine, keys, actor=f"cli:{getpass.getuser()}", now=app.clock())
    out.print(
        f"{file.name}: {done.applied:,} bounce(s) applied, {done.repeated:,} already recorded, "
        f"{len(done.unknown):,} naming no e-mail of ours",
        soft_wrap=True,
    )
    for key in done.unknown[:10]:
        out.print(f"  unknown: {key}", soft_wrap=True)


@email_cli.command("requeue")
def email_requeue(recall_id: RecallArg) -> None:
    """Queue again the e-mails handed over when a run stopped, with no answer from the server."""
    from recall.bootstrap import build_app
    from recall.reach.email_outcomes import requeue_in_doubt

    count = requeue_in_doubt(build_app().engine, recall_id)
    out.print(f"{recall_id}: {count:,} e-mail(s) queued again; `recall email send` sends them")


@sms_cli.command("send")
def sms_send(recall_id: RecallArg) -> None:
    """Send the recall's waiting SMS notices that the calling hours allow now."""
    from recall.bootstrap import build_app
    from recall.reach.sms import send_sms_notices

    app = build_app()
    report = send_sms_notices(
        engine=app.engine, telephony=app.telephony, settings=app.sms_settings,
        recall_id=recall_id, clock=app.clock,
    )  # fmt: skip
    out.print(
        f"{recall_id}: {report.sent:,} SMS sent ({app.telephony.name}), "
        f"{report.waiting_for_hours:,} waiting for the calling hours, {report.skipped:,} no "
        f"longer needed, {report.failed:,} refused (moved to their next channel), "
        f"{report.deferred:,} deferred, {report.in_doubt:,} in doubt", soft_wrap=True,
    )  # fmt: skip
