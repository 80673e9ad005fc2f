"""The `recall` commands of the call centre: agents, assignment, working a list, the webhooks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from recall.cli.output import fail, out

if TYPE_CHECKING:
    from sqlalchemy import Engine

agents_cli = typer.Typer(help="Call-centre agents: import the roster, list, (de)activate.")
calls_cli = typer.Typer(help="Working a call list: next case, record a call, dial, call sheets.")
AgentOpt = Annotated[str, typer.Option("--agent", help="agent id")]
DeskOpt = Annotated[str, typer.Option(help="one of the agent's desks, when they use several")]


def register(cli: typer.Typer) -> None:
    cli.add_typer(agents_cli, name="agents")
    cli.add_typer(calls_cli, name="calls")
    cli.command("assign")(assign)
    cli.command("serve")(serve)


@agents_cli.command("import")
def agents_import(path: Path) -> None:
    """Import agents (agent_id, name, languages, skills, capacity, phone, active)."""
    from recall.bootstrap import build_app
    from recall.calling import agents as agent_service

    app = build_app()
    report = agent_service.import_agents(
        engine=app.engine, path=path, home_country=app.settings.home_country
    )
    out.print(
        f"{report.rows_read:,} row(s): {report.added:,} added, {report.updated:,} updated, "
        f"{report.unchanged:,} unchanged, {report.rejected:,} rejected"
    )
    if report.rejects_file:
        out.print(f"rejected rows and their reasons: {report.rejects_file}")
    if report.deactivated or report.activated:
        changed = ", ".join(report.deactivated + report.activated)
        out.print(
            f"agents switched on or off ({changed}): run `recall assign RECALL_ID --rebalance`"
        )


@agents_cli.command("list")
def agents_list() -> None:
    """The agents, their languages, skills, capacity and whether they are active."""
    from rich.table import Table

    from recall.bootstrap import build_app
    from recall.calling import agents as agent_service

    table = Table("agent", "name", "languages", "skills", "capacity", "phone", "active")
    for a in agent_service.list_agents(engine=build_app().engine):
        table.add_row(
            a.agent_id, a.name, ",".join(a.languages), ",".join(a.skills), str(a.capacity),
            "yes" if a.has_phone else "-", "yes" if a.active else "no",
        )  # fmt: skip
    out.print(table)


@agents_cli.command("deactivate")
def agents_deactivate(agent_id: str) -> None:
    """Take an agent off the call lists (then rebalance to hand their cases over)."""
    _set_active(agent_id, False)


@agents_cli.command("activate")
def agents_activate(agent_id: str) -> None:
    """Put an agent back on the call lists (then rebalance to give them cases)."""
    _set_active(agent_id, True)


def _set_active(agent_id: str, active: bool) -> None:
    from recall.bootstrap import build_app
    from recall.calling import agents as agent_service

    changed = agent_service.set_agent_active(
        engine=build_app().engine, agent_id=agent_id, active=active
    )
    state = "active" if active else "inactive"
    out.print(f"agent {agent_id} is {state}" + ("" if changed else " (no change)"))


def assign(
    recall_id: str,
    rebalance: Annotated[bool, typer.Option(help="even loads out, moving unworked cases")] = False,
) -> None:
    """Give call-list cases without an active agent one; --rebalance after agents change."""
    from recall.bootstrap import build_app
    from recall.calling.assignment import assign_call_list

    app = build_app()
    report = assign_call_list(
        engine=app.engine, recall_id=recall_id, home_language=app.settings.home_language,
        rebalance=rebalance, clock=app.clock,
    )  # fmt: skip
    out.print(
        f"{report.assigned:,} case(s) assigned, {report.moved:,} moved, over {report.agents} "
        f"active agent(s) in {report.seconds:.2f} s"
    )
    for why, count in {**report.fallbacks, **report.unplaced}.items():
        out.print(f"warning: {count:,} case(s): {why}")


@calls_cli.command("next")
def calls_next(agent: AgentOpt, desk: DeskOpt = "") -> None:
    """Claim and show the agent's next case to call (nothing when none is due)."""
    from recall.bootstrap import build_app
    from recall.calling.claiming import next_case

    app = build_app()
    card = next_case(engine=app.engine, agent_id=agent, desk=desk, clock=app.clock)
    if card is None:
        out.print("nothing to call now (outside calling hours, or every case is waiting)")
        return
    for name, value in card.__dict__.items():
        out.print(f"{name:>14}: {value if value is not None else '-'}")


@calls_cli.command("record")
def calls_record(
    case_ref: str,
    agent: AgentOpt,
    disposition: Annotated[
        str | None, typer.Option(help="no_answer, busy, voicemail, wrong_number, ...")
    ] = None,
    outcome: Annotated[str | None, typer.Option(help="after reached: a remedy, ...")] = None,
    callback_at: Annotated[str | None, typer.Option(help="ISO time with offset")] = None,
    skill: Annotated[str | None, typer.Option(help="escalation: the specialist skill")] = None,
    note: str | None = None,
    desk: DeskOpt = "",
) -> None:
    """Record a call to a case: its disposition and, once reached, the outcome."""
    from recall.bootstrap import build_app
    from recall.calling.outcomes import record_disposition, record_outcome

    app = build_app()
    engine, clock = app.engine, app.clock
    try:
        when = dt.datetime.fromisoformat(callback_at) if callback_at else None
    except ValueError:
        fail(f"--callback-at {callback_at!r} is not an ISO time, e.g. 2026-11-24T14:30+01:00")
    if when is not None and when.tzinfo is None:
        fail("--callback-at needs a time zone offset, e.g. 2026-11-24T14:30+01:00")
    case_id = _case_id(engine, case_ref)
    if disposition is None:
        if not outcome:
            fail("give --disposition, or --outcome for a case already reached")
        result = record_outcome(engine=engine, agent_id=agent, case_id=case_id,
                                outcome=outcome, skill=skill, note=note, desk=desk,
                                clock=clock)  # fmt: skip
    else:
        result = record_disposition(
            engine=engine, agent_id=agent, case_id=case_id, disposition=disposition,
            outcome=outcome, callback_at=when, skill=skill, note=note, desk=desk,
            clock=clock,
        )  # fmt: skip
    listed = "on the call list" if result.on_call_list else "off the call list"
    out.print(f"{result.case_ref}: {result.status}, {listed}. {result.note}".strip())


@calls_cli.command("dial")
def calls_dial(
    case_ref: str, agent: AgentOpt, text_first: bool = False, desk: DeskOpt = ""
) -> None:
    """Click-to-call: ring the agent's phone, then bridge to the customer (Twilio or offline)."""
    from recall.bootstrap import build_app
    from recall.calling.dialing import click_to_call

    app = build_app()
    dialled = click_to_call(
        engine=app.engine, telephony=app.telephony,
        settings=app.dial_settings, agent_id=agent,
        case_id=_case_id(app.engine, case_ref), desk=desk, text_first=text_first,
        clock=app.clock,
    )  # fmt: skip
    out.print(
        f"call {dialled.call_sid} placed; your phone rings first (attempt {dialled.attempt_id})"
    )


@calls_cli.command("sheet")
def calls_sheet(
    recall_id: str,
    agent: AgentOpt,
    out_dir: Annotated[Path | None, typer.Option("--out")] = None,
) -> None:
    """Write the agent's call list, in calling order, as PDF and CSV."""
    from recall.bootstrap import build_app
    from recall.calling.sheets import write_agent_sheet

    app = build_app()
    files = write_agent_sheet(
        engine=app.engine, recall_id=recall_id, agent_id=agent,
        out_dir=out_dir or app.settings.data_dir / "call-sheets" / recall_id,
        fonts_dir=app.fonts_dir, clock=app.clock,
    )  # fmt: skip
    out.print(f"{files.rows:,} case(s): {files.pdf} and {files.csv}")


def _case_id(engine: Engine, case_ref: str) -> int:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from recall.calling.claiming import NotYourCase
    from recall.db.models import Case

    with Session(engine) as session:
        found = session.scalar(select(Case.id).where(Case.case_ref == case_ref.strip()))
    if found is None:
        raise NotYourCase(f"no case has the reference {case_ref!r}")
    return found


# How long an idle connection is kept open. uvicorn's 5 s equalled the idle expiry of clients
# such as httpx, so one reusing its connection as the server closed it lost its request (a
# ReadError, not an answer); proxies keep theirs 60 s. Longer than both, the server never
# closes first on a client that still means to use the connection.
KEEP_ALIVE_SECONDS = 75


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="worker processes (PostgreSQL: one per core)")] = 1,
) -> None:
    """Serve the console and Twilio's webhooks (RECALL_PUBLIC_URL is where Twilio calls)."""
    import uvicorn

    from recall.bootstrap import build_app

    app = build_app()  # the schema is brought up to date once, before any worker starts
    # X-Forwarded-For is read only from the proxies named in RECALL_TRUSTED_PROXIES: uvicorn
    # would otherwise believe any local client's, and login throttling by address with it.
    proxies = app.settings.trusted_proxies
    uvicorn.run(
        "recall.web.app:app_from_env", factory=True, host=host, port=port, workers=workers,
        log_level="info", access_log=False,  # request lines would carry case ids to the logs
        proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )  # fmt: skip
