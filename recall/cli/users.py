"""`recall users`: console accounts and their roles."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from recall.cli.output import fail, out

users_cli = typer.Typer(help="Console users: add, list, (de)activate, new password.")
UserArg = Annotated[str, typer.Argument(help="the user's login name")]


def register(cli: typer.Typer) -> None:
    cli.add_typer(users_cli, name="users")


@users_cli.command("add")
def add(
    username: UserArg,
    role: Annotated[str, typer.Option(help="agent, lead, reporting or admin")],
    agent: Annotated[
        str, typer.Option("--agent", help="the agent's id, for the role agent, e.g. A1")
    ] = "",
    password_env: Annotated[
        str, typer.Option(help="read the password from this environment variable")
    ] = "",
) -> None:
    """Create a user; the password is asked for (or read from --password-env)."""
    from recall.accounts import users
    from recall.bootstrap import build_app

    password = _password(password_env)
    user = users.add_user(
        engine=build_app().engine, username=username, password=password, role=role,
        agent_id=agent or None,
    )  # fmt: skip
    linked = f", agent {user.agent_id}" if user.agent_id else ""
    out.print(f"user {user.username} added ({user.role}{linked})")


@users_cli.command("list")
def list_() -> None:
    """Every user, their role and agent id."""
    from rich.table import Table

    from recall.accounts import users
    from recall.bootstrap import build_app

    table = Table("user", "role", "agent", "active")
    for user in users.list_users(engine=build_app().engine):
        table.add_row(user.username, user.role, user.agent_id or "", "yes" if user.active else "no")
    out.print(table)


@users_cli.command("deactivate")
def deactivate(username: UserArg) -> None:
    """Keep a user out: every session of theirs ends at once."""
    from recall.accounts import users
    from recall.bootstrap import build_app

    users.set_user_active(engine=build_app().engine, username=username, active=False)
    out.print(f"user {username} deactivated")


@users_cli.command("password")
def password(
    username: UserArg,
    password_env: Annotated[
        str, typer.Option(help="read the password from this environment variable")
    ] = "",
) -> None:
    """Give a user a new password (asked for, or read from --password-env); every session of
    theirs ends at once."""
    from recall.accounts import users
    from recall.bootstrap import build_app

    new = _password(password_env)
    users.set_password(engine=build_app().engine, username=username, password=new)
    out.print(f"user {username}: new password set, their sessions ended")


def _password(password_env: str) -> str:
    if not password_env:
        return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))
    found = os.environ.get(password_env, "")
    if not found:
        fail(f"the environment variable {password_env} is empty or unset")
    return found
