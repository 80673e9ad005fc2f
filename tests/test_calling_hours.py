"""Calling hours: public holidays of the customer's country, and why nothing can be called."""

import dataclasses
import datetime as dt
import html

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from recall.bootstrap import App
from recall.calling.agent_queue import CALLBACK, HOLIDAY, NOTICE, RETRY, my_queue
from recall.calling.assignment import assign_call_list
from recall.calling.claiming import next_case
from recall.calling.idle import EMPTY, NothingToCall, nothing_to_call
from recall.cli import cli
from recall.db.models import Case
from recall.domain.calling import calling_windows, holiday, may_call_at, next_opening
from recall.domain.definition import CallPolicy, InvalidDefinition, hours_text
from recall.selfservice.slots import offered_slots, slot_named
from recall.web.app import create_app
from recall.web.languages import Clocks
from recall.web.words import DeskWords
from tests.console_support import build_console, csrf_of, log_in
from tests.support import agent, customer, definition, launch, line, seed

UTC = dt.UTC
PARIS, BRUSSELS = "Europe/Paris", "Europe/Brussels"
CHRISTMAS_10H_PARIS = dt.datetime(2026, 12, 25, 9, 0, tzinfo=UTC)  # a Friday
BASTILLE_DAY_10H_PARIS = dt.datetime(2026, 7, 14, 8, 0, tzinfo=UTC)  # a Tuesday
BELGIAN_NATIONAL_DAY_10H = dt.datetime(2026, 7, 21, 8, 0, tzinfo=UTC)  # a Tuesday
MONDAY_20H17_PARIS = dt.datetime(2026, 11, 23, 19, 17, tzinfo=UTC)
TUESDAY_9H_PARIS = dt.datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
DEFAULT = CallPolicy()  # mon-fri 09:00-20:00, sat 10:00-18:00, holidays of the customer's country


def test_a_french_customer_is_not_called_on_christmas_and_is_called_the_day_after():
    assert not may_call_at(DEFAULT, PARIS, CHRISTMAS_10H_PARIS, "FR")
    assert holiday(DEFAULT, "FR", dt.date(2026, 12, 25)) == "Christmas Day (FR)"
    assert holiday(DEFAULT, "FR", dt.date(2026, 12, 25), "fr") == "Noël (FR)"
    # Saturday 26 December is no holiday in France: the Saturday hours, from 10:00.
    boxing_day_10h = dt.datetime(2026, 12, 26, 9, 0, tzinfo=UTC)
    assert next_opening(DEFAULT, PARIS, CHRISTMAS_10H_PARIS, "FR") == boxing_day_10h


def test_bastille_day_is_skipped_for_a_french_customer():
    assert not may_call_at(DEFAULT, PARIS, BASTILLE_DAY_10H_PARIS, "FR")
    wednesday_9h = dt.datetime(2026, 7, 15, 7, 0, tzinfo=UTC)  # 09:00 in Paris, summer time
    assert next_opening(DEFAULT, PARIS, BASTILLE_DAY_10H_PARIS, "FR") == wednesday_9h


def test_a_belgian_customer_is_not_called_on_the_belgian_national_day_a_french_one_is():
    assert not may_call_at(DEFAULT, BRUSSELS, BELGIAN_NATIONAL_DAY_10H, "BE")
    assert may_call_at(DEFAULT, PARIS, BELGIAN_NATIONAL_DAY_10H, "FR")
    wednesday_9h = dt.datetime(2026, 7, 22, 7, 0, tzinfo=UTC)
    assert next_opening(DEFAULT, BRUSSELS, BELGIAN_NATIONAL_DAY_10H, "BE") == wednesday_9h


def test_a_customer_of_unknown_country_is_called_on_the_calling_hours_alone():
    assert may_call_at(DEFAULT, PARIS, CHRISTMAS_10H_PARIS)
    assert may_call_at(DEFAULT, PARIS, CHRISTMAS_10H_PARIS, "")


def test_holidays_false_calls_on_a_holiday():
    policy = definition(call={"holidays": False}).call
    assert policy.holidays is False
    assert may_call_at(policy, PARIS, CHRISTMAS_10H_PARIS, "FR")


def test_holidays_listed_are_those_of_every_customer_whatever_their_country():
    policy = definition(call={"holidays": ["fr"]}).call
    assert policy.holidays == ("FR",)
    assert not may_call_at(policy, BRUSSELS, BASTILLE_DAY_10H_PARIS, "BE")
    assert may_call_at(policy, BRUSSELS, BELGIAN_NATIONAL_DAY_10H, "BE")


def test_holidays_default_to_the_customers_country():
    assert definition().call.holidays is True


@pytest.mark.parametrize("value", ["yes", [], ["XX"], ["FR", "FRANCE"], {"FR": True}])
def test_a_bad_holidays_value_is_a_field_error(value):
    with pytest.raises(InvalidDefinition) as caught:
        definition(call={"holidays": value})
    (error,) = [e for e in caught.value.errors if e.field == "call.holidays"]
    assert "true (the customer's country), false (none) or a list" in error.message


def test_calling_hours_are_told_as_a_person_reads_them():
    assert hours_text(calling_windows(DEFAULT)) == "Mon-Fri 09:00-20:00, Sat 10:00-18:00"
    policy = definition(call={"calling_hours": {"mon-fri": "09:00-12:00", "tue": "14:00-24:00"}})
    assert hours_text(policy.call.calling_hours) == (
        "Mon 09:00-12:00, Tue 09:00-12:00/14:00-24:00, Wed-Fri 09:00-12:00"
    )


# Working a list: next case, My list and why nothing can be called.


def list_of(engine, *customers, now=BELGIAN_NATIONAL_DAY_10H, **recall):
    seed(engine, *customers, *(line(c.customer_id, "2026-03-01") for c in customers))
    seed(engine, agent("A1"))
    launch(engine, **recall)
    assign_call_list(engine=engine, recall_id="R-2026-014", home_language="fr", clock=lambda: now)


def caller(customer_id, **fields):
    return customer(customer_id, address_line1=None, **fields)


def test_next_case_passes_over_customers_on_a_holiday_of_their_country(engine):
    # Both phones are French (the Paris clock); the Belgian customer keeps Belgium's holidays.
    list_of(
        engine,
        caller("FR1", first_name="Paul", phone="06 12 34 56 78"),
        caller("BE1", first_name="Lotte", phone="+33 6 12 34 56 79", country="BE"),
    )
    with Session(engine) as session, session.begin():  # the Belgian customer comes first
        session.execute(update(Case).where(Case.customer_id == "BE1").values(priority=0))

    def clock() -> dt.datetime:
        return BELGIAN_NATIONAL_DAY_10H

    card = next_case(engine=engine, agent_id="A1", clock=clock)
    assert card is not None and card.call_zone == PARIS and card.customer.startswith("Paul")
    assert next_case(engine=engine, agent_id="A1", desk="2", clock=clock) is None
    rows = my_queue(engine=engine, agent_id="A1", clock=clock).rows
    wednesday_9h = dt.datetime(2026, 7, 22, 7, 0, tzinfo=UTC)  # 09:00 in Paris, summer time
    shown = [(r.customer.split()[0], r.callable_at, r.zone, r.waiting, r.holiday) for r in rows]
    assert sorted(shown, key=lambda r: r[0]) == [
        ("Lotte", wednesday_9h, PARIS, HOLIDAY, "National Day (BE)"),
        ("Paul", None, PARIS, "", ""),
    ]
    said = DeskWords("fr", Clocks(PARIS, "fr"), clock())
    assert said.waiting(HOLIDAY, "National Day (BE)") == "jour férié : National Day (BE)"


def words_at(now: dt.datetime, language: str = "fr") -> DeskWords:
    """The desk's words of an agent on the Paris clock."""
    return DeskWords(language, Clocks(PARIS, language), now)


def plain(text: str) -> str:
    return " ".join(html.unescape(text).split())  # narrow and non-breaking spaces made plain


def test_on_a_holiday_for_everyone_the_reason_names_it_and_the_next_working_day(engine):
    list_of(engine, caller("FR1", phone="06 12 34 56 78"), now=CHRISTMAS_10H_PARIS)
    assert next_case(engine=engine, agent_id="A1", clock=lambda: CHRISTMAS_10H_PARIS) is None
    why = nothing_to_call(engine=engine, agent_id="A1", clock=lambda: CHRISTMAS_10H_PARIS)
    saturday_10h = dt.datetime(2026, 12, 26, 9, 0, tzinfo=UTC)
    assert why == NothingToCall(HOLIDAY, saturday_10h, PARIS, calling_windows(DEFAULT),
                                "Christmas Day (FR)")  # fmt: skip
    why = nothing_to_call(engine=engine, agent_id="A1", clock=lambda: CHRISTMAS_10H_PARIS,
                          language="fr")  # fmt: skip
    assert plain(words_at(CHRISTMAS_10H_PARIS).nothing_to_call(why)) == (
        "Personne ne peut être appelé maintenant : c'est aujourd'hui un jour férié pour les "
        "clients (Noël (FR)) ; les heures d'appel sont lun.-ven. 09:00-20:00, sam. "
        "10:00-18:00, à leur heure. Premier appel possible : 26 déc. 2026 10:00, votre heure "
        "(Paris), soit 26 déc. 2026 10:00, heure du client (Paris)."
    )


def test_holidays_false_hands_out_a_case_on_christmas(engine):
    list_of(
        engine, caller("FR1", phone="06 12 34 56 78"), now=CHRISTMAS_10H_PARIS,
        call={"holidays": False},
    )  # fmt: skip
    assert next_case(engine=engine, agent_id="A1", clock=lambda: CHRISTMAS_10H_PARIS) is not None


def waiting(engine, **values) -> None:
    with Session(engine) as session, session.begin():
        session.execute(update(Case).values(**values))


def test_why_nothing_says_what_the_cases_wait_for(engine):
    list_of(engine, caller("FR1", phone="06 12 34 56 78"), now=TUESDAY_9H_PARIS)
    later = TUESDAY_9H_PARIS + dt.timedelta(hours=5, minutes=30)  # 14:30 in Paris

    def why() -> NothingToCall:
        return nothing_to_call(engine=engine, agent_id="A1", clock=lambda: TUESDAY_9H_PARIS)

    waiting(engine, next_call_at=later, callback_at=later)
    assert why() == NothingToCall(CALLBACK, later, PARIS)
    assert plain(words_at(TUESDAY_9H_PARIS, "en").nothing_to_call(why())) == (
        "The next cases wait for the time their customers asked to be called back. First "
        "possible call: 2:30 PM, your time (Paris), that is 2:30 PM, customer's time (Paris)."
    )  # today: the time alone
    waiting(engine, callback_at=None, attempts=1)
    assert why().reason == RETRY
    waiting(engine, attempts=0, next_call_at=later + dt.timedelta(days=1))
    assert why() == NothingToCall(NOTICE, later + dt.timedelta(days=1), PARIS)
    assert plain(words_at(TUESDAY_9H_PARIS).nothing_to_call(why())) == (
        "Les appels attendent que les clients répondent à leur e-mail ou à leur SMS. Premier "
        "appel possible : 25 nov. 2026 14:30, votre heure (Paris), soit 25 nov. 2026 14:30, "
        "heure du client (Paris)."
    )
    [row] = my_queue(engine=engine, agent_id="A1", clock=lambda: TUESDAY_9H_PARIS).rows
    assert (row.callable_at, row.zone, row.waiting) == (later + dt.timedelta(days=1), PARIS,
                                                       NOTICE)  # fmt: skip


def test_an_empty_list_is_said_to_be_empty(engine):
    seed(engine, agent("A1"))
    why = nothing_to_call(engine=engine, agent_id="A1", clock=lambda: TUESDAY_9H_PARIS)
    assert why == NothingToCall(EMPTY)
    assert words_at(TUESDAY_9H_PARIS).nothing_to_call(why) == (
        "Votre liste est vide : plus personne à appeler."
    )
    assert words_at(TUESDAY_9H_PARIS, "en").nothing_to_call(why) == (
        "Your list is empty: nobody is left to call."
    )


# The console and the command line at 20:17, Paris time.

AFTER_HOURS = (  # alice's French, on her clock and the customers'
    "Personne ne peut être appelé maintenant : les heures d'appel sont lun.-ven. 09:00-20:00, "
    "sam. 10:00-18:00, à l'heure des clients. Premier appel possible : 24 nov. 2026 09:00, "
    "votre heure (Paris), soit 24 nov. 2026 09:00, heure du client (Paris)."
)


@pytest.fixture
def console_after_hours(database_url, tmp_path):
    app, _ = build_console(database_url, tmp_path)
    late = App(dataclasses.replace(app.settings, now=MONDAY_20H17_PARIS), app.engine)
    yield late, create_app(late)
    app.engine.dispose()


def test_after_hours_the_console_says_why_nothing_and_marks_the_rows_not_callable(
    console_after_hours,
):
    _, web = console_after_hours
    with TestClient(web) as client:
        log_in(client, "alice")
        token = csrf_of(client.get("/my/list").text)
        answer = client.post("/my/next", data={"csrf": token}, follow_redirects=False)
        assert answer.headers["location"] == "/my/list"
        page = plain(client.get("/my/list").text)
    assert AFTER_HOURS in page
    assert ">maintenant<" not in page  # no row says it can be called now
    assert page.count("Pas encore :</strong> 24 nov. 2026 09:00, heure du client (Paris)") == 2
    assert page.count("hors des heures d'appel") == 2


def test_after_hours_the_command_line_says_the_same(console_after_hours, database_url, tmp_path):
    env = {
        "RECALL_DATABASE_URL": database_url,
        "RECALL_DATA_DIR": str(tmp_path / "var"),
        "RECALL_NOW": "2026-11-23T20:17+01:00",
    }
    result = CliRunner().invoke(cli, ["calls", "next", "--agent", "A1"], env=env)
    assert result.exit_code == 0, result.output
    assert " ".join(result.output.split()) == (  # the command line's plain English
        "Nothing to call now: outside calling hours (Mon-Fri 09:00-20:00, Sat 10:00-18:00); "
        "first possible call at 09:00 tomorrow (Europe/Paris)."
    )


def test_the_self_service_page_offers_no_callback_on_a_public_holiday_of_the_customers_country():
    wednesday_23_december_10h = dt.datetime(2026, 12, 23, 9, 0, tzinfo=UTC)
    french = offered_slots(DEFAULT, PARIS, wednesday_23_december_10h, "FR")
    christmas = dt.date(2026, 12, 25)
    assert christmas not in {slot.day for slot in french}
    assert {dt.date(2026, 12, 24), dt.date(2026, 12, 26)} <= {slot.day for slot in french}
    assert len({slot.day for slot in french}) == 6  # still six days offered, the next ones
    assert slot_named("2026-12-25 morning", DEFAULT, PARIS, wednesday_23_december_10h, "FR") is None
    unknown = offered_slots(DEFAULT, PARIS, wednesday_23_december_10h)  # no country on file
    assert christmas in {slot.day for slot in unknown}
