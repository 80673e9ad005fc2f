"""What every command prints with: the console, errors as one line, progress bars."""

from __future__ import annotations

from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

out = Console()
err = Console(stderr=True, soft_wrap=True)  # an error stays one line, even in a log file


def fail(message: str, code: int = 2) -> NoReturn:
    """Print `message` as one error line and leave with `code`."""
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def say(message: str) -> None:
    """A line of progress, on stderr so that stdout stays the command's result."""
    err.print(message, highlight=False)


def progress_bar() -> Progress:
    columns = (TextColumn("{task.description:>10}"), BarColumn(), TaskProgressColumn())
    return Progress(*columns, TimeRemainingColumn(), console=err)


def print_status(figures: dict[str, Any]) -> None:
    from rich.table import Table

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
    for run in figures.get("unfinished_imports", []):
        out.print(f"warning: {run}: import the file again to finish it")
