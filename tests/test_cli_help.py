"""The command line as a person meets it: every option explained, times typed as they are said
on the customer's clock, and an unknown agent or case refused by its name, never by our ids."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import typer
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.core import TyperArgument, TyperOption
from typer.testing import CliRunner

from recall.calling.assignment import assign_call_list
from recall.cli import cli
from recall.db.engine import make_engine
from recall.db.models import Case
from recall.domain.typed_times import UnreadableTime, read_typed_time
from tests.support import agent, callers, command_line, launch, seed

PARIS = ZoneInfo("Europe/Paris")
MONDAY_10H = dt.datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)  # a Wednesday, 10:00 in Paris
LAUNCHED = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
NO_CASE = "R-2026-014-999999"


def commands(command, path="recall"):
    """Every command of the tree under `command`, with its path."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from commands(sub, f"{path} {name}")


def said(result) -> str:
    return " ".join(result.output.split())


def test_every_command_option_and_argument_says_what_it_is():
    unexplained = []
    for path, command in commands(typer.main.get_command(cli)):
        if not (command.help or "").strip():
            unexplained.append(path)
        for param in command.params:
            assert isinstance(param, TyperOption | TyperArgument), (path, param)
            if not (param.help or "").strip():
                unexplained.append(f"{path} {param.name}")
    assert unexplained == []


def test_a_command_help_shows_the_forms_a_callback_time_takes():
    shown = said(CliRunner().invoke(cli, ["calls", "record", "--help"]))
    assert "--callback-at" in shown and "demain 10h30" in shown and "03/12/2026 10:30" in shown


def at(year, month, day, hour, minute=0, zone=PARIS):
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("2026-12-03 10:30", at(2026, 12, 3, 10, 30)),
        ("2026-12-03T10:30", at(2026, 12, 3, 10, 30)),
        ("03/12/2026 10:30", at(2026, 12, 3, 10, 30)),
        ("3/12/2026 9h", at(2026, 12, 3, 9)),
        ("10:30", at(2026, 11, 23, 10, 30)),  # later today
        ("09:30", at(2026, 11, 24, 9, 30)),  # gone by today: tomorrow's
        ("14h30", at(2026, 11, 23, 14, 30)),
        ("tomorrow 10:30", at(2026, 11, 24, 10, 30)),
        ("demain 10:30", at(2026, 11, 24, 10, 30)),
        ("Demain à 10h30", at(2026, 11, 24, 10, 30)),
        ("aujourd'hui 14h", at(2026, 11, 23, 14)),
        ("Aujourd’hui  14h", at(2026, 11, 23, 14)),
        ("today at 18:00", at(2026, 11, 23, 18)),
        ("2026-12-03T10:30+00:00", at(2026, 12, 3, 10, 30, dt.UTC)),
        ("2026-12-03 10:30Z", at(2026, 12, 3, 10, 30, dt.UTC)),
        ("demain 10:30 -04:00", at(2026, 11, 24, 14, 30, dt.UTC)),
    ],
)
def test_a_time_is_read_as_a_person_types_it_on_the_customers_clock(typed, meant):
    assert read_typed_time(typed, now=MONDAY_10H, zone=PARIS) == meant


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("tomorrow", "is not a time; write it as 2026-12-03 10:30, 03/12/2026 10:30"),
        ("2026-12-03", "is not a time; write it as"),
        ("next week", "is not a time; write it as"),
        ("", "is not a time; write it as"),
        ("10h5", "is not a time; write it as"),
        ("demaint10:30", "is not a time; write it as"),
        ("25:00", "there is no 25:00 on a clock"),
        ("10:75", "there is no 10:75 on a clock"),
    ],
)
def test_what_is_not_a_time_is_refused_with_the_forms_to_use(typed, why):
    with pytest.raises(UnreadableTime) as refused:
        read_typed_time(typed, now=MONDAY_10H, zone=PARIS)
    assert str(refused.value).startswith(f"{typed!r}") and why in str(refused.value)


def test_a_day_that_is_not_in_the_calendar_is_refused():
    with pytest.raises(UnreadableTime, match="no such day"):
        read_typed_time("31/02/2027 10:00", now=MONDAY_10H, zone=PARIS)


def test_tomorrow_is_the_next_day_on_the_customers_clock_when_the_clocks_go_forward():
    saturday_evening = at(2026, 3, 28, 20)  # Paris goes from +01:00 to +02:00 that night
    expected = dt.datetime(2026, 3, 29, 8, 30, tzinfo=dt.UTC)  # 10:30 summer time
    assert read_typed_time("demain 10:30", now=saturday_evening, zone=PARIS) == expected
    assert read_typed_time("10:30", now=saturday_evening, zone=PARIS) == expected


def test_a_time_the_clocks_skip_is_refused_and_one_they_show_twice_is_the_first():
    with pytest.raises(UnreadableTime, match="does not exist"):
        read_typed_time("2026-03-29 02:30", now=MONDAY_10H, zone=PARIS)
    twice = read_typed_time("2026-10-25 02:30", now=at(2026, 10, 24, 12), zone=PARIS)
    assert twice == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)  # still summer time


def test_a_time_of_day_is_the_customers_even_far_from_paris():
    martinique = ZoneInfo("America/Martinique")  # UTC-4: 05:00 there as it is 10:00 in Paris
    typed = read_typed_time("10:30", now=MONDAY_10H, zone=martinique)
    assert typed == dt.datetime(2026, 11, 23, 14, 30, tzinfo=dt.UTC)


@pytest.fixture
def run(database_url, tmp_path, monkeypatch):
    return command_line(monkeypatch, database_url, tmp_path / "var", NOW)


@pytest.fixture
def worked(database_url):
    """Two callers on agent A1's list, and agent A2 with an empty one."""
    engine = make_engine(database_url)
    seed(engine, *callers(2), agent("A1"))
    launch(engine, clock=lambda: LAUNCHED)
    assign_call_list(engine=engine, recall_id="R-2026-014", home_language="fr",
                     clock=lambda: LAUNCHED)  # fmt: skip
    seed(engine, agent("A2"))
    yield engine
    engine.dispose()


def case_of(engine, customer_id):
    with Session(engine) as session:
        return session.scalar(select(Case).where(Case.customer_id == customer_id))


def utc(at_time):
    return at_time if at_time.tzinfo else at_time.replace(tzinfo=dt.UTC)


def test_a_callback_typed_in_french_is_kept_on_the_customers_clock(run, worked):
    paris, far = case_of(worked, "C00000"), case_of(worked, "C00001")
    with Session(worked) as session, session.begin():
        session.execute(
            update(Case).where(Case.id == far.id).values(call_zone="America/Martinique")
        )
    recorded = run("calls", "record", paris.case_ref, "--agent", "A1", "--disposition",
                   "callback_requested", "--callback-at", "demain 10:30")  # fmt: skip
    assert recorded.exit_code == 0, recorded.output
    assert "next call: Thu 2026-11-26 10:30 (Europe/Paris)" in said(recorded)
    assert utc(case_of(worked, "C00000").callback_at) == dt.datetime(
        2026, 11, 26, 9, 30, tzinfo=dt.UTC
    )

    recorded = run("calls", "record", far.case_ref, "--agent", "A1",
                   "--disposition", "callback_requested", "--callback-at", "14h")  # fmt: skip
    assert recorded.exit_code == 0, recorded.output
    assert utc(case_of(worked, "C00001").callback_at) == dt.datetime(
        2026, 11, 25, 18, 0, tzinfo=dt.UTC
    )


def test_a_callback_time_that_cannot_be_read_names_the_option_and_the_forms(run, worked):
    ref = case_of(worked, "C00000").case_ref
    refused = run("calls", "record", ref, "--agent", "A1",
                  "--disposition", "callback_requested", "--callback-at", "tomorrow")  # fmt: skip
    assert refused.exit_code == 2
    assert "--callback-at: 'tomorrow' is not a time; write it as 2026-12-03 10:30" in said(refused)
    assert case_of(worked, "C00000").callback_at is None


def test_an_unknown_agent_is_an_error_in_every_command_that_takes_one(run, worked):
    ref = case_of(worked, "C00000").case_ref
    for args in (
        ("calls", "next", "--agent", "AG999"),
        ("calls", "record", ref, "--agent", "AG999", "--disposition", "busy"),
        ("calls", "dial", ref, "--agent", "AG999"),
        ("calls", "sheet", "R-2026-014", "--agent", "AG999"),
        ("agents", "activate", "AG999"),
        ("agents", "deactivate", "AG999"),
    ):
        refused = run(*args)
        assert refused.exit_code == 2, args
        assert "no agent" in said(refused) and "AG999" in said(refused), args


def test_an_unknown_case_is_an_error_in_every_command_that_takes_one(run, worked):
    for args in (
        ("calls", "record", NO_CASE, "--agent", "A1", "--disposition", "busy"),
        ("calls", "dial", NO_CASE, "--agent", "A1"),
        ("fulfilment", "record", NO_CASE, "--kind", "refund_paid", "--on", "2026-11-24"),
        ("incident", NO_CASE, "--kind", "burn", "--severity", "none", "--on", "2026-11-24"),
        ("checks", "record", NO_CASE, "--received", "yes", "--acted", "yes"),
    ):
        refused = run(*args)
        assert refused.exit_code == 2, args
        assert f"no case has the reference '{NO_CASE}'" in said(refused), args


def test_messages_name_the_case_reference_never_its_row(run, worked):
    case = case_of(worked, "C00000")
    shown = said(run("calls", "next", "--agent", "A1"))
    assert case.case_ref in shown and "case_id" not in shown
    refused = run("calls", "record", case.case_ref, "--agent", "A2", "--disposition", "busy")
    assert refused.exit_code == 2
    assert f"case {case.case_ref} is not on the list of agent A2" in said(refused)
