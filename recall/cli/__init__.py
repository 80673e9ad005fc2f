"""The `recall` command line.

Each command imports what it uses when it runs, so `recall --help` and the commands that only
read the database start in a fraction of a second; only flow commands load Prefect.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from recall.cli import calls, data, ops, reach, remedies, users
from recall.cli.output import fail
from recall.domain.errors import RecallError, Unavailable

REFUSED = 2  # exit code: the input, a rule or the state refused the command, or nothing such
UNAVAILABLE = 3  # exit code: the flow engine, the phone provider or a file failed; retry


class _Commands(TyperGroup):
    """Every command's RecallError said once, as one line and an exit code; a bug still shows
    its traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except RecallError as exc:
            fail(str(exc), UNAVAILABLE if isinstance(exc, Unavailable) else REFUSED)


cli = typer.Typer(
    cls=_Commands,
    help="Product-recall campaigns: import buyers, launch recalls, follow cases.",
    no_args_is_help=True,
)
for module in (data, calls, users, ops, remedies, reach):
    module.register(cli)


def main() -> None:
    cli()
