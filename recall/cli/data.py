"""`recall` commands for the loyalty data and a recall's figures: import, demo data, status."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from recall.cli.output import fail, out, print_status, progress_bar

if TYPE_CHECKING:
    from recall.importing.service import ImportReport


def _file(table: str, columns: str) -> Any:
    return typer.Option(
        exists=False, dir_okay=False, help=f"the {table} file, CSV or Parquet ({columns})"
    )


CustomersOpt = Annotated[
    Path | None, _file("customers", "customer_id, then names, phone, e-mail, address")
]
PurchasesOpt = Annotated[
    Path | None, _file("purchases", "transaction_id, sku, purchased_at, quantity, lot")
]
ProductsOpt = Annotated[Path | None, _file("products", "sku, name, brand, category")]
StoresOpt = Annotated[Path | None, _file("stores", "store_id, name, city, region")]
RecallArg = Annotated[str, typer.Argument(help="the recall's id, e.g. R-2026-014")]


def register(cli: typer.Typer) -> None:
    from recall.cli import launching

    cli.command("import")(import_command)
    cli.command("demo-data")(demo_data)
    cli.command("launch")(launching.launch)
    cli.command("status")(status)
    cli.add_typer(launching.letters_cli, name="letters")
    cli.add_typer(launching.notice_cli, name="notice")
    cli.command("cases")(cases)


def import_command(
    customers: CustomersOpt = None,
    purchases: PurchasesOpt = None,
    products: ProductsOpt = None,
    stores: StoresOpt = None,
) -> None:
    """Import a loyalty export (CSV or Parquet); bad rows go to <name>.rejects.csv."""
    from sqlalchemy.orm import Session

    from recall.bootstrap import build_app
    from recall.importing.service import import_export, unfinished_imports

    named = dict(customers=customers, purchases=purchases, products=products, stores=stores)
    files = {table: path for table, path in named.items() if path}
    if not files:
        fail("name at least one file: --customers, --purchases, --products or --stores")
    app = build_app()
    with Session(app.engine) as session:
        for run in unfinished_imports(session):
            if run.table in files and Path(run.source) == Path(files[run.table]):
                out.print(f"{run}: importing it again finishes it")
    with progress_bar() as bar:
        tasks: dict[str, Any] = {}

        def advance(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(table, total=total or None)
            bar.update(tasks[table], completed=done)

        report = import_export(
            engine=app.engine,
            files=files,
            home_country=app.settings.home_country,
            home_language=app.settings.home_language,
            progress=advance,
        )
    _print_import(report)
    if "purchases" in files:  # return lines of a recalled product correct their cases
        from recall.cli.remedies import apply_till_returns

        apply_till_returns(app, None, quiet=True)


def _print_import(report: ImportReport) -> None:
    from rich.table import Table

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


def demo_data(
    customers: Annotated[int, typer.Option(min=1, help="how many customers to make up")] = 20_000,
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the files")] = Path("var/demo"),
    seed: Annotated[int, typer.Option(help="the same seed makes the same data")] = 2026,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet")] = "csv",
    bad_rows: Annotated[
        bool, typer.Option(help="add faulty rows, to see the import reject them")
    ] = False,
) -> None:
    """Write a synthetic French loyalty export (and a sample recall.yaml) to --out."""
    from recall import demo_data as generator

    if fmt not in ("csv", "parquet"):
        fail(f"--format {fmt!r}: choose csv or parquet")
    with progress_bar() as bar:
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


def status(
    recall_id: RecallArg,
    as_json: Annotated[bool, typer.Option("--json", help="print the figures as JSON")] = False,
) -> None:
    """Figures of a recall: cases by channel and status, returns, untraceable units."""
    from recall.bootstrap import build_app
    from recall.reporting import overview

    figures = overview.recall_status(engine=build_app().engine, recall_id=recall_id)
    if as_json:
        sys.stdout.write(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    else:
        print_status(figures)


def cases(
    recall_id: RecallArg,
    csv: Annotated[Path, typer.Option("--csv", help="the CSV file to write")],
) -> None:
    """Write the recall's cases to a CSV file, one row per case."""
    from recall.bootstrap import build_app
    from recall.reporting import overview

    app = build_app()
    overview.recall_status(engine=app.engine, recall_id=recall_id)
    count = overview.export_cases(engine=app.engine, recall_id=recall_id, out=csv)
    out.print(f"{count:,} cases written to {csv}")
