"""The `recall` command line.

Each command imports what it uses when it runs, so `recall --help` and the commands that only
read the database start in a fraction of a second; only flow commands load Prefect.
"""

from __future__ import annotations

import typer

from recall.cli import calls, data, ops, users

cli = typer.Typer(
    help="Product-recall campaigns: import buyers, launch recalls, follow cases.",
    no_args_is_help=True,
)
for module in (data, calls, users, ops):
    module.register(cli)


def main() -> None:
    cli()
