"""`recall launch` and `recall letters`: a recall's launch flow and its paper."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recall.cli.output import fail, out, print_status, progress_bar, say

letters_cli = typer.Typer(help="Recall letters: render, record posting and returns.")
RecallArg = Annotated[str, typer.Argument(help="the recall's id, e.g. R-2026-014")]


def launch(
    definition: Annotated[Path, typer.Argument(help="the recall's definition, a YAML file")],
) -> None:
    """Validate a recall YAML, find its buyers, build their cases; relaunching resumes."""
    from recall.campaign import definitions
    from recall.cli.flows import flow_engine
    from recall.settings import Settings

    definitions.load_definition(definition, templates_dir=Settings.from_env().templates_dir)
    _refuse_partial_data()
    with flow_engine():
        from flows.launch_recall import launch_recall
        from flows.send_notices import send_notices

        status = launch_recall(str(definition.resolve()))
        print_status(status)
        emails, texts = send_notices(status["recall_id"])
    settings = Settings.from_env()
    mails = "sent" if settings.smtp_url else f"written to {settings.data_dir / 'email-outbox'}"
    say(
        f"digital notices: {emails.sent:,} e-mail(s) {mails}; {texts.sent:,} SMS sent, "
        f"{texts.waiting_for_hours:,} waiting for the calling hours (the hourly follow-up "
        "sends them)"
    )


def _refuse_partial_data() -> None:
    """A file partly imported would hide some buyers: finish it before finding them."""
    from sqlalchemy.orm import Session

    from recall.bootstrap import build_app
    from recall.importing.service import unfinished_imports

    with Session(build_app().engine) as session:
        runs = unfinished_imports(session)
    if runs:
        fail(
            f"{runs[0]}: its buyers would be missed; run that import again, then the launch"
            + (f" ({len(runs) - 1} more file(s) like it: see `recall status`)" if runs[1:] else "")
        )


@letters_cli.command("render")
def letters_render(recall_id: RecallArg) -> None:
    """Plan and render the letters not made yet, then the posters and press notice."""
    from recall.bootstrap import build_app
    from recall.campaign import definitions
    from recall.notices import letters, posters

    app = build_app()
    definition = definitions.get_definition(engine=app.engine, recall_id=recall_id)
    templates = app.templates
    config = app.letter_settings(recall_id)
    planned = letters.plan_letters(
        engine=app.engine, recall_id=recall_id, config=config, templates=templates
    )
    with progress_bar() as bar:
        task = bar.add_task("batches", total=None)
        report = letters.render_letters(
            engine=app.engine,
            definition=definition,
            config=config,
            templates=templates,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    made = posters.make_notices(
        engine=app.engine, definition=definition, config=config, templates=templates
    )
    rate = report.letters / report.seconds if report.seconds else 0
    out.print(
        f"{planned.planned:,} letter(s) planned, {report.letters:,} rendered in "
        f"{report.batches:,} batch(es), {report.seconds:.1f} s ({rate:,.0f}/s)"
    )
    aside = planned.set_aside
    if aside.cases:
        out.print(
            f"warning: {aside.cases:,} address(es) can't be printed as NF Z10-011 asks: "
            f"{aside.to_call:,} moved to the call list, {aside.to_notice:,} to the public "
            f"notice; the list: {planned.review_list}"
        )
    if aside.to_call:
        from recall.calling import assignment

        assigned = assignment.assign_call_list(
            engine=app.engine, recall_id=recall_id, home_language=app.settings.home_language
        )
        out.print(f"call list: {assigned.assigned:,} more case(s) assigned")
    for language, count in planned.fallback.items():
        out.print(
            f"warning: no letter template for '{language}': {count:,} letter(s) in "
            f"'{app.settings.home_language}'"
        )
    out.print(f"manifest: {report.manifest}")
    out.print(f"{len(made.posters)} poster(s), public notice: {', '.join(map(str, made.public))}")


@letters_cli.command("mailed")
def letters_mailed(
    recall_id: RecallArg,
    batch: Annotated[
        str | None,
        typer.Option(help="the file name of one batch (default: every batch rendered)"),
    ] = None,
) -> None:
    """Record that the print house posted the letters (all rendered batches, or --batch)."""
    from recall.bootstrap import build_app
    from recall.notices.mailing import mark_mailed

    report = mark_mailed(engine=build_app().engine, recall_id=recall_id, batch_file=batch)
    if not report.batches:
        out.print("nothing to record: no rendered batch waiting to be posted")
        return
    out.print(f"{len(report.batches)} batch(es) posted; {report.notified:,} case(s) now notified")


@letters_cli.command("returned")
def letters_returned(
    path: Annotated[Path, typer.Argument(help="CSV with a case_ref column, one letter a row")],
) -> None:
    """Record letters returned undelivered (CSV with a case_ref column); cases change channel."""
    from recall.bootstrap import build_app
    from recall.notices.mailing import record_returned

    report = record_returned(engine=build_app().engine, path=path)
    out.print(
        f"{report.to_call_list:,} moved to the call list, {report.unreachable:,} unreachable "
        f"(no phone), {report.reached_already:,} already reached, "
        f"{report.already_recorded:,} already recorded"
    )
    if report.rejected:
        out.print(f"{report.rejected:,} line(s) rejected: see {report.rejects_file}")


notice_cli = typer.Typer(help="Declarations and public notices of a recall.")


@notice_cli.command("rappelconso")
def notice_rappelconso(
    recall_id: RecallArg,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="folder (default: the recall's letters folder)")
    ] = None,
) -> None:
    """What France's recall declaration (RappelConso) asks, as JSON and CSV to hand over."""
    from recall.bootstrap import build_app
    from recall.campaign import definitions
    from recall.notices import rappelconso

    app = build_app()
    definition = definitions.get_definition(engine=app.engine, recall_id=recall_id)
    declared = rappelconso.declare(
        engine=app.engine, definition=definition, templates=app.templates,
        out_dir=out_dir or app.letter_settings(recall_id).out_dir,
    )  # fmt: skip
    out.print(f"RappelConso declaration: {declared.json_path} and {declared.csv_path}")
