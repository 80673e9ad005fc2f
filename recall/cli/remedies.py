"""`recall` commands for what follows an agreed remedy and for the regulator: fulfilments,
returns at the till, incidents, the effectiveness check and the monthly progress report."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import typer

from recall.cli.output import fail, out

fulfilment_cli = typer.Typer(help="Remedies carried out: a refund paid, a replacement shipped, ...")
checks_cli = typer.Typer(
    help="The effectiveness check: a sample of notified customers called back."
)

RefArg = Annotated[
    str, typer.Argument(help="the case reference, as on the letter, e.g. R-2026-014-000949")
]
RecallArg = Annotated[str, typer.Argument(help="the recall's id, e.g. R-2026-014")]
OnOpt = Annotated[
    str,
    typer.Option("--on", help="the day it happened: 2026-12-01, 01/12/2026, 1 décembre 2026, hier"),
]


def register(cli: typer.Typer) -> None:
    cli.add_typer(fulfilment_cli, name="fulfilment")
    cli.add_typer(checks_cli, name="checks")
    cli.command("incident")(incident)
    cli.command("till-returns")(till_returns)
    cli.command("monthly-report")(monthly_report)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@fulfilment_cli.command("record")
def fulfilment_record(
    case_ref: RefArg,
    kind: Annotated[
        str,
        typer.Option(
            help="refund_paid, replacement_shipped, repair_done, "
            "returned_to_store, collected or destroyed"
        ),
    ],
    on: OnOpt,
    units: Annotated[str, typer.Option(help="units carried out (default: all left)")] = "",
    amount: Annotated[str, typer.Option(help="a refund's amount, e.g. 49.90")] = "",
    currency: Annotated[str, typer.Option(help="ISO code of the amount's currency")] = "EUR",
    by: Annotated[str, typer.Option(help="who did it: a store, a carrier, a technician")] = "",
    reference: Annotated[str, typer.Option(help="the retailer's own reference")] = "",
) -> None:
    """Record that the agreed remedy of a case was carried out."""
    from recall.bootstrap import build_app
    from recall.remedies.fulfilment import FulfilmentInput, record_fulfilment

    app = build_app()
    given = FulfilmentInput(case_ref, kind, on, units, amount, currency, by, reference)
    done = record_fulfilment(engine=app.engine, given=given, actor=_actor(), source="cli",
                             clock=app.clock)  # fmt: skip
    if done.recorded:
        out.print(f"{done.case_ref}: {done.kind} recorded, {done.units} unit(s) corrected")
    else:
        out.print(f"{done.case_ref}: {done.kind} was already recorded; nothing changed")


@fulfilment_cli.command("import")
def fulfilment_import(
    path: Annotated[
        Path,
        typer.Argument(
            help="CSV: case_ref, kind, done_on, and optionally "
            "units, amount, currency, done_by, reference"
        ),
    ],
    recall_id: Annotated[
        str | None, typer.Option("--recall", help="refuse the rows of another recall's cases")
    ] = None,
) -> None:
    """Record a file of fulfilments from the retailer's systems; bad rows go to a rejects file."""
    from recall.bootstrap import build_app
    from recall.remedies.fulfilment_file import import_fulfilments

    app = build_app()
    report = import_fulfilments(
        engine=app.engine, path=path, actor=_actor(), recall_id=recall_id, clock=app.clock
    )
    out.print(f"{path.name}: {report.recorded:,} recorded ({report.units:,} unit(s) corrected), "
              f"{report.already:,} already recorded, {report.rejected:,} rejected")  # fmt: skip
    if report.rejects_file:
        out.print(f"rejected rows and why: {report.rejects_file}")


def incident(
    case_ref: RefArg,
    kind: Annotated[str, typer.Option(help="what happened, e.g. burn, fire, electric shock")],
    severity: Annotated[str, typer.Option(help="none, property_damage, injury or death")],
    on: OnOpt,
    text: Annotated[str, typer.Option(help="what the customer said")] = "",
) -> None:
    """Record an incident on a case; an injury or a death sends it to a health specialist."""
    from recall.bootstrap import build_app
    from recall.remedies.incidents import IncidentReport, record_incident

    app = build_app()
    done = record_incident(
        engine=app.engine, given=IncidentReport(case_ref, kind, severity, on, text),
        actor=_actor(), channel="cli", clock=app.clock,
    )  # fmt: skip
    out.print(f"{done.case_ref}: incident recorded ({done.severity})")
    if done.escalated:
        held = f"agent {done.agent_id}" if done.agent_id else "the next specialist free"
        out.print(f"{done.case_ref}: escalated to a health specialist ({held})")


def till_returns(
    recall_id: Annotated[
        str | None, typer.Argument(help="one recall (default: every open one)")
    ] = None,
) -> None:
    """Correct the cases whose product came back at a till (return lines imported since)."""
    from recall.bootstrap import build_app

    apply_till_returns(build_app(), [recall_id] if recall_id else None, quiet=False)


def apply_till_returns(app: Any, recall_ids: list[str] | None, *, quiet: bool) -> None:
    """One pass of the till returns on the recalls (default: every open one), said per recall
    (`quiet`: only where something changed)."""
    from recall.remedies.till import apply_till_returns as apply
    from recall.reporting.overview import open_recall_ids

    for rid in recall_ids or open_recall_ids(engine=app.engine):
        done = apply(engine=app.engine, recall_id=rid, clock=app.clock)
        if done.cases or not quiet:
            out.print(f"{rid}: {done.cases:,} case(s) with units back at a till, "
                      f"{done.units:,} unit(s); {done.closed:,} closed")  # fmt: skip
        if done.skipped:
            out.print(f"{rid}: left as recorded: {', '.join(done.skipped[:10])}")


@checks_cli.command("draw")
def checks_draw(
    recall_id: RecallArg,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="folder for the check list (default: $RECALL_DATA_DIR/checks/RECALL_ID)"
        ),
    ] = None,
) -> None:
    """Draw the sample to check (or top it up with customers notified since) and list it."""
    from recall.bootstrap import build_app
    from recall.reporting.effectiveness import draw_checks

    app = build_app()
    drawn = draw_checks(
        engine=app.engine, recall_id=recall_id,
        out_dir=out_dir or app.settings.data_dir / "checks" / recall_id, clock=app.clock,
    )  # fmt: skip
    out.print(f"{recall_id}: level {drawn.level} ({drawn.share:.0%} of {drawn.notified:,} "
              f"notified): {drawn.drawn:,} drawn now, {drawn.sample:,} in all")  # fmt: skip
    if drawn.check_list:
        out.print(f"check list: {drawn.check_list}")


@checks_cli.command("record")
def checks_record(
    case_ref: RefArg,
    received: Annotated[str, typer.Option(help="did the notice reach them: yes or no")] = "",
    acted: Annotated[str, typer.Option(help="did they do what it asks: yes or no")] = "",
    no_answer: Annotated[
        bool, typer.Option("--no-answer", help="the check call reached nobody")
    ] = False,
) -> None:
    """Record the answers of one check call."""
    from recall.bootstrap import build_app
    from recall.cli.lookup import find_case
    from recall.reporting.effectiveness import record_check

    if no_answer and (received or acted):
        fail("--no-answer goes without --received and --acted")
    app = build_app()
    find_case(app.engine, case_ref)  # an unknown reference said so, not "not drawn"
    figures = record_check(
        engine=app.engine, case_ref=case_ref, answered=not no_answer,
        received=received.strip().lower(), acted=acted.strip().lower(), actor=_actor(),
        clock=app.clock,
    )  # fmt: skip
    out.print(f"{case_ref}: recorded; {figures.checked:,} of {figures.sample:,} checks made")


def monthly_report(
    recall_id: RecallArg,
    month: Annotated[
        str | None, typer.Option(help="the month, e.g. 2026-11 (default: this one)")
    ] = None,
    language: Annotated[str, typer.Option("--language", help="fr or en")] = "fr",
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="folder for the files (default: $RECALL_DATA_DIR/reports/RECALL_ID/monthly)",
        ),
    ] = None,
) -> None:
    """The month's progress report for the regulator (CPSC structure): a PDF and a CSV."""
    from recall import i18n
    from recall.bootstrap import build_app
    from recall.reporting.monthly import monthly_report as build
    from recall.reporting.monthly import write_monthly_report

    if language not in i18n.LANGUAGES:
        fail(f"--language {language!r}: choose {' or '.join(i18n.LANGUAGES)}")
    app = build_app()
    report = build(engine=app.engine, recall_id=recall_id, month=month, clock=app.clock)
    files = write_monthly_report(
        report, out_dir=out_dir or app.settings.data_dir / "reports" / recall_id / "monthly",
        fonts_dir=app.fonts_dir, language=language,
    )  # fmt: skip
    out.print(f"{files.pdf}\n{files.csv}", soft_wrap=True)  # paths stay whole
