"""What every command prints with: the console, errors as one line, progress bars."""

from __future__ import annotations

from typing import NoReturn

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
