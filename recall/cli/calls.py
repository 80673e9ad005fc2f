"""The `recall` commands of the call centre: agents, assignment, working a list, the webhooks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from recall.cli.output import fail, out, say

if TYPE_CHECKING:
    from recall.bootstrap import App

agents_cli = typer.Typer(help="Call-centre agents: import the roster, list, (de)activate.")
calls_cli = typer.Typer(help="Working a call list: next case, record a call, dial, call sheets.")
AgentOpt = Annotated[str, typer.Option("--agent", help="the agent's id, e.g. A1")]
AgentArg = Annotated[str, typer.Argument(help="the agent's id, as in the agents file, e.g. A1")]
DeskOpt = Annotated[
    str, typer.Option(help="one of the agent's desks, when they use several (default: none)")
]
CaseArg = Annotated[str, typer.Argument(help="the case reference, e.g. R-2026-014-000949")]
RecallArg = Annotated[str, typer.Argument(help="the recall's id, e.g. R-2026-014")]


def register(cli: typer.Typer) -> None:
    cli.add_typer(agents_cli, name="agents")
    cli.add_typer(calls_cli, name="calls")
    cli.command("assign")(assign)
    cli.command("serve")(serve)


@agents_cli.command("import")
def agents_import(
    path: Annotated[Path, typer.Argument(help="the agents file, CSV or Parquet")],
) -> None:
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
def agents_deactivate(agent_id: AgentArg) -> None:
    """Take an agent off the call lists (then rebalance to hand their cases over)."""
    _set_active(agent_id, False)


@agents_cli.command("activate")
def agents_activate(agent_id: AgentArg) -> None:
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
    recall_id: RecallArg,
    rebalance: Annotated[
        bool, typer.Option(help="even the loads out, moving cases not worked yet")
    ] = False,
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
    from recall.calling.idle import nothing_to_call

    app = build_app()
    card = next_case(engine=app.engine, agent_id=agent, desk=desk, clock=app.clock)
    if card is None:  # why, and when someone can be called, on the customer's clock
        idle = nothing_to_call(engine=app.engine, agent_id=agent, clock=app.clock)
        out.print(_nothing_to_call(idle, app.clock()))
        return
    for name, value in card.__dict__.items():
        if name != "case_id":  # the reference names the case; the row number is ours
            out.print(f"{name:>14}: {value if value is not None else '-'}")


_IDLE = {  # why next-case handed out nothing: the reasons of recall.calling.idle
    "empty": "the list is empty", "elsewhere": "the cases callable now are open at another desk",
    "callback": "waiting for the callback times asked for",
    "retry": "waiting to retry unanswered calls",
    "notice": "waiting for answers to the e-mails or texts",
    "outside_hours": "outside calling hours ({hours})",
    "holiday": "a public holiday for the customers, {holiday} (calling hours {hours})",
}  # fmt: skip


def _nothing_to_call(idle, now: dt.datetime) -> str:
    """Why nothing can be called now, in the command line's plain English."""
    from recall.calling.agent_queue import when_text
    from recall.domain.definition import hours_text

    why = _IDLE.get(idle.reason, idle.reason).format(hours=hours_text(idle.hours),
                                                     holiday=idle.holiday)  # fmt: skip
    if idle.next_at is not None and idle.reason != "elsewhere":
        why += f"; first possible call at {when_text(idle.next_at, idle.zone, now)}"
    return f"Nothing to call now: {why}."


@calls_cli.command("record")
def calls_record(
    case_ref: CaseArg,
    agent: AgentOpt,
    disposition: Annotated[
        str | None,
        typer.Option(
            help="what the call came to: reached, no_answer, busy, voicemail, wrong_number, "
            "callback_requested or do_not_call (leave it out to give the --outcome of a case "
            "reached already)"
        ),
    ] = None,
    outcome: Annotated[
        str | None,
        typer.Option(
            help="once reached: a remedy of the recall (e.g. refund), not_in_possession, "
            "declined or escalated"
        ),
    ] = None,
    callback_at: Annotated[
        str | None,
        typer.Option(
            help="when to call back, on the customer's clock: 2026-12-03 10:30, "
            "03/12/2026 10:30, 10:30, tomorrow 10:30, demain 10h30 (an offset such as "
            "+01:00 is kept)"
        ),
    ] = None,
    skill: Annotated[
        str | None, typer.Option(help="for an escalation: the specialist skill, e.g. health")
    ] = None,
    note: Annotated[
        str | None, typer.Option(help="a note on the call, kept in the case's history")
    ] = None,
    desk: DeskOpt = "",
) -> None:
    """Record a call to a case: its disposition and, once reached, the outcome."""
    from recall.bootstrap import build_app
    from recall.calling.outcomes import record_disposition, record_outcome
    from recall.cli.lookup import find_case, typed_time

    app = build_app()
    engine, clock = app.engine, app.clock
    case = find_case(engine, case_ref)
    when = typed_time("--callback-at", callback_at, case=case, now=clock()) if callback_at else None
    case_id = case.case_id
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
    if when is not None and result.next_call_at is not None:
        out.print(f"next call: {_on_clock(result.next_call_at, case.zone)}")


@calls_cli.command("dial")
def calls_dial(
    case_ref: CaseArg,
    agent: AgentOpt,
    text_first: Annotated[
        bool, typer.Option(help="first text the customer that a call is coming")
    ] = False,
    desk: DeskOpt = "",
) -> None:
    """Click-to-call: ring the agent's phone, then bridge to the customer (Twilio or offline)."""
    from recall.bootstrap import build_app
    from recall.calling.dialing import click_to_call
    from recall.cli.lookup import find_case

    app = build_app()
    dialled = click_to_call(
        engine=app.engine, telephony=app.telephony,
        settings=app.dial_settings, agent_id=agent,
        case_id=find_case(app.engine, case_ref).case_id, desk=desk, text_first=text_first,
        clock=app.clock,
    )  # fmt: skip
    out.print(f"call {dialled.call_sid} placed; your phone rings first")


@calls_cli.command("sheet")
def calls_sheet(
    recall_id: RecallArg,
    agent: AgentOpt,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="folder for the files (default: $RECALL_DATA_DIR/call-sheets/RECALL_ID)"
        ),
    ] = None,
) -> None:
    """Write the agent's call list, in calling order, as PDF and CSV."""
    from recall.bootstrap import build_app
    from recall.calling.sheets import write_agent_sheet

    app = build_app()
    files = write_agent_sheet(
        engine=app.engine, recall_id=recall_id, agent_id=agent,
        out_dir=out_dir or app.settings.data_dir / "call-sheets" / recall_id,
        fonts_dir=app.fonts_dir, clock=app.clock, home_language=app.settings.home_language,
        home_zone=app.settings.home_zone,
    )  # fmt: skip
    out.print(f"{files.rows:,} case(s): {files.pdf} and {files.csv}")


def _on_clock(at: dt.datetime, zone: dt.tzinfo) -> str:
    """An instant as the customer's clock shows it (a stored naive time is UTC)."""
    local = (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(zone)
    return f"{local:%a %Y-%m-%d %H:%M} ({zone})"


# How long an idle connection is kept open. uvicorn's 5 s equalled the idle expiry of clients
# such as httpx, so one reusing its connection as the server closed it lost its request (a
# ReadError, not an answer); proxies keep theirs 60 s. Longer than both, the server never
# closes first on a client that still means to use the connection.
KEEP_ALIVE_SECONDS = 75


def _fit_pools(app: App, workers: int) -> None:
    """Shrink each worker's database pool (RECALL_DB_POOL, which the workers read) so that all
    of them fit in the connections PostgreSQL accepts; refuse to start when even small ones
    don't."""
    import os

    from recall.db.engine import SERVER_THREADS
    from recall.db.pool_sizing import TooManyWorkers, available_connections, fitting_pool

    available = available_connections(app.engine)
    app.engine.dispose()  # the connections of this process, which serves nothing, are let go
    if available is None:
        return
    try:
        pool = fitting_pool(available, workers, app.settings.db_pool)
    except TooManyWorkers as exc:
        fail(str(exc))
    if pool < (app.settings.db_pool or SERVER_THREADS):
        os.environ["RECALL_DB_POOL"] = str(pool)
        say(
            f"PostgreSQL accepts {available} more connections: each of the {workers} "
            f"workers keeps {pool} (RECALL_DB_POOL)"
        )


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes (PostgreSQL: one per core)")] = 1,
) -> None:
    """Serve the console and Twilio's webhooks (RECALL_PUBLIC_URL is where Twilio calls)."""
    import uvicorn

    from recall.bootstrap import build_app

    app = build_app()  # the schema is brought up to date once, before any worker starts
    _fit_pools(app, workers)
    # X-Forwarded-For is read only from the proxies named in RECALL_TRUSTED_PROXIES: uvicorn
    # would otherwise believe any local client's, and login throttling by address with it.
    proxies = app.settings.trusted_proxies
    uvicorn.run(
        "recall.web.app:app_from_env", factory=True, host=host, port=port, workers=workers,
        log_level="info", access_log=False,  # request lines would carry case ids to the logs
        proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )  # fmt: skip
