"""The `recall` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from recall.bootstrap import build_app, prepare_prefect
from recall.domain.definition import InvalidDefinition
from recall.importing.service import ImportReport, import_export
from recall.importing.sources import BadFile
from recall.letters.templates import TemplateProblem
from recall.services import reading, recalls
from recall.settings import Settings

cli = typer.Typer(
    help="Product-recall campaigns: import buyers, launch recalls, follow cases.",
    no_args_is_help=True,
)
out = Console()
err = Console(stderr=True)
FileArg = Annotated[Path | None, typer.Option(exists=False, dir_okay=False)]


def fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@cli.command("import")
def import_command(
    customers: FileArg = None,
    purchases: FileArg = None,
    products: FileArg = None,
    stores: FileArg = None,
) -> None:
    """Import a loyalty export (CSV or Parquet); bad rows go to <name>.rejects.csv."""
    files = {
        k: v
        for k, v in dict(
            customers=customers, purchases=purchases, products=products, stores=stores
        ).items()
        if v
    }
    if not files:
        fail("name at least one file: --customers, --purchases, --products or --stores")
    app = build_app()
    with _progress() as bar:
        tasks: dict[str, Any] = {}

        def advance(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(table, total=total or None)
            bar.update(tasks[table], completed=done)

        try:
            report = import_export(
                engine=app.engine,
                files=files,
                home_country=app.settings.home_country,
                home_language=app.settings.home_language,
                progress=advance,
            )
        except BadFile as exc:
            fail(str(exc))
    _print_import(report)


def _progress() -> Progress:
    columns = (TextColumn("{task.description:>10}"), BarColumn(), TaskProgressColumn())
    return Progress(*columns, TimeRemainingColumn(), console=err)


def _print_import(report: ImportReport) -> None:
    table = Table(title="Import summary")
    for name in ("table", "read", "accepted", "new or changed", "rejected", "rejects file"):
        table.add_column(
            name, justify="left" if name in ("table", "rejects file") else "right", overflow="fold"
        )
    for t in report.tables:
        table.add_row(
            t.table,
            f"{t.rows_read:,}",
            f"{t.rows_accepted:,}",
            f"{t.rows_written:,}",
            f"{t.rows_rejected:,}",
            t.rejects_file or "-",
        )
    out.print(table)
    for t in report.tables:
        for warning, count in sorted(t.warnings.items()):
            out.print(f"warning: {t.table}: {count:,} row(s): {warning}")


@cli.command("demo-data")
def demo_data(
    customers: Annotated[int, typer.Option(min=1)] = 20_000,
    out_dir: Annotated[Path, typer.Option("--out")] = Path("var/demo"),
    seed: int = 2026,
    fmt: Annotated[str, typer.Option("--format")] = "csv",
    bad_rows: bool = False,
) -> None:
    """Write a synthetic French loyalty export (and a sample recall.yaml) to --out."""
    from recall import demo_data as generator

    with _progress() as bar:
        task = bar.add_task("customers", total=customers)
        files = generator.generate(
            out_dir=out_dir,
            customers=customers,
            seed=seed,
            fmt=fmt,
            bad_rows=bad_rows,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    for name in ("customers", "purchases", "products", "stores", "recall_yaml"):
        out.print(f"{name:>12}: {getattr(files, name)}")
    out.print(f"{'agents':>12}: {generator.write_agents(out_dir, seed=seed)}")


@cli.command()
def launch(definition: Path) -> None:
    """Validate a recall YAML, find its buyers, build their cases; relaunching resumes."""
    try:
        recalls.load_definition(definition)
    except InvalidDefinition as exc:
        fail(str(exc))
    settings = Settings.from_env()
    prepare_prefect(settings)
    build_app(settings)  # migrate before the flow starts
    from flows.launch_recall import launch_recall

    status = launch_recall(str(definition.resolve()))
    _print_status(status)


@cli.command()
def status(recall_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Figures of a recall: cases by channel and status, returns, untraceable units."""
    try:
        figures = reading.recall_status(engine=build_app().engine, recall_id=recall_id)
    except LookupError as exc:
        fail(str(exc))
    if as_json:
        sys.stdout.write(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    else:
        _print_status(figures)


letters_cli = typer.Typer(help="Recall letters: render, record posting and returns.")
cli.add_typer(letters_cli, name="letters")


@letters_cli.command("render")
def letters_render(recall_id: str) -> None:
    """Plan and render the letters not made yet, then the posters and press notice."""
    from recall.bootstrap import letter_config, letter_templates
    from recall.services import letters, notices

    app = build_app()
    try:
        definition = recalls.get_definition(engine=app.engine, recall_id=recall_id)
        templates = letter_templates(app.settings)
    except (LookupError, TemplateProblem) as exc:
        fail(str(exc))
    config = letter_config(app.settings, recall_id)
    planned = letters.plan_letters(
        engine=app.engine, recall_id=recall_id, config=config, templates=templates
    )
    with _progress() as bar:
        task = bar.add_task("batches", total=None)
        report = letters.render_letters(
            engine=app.engine,
            definition=definition,
            config=config,
            templates=templates,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    made = notices.make_notices(
        engine=app.engine, definition=definition, config=config, templates=templates
    )
    rate = report.letters / report.seconds if report.seconds else 0
    out.print(
        f"{planned.planned:,} letter(s) planned, {report.letters:,} rendered in "
        f"{report.batches:,} batch(es), {report.seconds:.1f} s ({rate:,.0f}/s)"
    )
    for language, count in planned.fallback.items():
        out.print(
            f"warning: no letter template for '{language}': {count:,} letter(s) in "
            f"'{app.settings.home_language}'"
        )
    out.print(f"manifest: {report.manifest}")
    out.print(f"{len(made.posters)} poster(s), press notice: {', '.join(map(str, made.press))}")


@letters_cli.command("mailed")
def letters_mailed(
    recall_id: str, batch: Annotated[str | None, typer.Option(help="one batch file")] = None
) -> None:
    """Record that the print house posted the letters (all rendered batches, or --batch)."""
    from recall.services.mailing import MailingError, mark_mailed

    try:
        report = mark_mailed(engine=build_app().engine, recall_id=recall_id, batch_file=batch)
    except MailingError as exc:
        fail(str(exc))
    if not report.batches:
        out.print("nothing to record: no rendered batch waiting to be posted")
        return
    out.print(f"{len(report.batches)} batch(es) posted; {report.notified:,} case(s) now notified")


@letters_cli.command("returned")
def letters_returned(path: Path) -> None:
    """Record letters returned undelivered (CSV with a case_ref column); cases change channel."""
    from recall.services.mailing import MailingError, record_returned

    try:
        report = record_returned(engine=build_app().engine, path=path)
    except MailingError as exc:
        fail(str(exc))
    out.print(
        f"{report.to_call_list:,} moved to the call list, {report.unreachable:,} unreachable "
        f"(no phone), {report.reached_already:,} already reached, "
        f"{report.already_recorded:,} already recorded"
    )
    if report.rejected:
        out.print(f"{report.rejected:,} line(s) rejected: see {report.rejects_file}")


def _print_status(figures: dict[str, Any]) -> None:
    table = Table(title=f"{figures['recall_id']} - {figures['title']}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key in (
        "cases",
        "letter",
        "call",
        "notice_only",
        "already_returned",
        "untraceable_units",
        "invalid_phones",
    ):
        table.add_row(key, f"{figures[key]:,}")
    for state, count in figures["by_status"].items():
        table.add_row(f"status {state}", f"{count:,}")
    for name, count in figures["letters"].items():
        table.add_row(f"letters {name}", f"{count:,}")
    for name, count in figures["call_list"].items():
        table.add_row(f"call list {name.replace('_', ' ')}", f"{count:,}")
    for name, count in figures["import_rejected_rows"].items():
        table.add_row(f"rejected {name} rows (last import)", f"{count:,}")
    out.print(table)


@cli.command()
def cases(recall_id: str, csv: Annotated[Path, typer.Option("--csv")]) -> None:
    """Write the recall's cases to a CSV file, one row per case."""
    app = build_app()
    try:
        reading.recall_status(engine=app.engine, recall_id=recall_id)
    except LookupError as exc:
        fail(str(exc))
    count = reading.export_cases(engine=app.engine, recall_id=recall_id, out=csv)
    out.print(f"{count:,} cases written to {csv}")


def main() -> None:
    cli()


from recall import cli_calls, cli_ops, cli_users  # noqa: E402  (they use fail() and out)

cli_calls.register(cli)
cli_users.register(cli)
cli_ops.register(cli)
