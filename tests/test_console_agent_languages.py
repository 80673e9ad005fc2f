"""The agent's console in French by default and in English when the agent chooses it, with
every time on a clock that is named: the agent's own, or the customer's."""

import dataclasses
import datetime as dt
import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from recall import i18n
from recall.bootstrap import App
from recall.db.models import Case
from recall.web.app import create_app
from tests.console_support import csrf_of, log_in

REUNION = "Indian/Reunion"  # UTC+4: 10:30 there is 07:30 in Paris in November
MONDAY_20H17_PARIS = dt.datetime(2026, 11, 23, 19, 17, tzinfo=dt.UTC)


def text_of(page: str) -> str:
    """What the agent reads: the page's text, tags gone, entities read, spaces made plain."""
    words = html.unescape(re.sub(r"<[^>]+>", " ", page))
    return " ".join(words.replace("\u202f", " ").replace("\xa0", " ").split())


def in_english(client: TestClient) -> None:
    token = csrf_of(client.get("/my/list").text)
    chosen = client.post("/language", data={"csrf": token, "lang": "en"}, follow_redirects=False)
    assert chosen.status_code == 303


def open_next(client: TestClient) -> tuple[int, str]:
    token = csrf_of(client.get("/my/list").text)
    answer = client.post("/my/next", data={"csrf": token}, follow_redirects=False)
    target = answer.headers["location"]
    assert target.startswith("/cases/"), target
    return int(target.rsplit("/", 1)[1]), client.get(target).text


def alices_cases_in_reunion(engine) -> list[int]:
    with Session(engine) as session, session.begin():
        session.execute(update(Case).where(Case.agent_id == "A1").values(call_zone=REUNION))
        return list(session.scalars(select(Case.id).where(Case.agent_id == "A1")))


def test_the_agents_pages_are_in_french_by_default(console):
    _, web = console  # Monday 23 November 2026, 10:00 in Paris
    with TestClient(web) as client:
        assert "Identifiant" in client.get("/login").text
        log_in(client, "alice")
        listed = text_of(client.get("/my/list").text)
        assert "Dossier suivant (Alt+N)" in listed and "Traités aujourd'hui : 0" in listed
        assert "maintenant" in listed and "Next case" not in listed
        _, page = open_next(client)
        card = text_of(page)
        for french in ("Client et achat", "Il est 10:00 chez le client (Paris).", "Joint",
                       "Pas de réponse", "Occupé", "Messagerie", "Mauvais numéro",
                       "Rappel demandé", "Ne pas appeler", "Appeler (Alt+C)", "lot L4415",
                       "dernier achat le 1 mars 2026", "Quand, votre heure (Paris)",
                       "Signaler un incident", "Dégâts matériels"):  # fmt: skip
            assert french in card, french
        refund = i18n.gettext_for("fr")("refund")
        assert refund != "refund" and f'<option value="refund">{refund}</option>' in page
        assert "UTC" not in card and "Reached" not in card and "not_in_possession" not in card
        hotline = text_of(client.get("/hotline").text)
        assert "Ligne dédiée : un client appelle" in hotline and "Rechercher" in hotline


def test_the_same_pages_in_english_once_alice_chooses_english(console):
    _, web = console
    with TestClient(web) as client:
        log_in(client, "alice")
        in_english(client)
        listed = text_of(client.get("/my/list").text)
        assert "Next case (Alt+N)" in listed and "Done today: 0" in listed and "now" in listed
        case_id, page = open_next(client)
        card = text_of(page)
        for english in ("Customer and purchase", "It is 10:00 AM at the customer's (Paris).",
                        "Reached", "No answer", "Voicemail", "Do not call", "Call (Alt+C)",
                        "last bought on March 1, 2026", "When, your time (Paris)"):  # fmt: skip
            assert english in card, english
        assert '<option value="not_in_possession">no longer has the product</option>' in page
        assert "Joint" not in card and "Client et achat" not in card
        token = csrf_of(page)
        put_back = client.post(f"/cases/{case_id}/release", data={"csrf": token})
        assert "Case put back on your list." in put_back.text


def test_a_callback_shows_on_the_customers_clock_and_the_history_on_the_agents(console):
    app, web = console
    alices_cases_in_reunion(app.engine)
    with TestClient(web) as client:
        token = log_in(client, "alice")
        case_id, page = open_next(client)
        assert "Il est 13:00 chez le client (La Réunion)." in text_of(page)
        saved = client.post(  # agreed with the customer: 10:30 tomorrow, their time
            f"/cases/{case_id}/record",
            data={"csrf": token, "disposition": "callback_requested",
                  "callback_at": "2026-11-24T10:30"},
        )  # fmt: skip
        assert saved.status_code == 200
        listed = text_of(client.get("/my/list").text)
        assert "Pas encore : 24 nov. 2026 10:30, heure du client (La Réunion)" in listed
        assert "rappel demandé" in listed and "UTC" not in listed
        history = text_of(client.get(f"/cases/{case_id}").text)
        assert "Quand, votre heure (Paris)" in history and "23 nov. 2026 10:00" in history
        assert "Appel : Rappel demandé" in history
        in_english(client)
        listed = text_of(client.get("/my/list").text)
        assert "Not yet: Nov 24, 2026 10:30 AM, customer's time (Réunion)" in listed
        assert "callback asked for" in listed
    with Session(app.engine) as session:
        assert session.get(Case, case_id).callback_at == dt.datetime(2026, 11, 24, 6, 30,
                                                                      tzinfo=dt.UTC)  # fmt: skip


def test_nothing_to_call_says_why_and_when_on_both_clocks_in_both_languages(console):
    app, web = console
    cases = alices_cases_in_reunion(app.engine)
    later = dt.datetime(2026, 11, 24, 6, 30, tzinfo=dt.UTC)  # 10:30 in Réunion, 07:30 in Paris
    with Session(app.engine) as session, session.begin():
        session.execute(
            update(Case).where(Case.id.in_(cases)).values(callback_at=later, next_call_at=later)
        )
    with TestClient(web) as client:
        token = log_in(client, "alice")
        answer = client.post("/my/next", data={"csrf": token}, follow_redirects=False)
        assert answer.headers["location"] == "/my/list"
        said = text_of(client.get("/my/list").text)
        assert (
            "Les prochains dossiers attendent l'heure de rappel demandée par leurs clients. "
            "Premier appel possible : 24 nov. 2026 07:30, votre heure (Paris), soit "
            "24 nov. 2026 10:30, heure du client (La Réunion)."
        ) in said
        in_english(client)
        said = text_of(client.post("/my/next", data={"csrf": token}).text)
        assert (
            "The next cases wait for the time their customers asked to be called back. "
            "First possible call: Nov 24, 2026 7:30 AM, your time (Paris), that is "
            "Nov 24, 2026 10:30 AM, customer's time (Réunion)."
        ) in said


@pytest.fixture
def after_hours(console):
    app, _ = console
    late = App(dataclasses.replace(app.settings, now=MONDAY_20H17_PARIS), app.engine)
    return create_app(late)


def test_after_hours_the_reason_names_the_calling_hours_in_the_agents_language(after_hours):
    with TestClient(after_hours) as client:
        token = log_in(client, "alice")
        said = text_of(client.post("/my/next", data={"csrf": token}).text)  # on to My list
        assert (
            "Personne ne peut être appelé maintenant : les heures d'appel sont lun.-ven. "
            "09:00-20:00, sam. 10:00-18:00, à l'heure des clients. Premier appel possible : "
            "24 nov. 2026 09:00, votre heure (Paris), soit 24 nov. 2026 09:00, heure du client "
            "(Paris)."
        ) in said
        assert said.count("hors des heures d'appel") == 2
        in_english(client)
        said = text_of(client.post("/my/next", data={"csrf": token}).text)
        assert (
            "Nobody can be called now: calling hours are Mon-Fri 09:00-20:00, Sat 10:00-18:00 "
            "on the customers' clocks. First possible call: Nov 24, 2026 9:00 AM, your time "
            "(Paris), that is Nov 24, 2026 9:00 AM, customer's time (Paris)."
        ) in said


def test_error_pages_speak_the_agents_language(console):
    app, web = console
    with Session(app.engine) as session:
        theirs = session.scalar(select(Case.id).where(Case.agent_id == "A2"))
    with TestClient(web) as client:
        log_in(client, "alice")
        missing = client.get(f"/cases/{theirs}")
        assert missing.status_code == 404
        said = text_of(missing.text)
        assert "Introuvable" in said and "Il n'y a rien ici pour vous." in said
        refused = client.post("/my/next", data={"csrf": "forged"})
        assert refused.status_code == 403 and "Formulaire refusé" in refused.text
        in_english(client)
        assert "There is nothing here for you." in text_of(client.get(f"/cases/{theirs}").text)
