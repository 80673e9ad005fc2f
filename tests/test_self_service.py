"""The customer's self-service page: one answer for every bad link, the postal code before any
detail, CSRF and rate limits, and each answer moving its case on the `web` channel."""

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from recall.calling.agent_queue import my_queue
from recall.db.models import Case, CaseEvent, Customer, Recall, Store, WebAnswer
from recall.db.secrets import page_key
from recall.domain.page_tokens import make_token
from recall.i18n import catalogue
from recall.selfservice.answers import record_web_answer
from recall.selfservice.checks import Answer, AnswerRefused
from recall.selfservice.page import normal_postal_code, same_postal_code
from recall.web.self_service_pages import PER_ADDRESS, PER_TOKEN
from tests.console_support import MONDAY_10H_PARIS, build_console, csrf_of, log_in
from tests.support import customer, launch, line, seed

PAGES = Path(__file__).resolve().parents[1] / "templates" / "pages" / "selfservice"
TUESDAY_MORNING = "2026-11-24 morning"  # the day after the console's clock, 9:00 in Paris


@pytest.fixture
def console(database_url, tmp_path):
    app, web = build_console(database_url, tmp_path)
    seed(app.engine, Store(store_id="S001", name="Brico Part-Dieu", city="Lyon", row_hash="x"),
         Store(store_id="S002", name="Brico Vaise", city="Lyon", row_hash="x"))  # fmt: skip
    yield app, web
    app.engine.dispose()


def case_of(engine, agent_id: str, n: int = 0) -> Case:
    with Session(engine) as session:
        query = select(Case).where(Case.agent_id == agent_id).order_by(Case.id)
        return session.scalars(query).all()[n]


def link(engine, case_id: int) -> str:
    return f"/r/{make_token(case_id, page_key(engine))}"


def confirm(client: TestClient, page: str, postal_code: str = "69001") -> int:
    """Send the postal code from the page's own form; the status of the answer."""
    csrf = csrf_of(client.get(page).text)
    sent = client.post(f"{page}/confirm", data={"csrf": csrf, "postal_code": postal_code,
                                                "lang": "en"}, follow_redirects=False)  # fmt: skip
    return sent.status_code


def answer(client: TestClient, page: str, **fields: str):
    csrf = csrf_of(client.get(page).text)
    return client.post(f"{page}/answer", data={"csrf": csrf, "lang": "en", **fields},
                       follow_redirects=False)  # fmt: skip


def listed(engine, agent_id: str) -> set[int]:
    queue = my_queue(engine=engine, agent_id=agent_id, clock=lambda: MONDAY_10H_PARIS)
    return {row.case_id for row in queue.rows}


def web_events(engine, case_id: int) -> list[CaseEvent]:
    with Session(engine) as session:
        query = select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.channel == "web")
        return list(session.scalars(query.order_by(CaseEvent.id)))


def answers_of(engine, case_id: int) -> int:
    with Session(engine) as session:
        query = select(func.count()).select_from(WebAnswer).where(WebAnswer.case_id == case_id)
        return session.scalar(query)


def test_a_forged_link_an_unknown_case_and_a_closed_recall_answer_the_same_page(console):
    app, web = console
    case = case_of(app.engine, "A1")
    real = link(app.engine, case.id)
    forged = real[:-1] + ("A" if real[-1] != "A" else "B")
    unknown = link(app.engine, 999_999)
    with TestClient(web) as client:
        assert client.get(real).status_code == 200
        answers = [client.get(path) for path in (forged, unknown, "/r/hello", "/R/" + "Z" * 24)]
        with Session(app.engine) as session, session.begin():
            session.execute(update(Recall).values(closed_at=MONDAY_10H_PARIS))
        answers.append(client.get(real))
    assert {a.status_code for a in answers} == {404}
    assert len({a.text for a in answers}) == 1
    assert "not available" in answers[0].text and "Élodie" not in answers[0].text
    assert all("set-cookie" not in a.headers for a in answers)


def test_a_purged_recall_answers_the_same_page(console):
    app, web = console
    page = link(app.engine, case_of(app.engine, "A1").id)
    with TestClient(web) as client:
        same = client.get("/r/hello").text
        with Session(app.engine) as session, session.begin():
            session.execute(update(Recall).values(purged_at=MONDAY_10H_PARIS))
        assert client.get(page).status_code == 404 and client.get(page).text == same


def test_the_link_is_read_in_either_case_under_r_and_R(console):
    app, web = console
    page = link(app.engine, case_of(app.engine, "A1").id)
    with TestClient(web) as client:
        for path in (page, page.lower(), "/R/" + page[3:], "/R/" + page[3:].lower()):
            shown = client.get(path)
            assert shown.status_code == 200 and "Perceuse-visseuse X200" in shown.text, path
            assert shown.headers["cache-control"] == "no-store"
            assert shown.headers["referrer-policy"] == "no-referrer"


def test_before_the_postal_code_the_page_shows_the_first_name_and_the_recall_only(console):
    app, web = console
    page = link(app.engine, case_of(app.engine, "A1").id)
    with TestClient(web) as client:
        before = client.get(page).text
        assert "Élodie" in before and "La batterie peut surchauffer" in before
        for private in ("Lefèvre", "610000000", "+33*", "69001", 'name="possession"'):
            assert private not in before, private
        assert confirm(client, page, "69 001 ") == 303  # spaces and case do not matter
        after = client.get(page).text
    assert 'name="possession"' in after and "+33*******" in after  # masked: recognised only
    assert "Lefèvre" not in after


def test_the_page_speaks_the_cases_language_and_switches_on_request(console):
    app, web = console
    page = link(app.engine, case_of(app.engine, "A1").id)
    with TestClient(web) as client:
        french = client.get(page).text
        english = client.get(f"{page}?lang=en").text
    assert '<html lang="fr">' in french and "Rappel de produit" in french
    assert "Votre code postal" in french and f'href="{page}?lang=en"' in french
    assert '<html lang="en">' in english and "Your postal code" in english


def test_five_wrong_postal_codes_lock_the_link_even_for_the_right_one(console):
    app, web = console
    page = link(app.engine, case_of(app.engine, "A1").id)
    other = link(app.engine, case_of(app.engine, "A1", 1).id)
    with TestClient(web) as client:
        said = [confirm(client, page, f"7500{n}") for n in range(5)]
        assert said == [400] * 4 + [429]
        csrf = csrf_of(client.get(page).text)
        locked = client.post(f"{page}/confirm", data={"csrf": csrf, "postal_code": "69001",
                                                      "lang": "en"})  # fmt: skip
        assert locked.status_code == 429 and "Too many postal codes" in locked.text
        assert 'name="possession"' not in client.get(page).text
        assert confirm(client, other, "69001") == 303  # another link is not locked


def test_a_form_without_its_csrf_value_is_refused_and_changes_nothing(console):
    app, web = console
    case = case_of(app.engine, "A1")
    page, other = link(app.engine, case.id), link(app.engine, case_of(app.engine, "A1", 1).id)
    with TestClient(web) as client:
        assert confirm(client, page) == 303
        theirs = csrf_of(client.get(other).text)
        for data in ({}, {"csrf": "forged"}, {"csrf": theirs}):
            refused = client.post(f"{page}/answer", data={**data, "possession": "not_anymore"})
            assert refused.status_code == 403 and "expired" in refused.text
            refused = client.post(f"{page}/confirm", data={**data, "postal_code": "69001"})
            assert refused.status_code == 403
        mine = csrf_of(client.get(page).text)
    with TestClient(web) as stranger:  # a value copied from the page, without its cookie
        refused = stranger.post(f"{page}/answer", data={"csrf": mine, "possession": "returned"})
        assert refused.status_code == 403
    assert answers_of(app.engine, case.id) == 0 and web_events(app.engine, case.id) == []


def test_an_answer_needs_the_postal_code_first(console):
    app, web = console
    case = case_of(app.engine, "A1")
    page = link(app.engine, case.id)
    with TestClient(web) as client:
        sent = answer(client, page, possession="not_anymore")
        assert sent.status_code == 303 and sent.headers["location"].startswith(page)
    assert answers_of(app.engine, case.id) == 0


def test_a_remedy_chosen_settles_the_case_on_the_web_and_takes_it_off_the_list(console):
    app, web = console
    case = case_of(app.engine, "A1")
    page = link(app.engine, case.id)
    assert case.id in listed(app.engine, "A1")
    with TestClient(web) as client:
        confirm(client, page)
        sent = answer(client, page, possession="has_it", remedy="refund", store_id="S002")
        assert sent.status_code == 303 and sent.headers["location"] == f"{page}/thanks?lang=en"
        thanks = client.get(sent.headers["location"]).text
    assert "Thank you, Élodie" in thanks and "Brico Vaise, Lyon" in thanks
    with Session(app.engine) as session:
        settled = session.get(Case, case.id)
        assert (settled.status, settled.outcome) == ("resolved", "refund")
        assert settled.agreed_at == MONDAY_10H_PARIS and settled.notified_by == "web"
    steps = [(e.old_status, e.new_status, e.actor) for e in web_events(app.engine, case.id)]
    assert steps == [("identified", "notified", "customer"), ("notified", "contacted", "customer"),
                     ("contacted", "resolved", "customer")]  # fmt: skip
    assert case.id not in listed(app.engine, "A1")


@pytest.mark.parametrize(
    ("said", "outcome"), [("not_anymore", "not_in_possession"), ("returned", "returned_in_store")]
)
def test_no_longer_having_it_or_having_returned_it_settles_the_case(console, said, outcome):
    app, web = console
    case = case_of(app.engine, "A1")
    page = link(app.engine, case.id)
    with TestClient(web) as client:
        confirm(client, page)
        assert answer(client, page, possession=said, remedy="refund").status_code == 303
    with Session(app.engine) as session:
        settled = session.get(Case, case.id)
        assert (settled.status, settled.outcome) == ("resolved", outcome)
        row = session.scalars(select(WebAnswer).where(WebAnswer.case_id == case.id)).one()
        assert (row.possession, row.remedy, row.language) == (said, None, "en")
    assert web_events(app.engine, case.id)[-1].new_status == "resolved"
    assert case.id not in listed(app.engine, "A1")


def test_a_repair_is_collected_at_the_address_the_customer_gives(console):
    app, web = console
    case = case_of(app.engine, "A1")
    page = link(app.engine, case.id)
    with TestClient(web) as client:
        confirm(client, page)
        refused = answer(client, page, possession="has_it", remedy="repair")
        assert refused.status_code == 400 and 'href="#delivery_address"' in refused.text
        sent = answer(client, page, possession="has_it", remedy="repair", store_id="S001",
                      delivery_address="  12 rue des Lilas\r\n69003 Lyon ")  # fmt: skip
        assert sent.status_code == 303
    with Session(app.engine) as session:
        row = session.scalars(select(WebAnswer).where(WebAnswer.case_id == case.id)).one()
        assert (row.store_id, row.delivery_address) == (None, "12 rue des Lilas\n69003 Lyon")
    assert "12 rue" not in " ".join(e.note or "" for e in web_events(app.engine, case.id))


def test_asking_for_a_call_keeps_the_case_on_its_agents_list_with_the_callback(console):
    app, web = console
    case = case_of(app.engine, "A1")
    page = link(app.engine, case.id)
    with TestClient(web) as client:
        confirm(client, page)
        assert TUESDAY_MORNING in client.get(page).text
        assert answer(client, page, possession="call_me").status_code == 400  # no time chosen
        sent = answer(client, page, possession="call_me", callback_slot=TUESDAY_MORNING)
        assert sent.status_code == 303
        assert "Tuesday 24 November, morning" in client.get(sent.headers["location"]).text
    with Session(app.engine) as session:
        kept = session.get(Case, case.id)
        assert kept.status == "contacted" and kept.call
        assert kept.callback_at == dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)  # 9:00 Paris
        assert kept.callback_agent == "A1"
    assert case.id in listed(app.engine, "A1")
    assert "called back (2026-11-24 morning)" in web_events(app.engine, case.id)[-1].note


def test_the_agent_sees_the_web_answer_on_the_case(console):
    app, web = console
    case = case_of(app.engine, "A1")
    page = link(app.engine, case.id)
    with TestClient(web) as customer:
        confirm(customer, page)
        answer(customer, page, possession="call_me", callback_slot=TUESDAY_MORNING)
    with TestClient(web) as agent:
        log_in(agent, "alice")
        shown = agent.get(f"/cases/{case.id}").text
    assert "Réponse en ligne" in shown and "24 novembre 2026, matin" in shown
    assert "joint (Page de réponse en ligne)" in shown  # the history names the channel


def test_corrections_update_the_customer_and_the_history_keeps_no_value(console):
    app, web = console
    case = case_of(app.engine, "A1")
    page = link(app.engine, case.id)
    with TestClient(web) as client:
        confirm(client, page)
        refused = answer(client, page, possession="not_anymore", phone="12")
        assert refused.status_code == 400 and "not valid" in refused.text
        assert 'value="12"' in refused.text  # given back to fix
        sent = answer(client, page, possession="not_anymore", phone="07 11 22 33 44",
                      email="elodie.lefevre@example.fr")  # fmt: skip
        assert sent.status_code == 303
    with Session(app.engine) as session:
        customer = session.get(Customer, case.customer_id)
        assert (customer.phone_e164, customer.email_valid) == ("+33711223344", True)
        assert session.get(Case, case.id).phone_e164 == "+33711223344"
    notes = [e.note or "" for e in web_events(app.engine, case.id)]
    assert "the customer corrected their phone number and e-mail address" in notes[0]
    assert not any("33" in note or "example" in note for note in notes)


def test_a_second_answer_on_a_settled_case_is_refused_politely(console):
    app, web = console
    case = case_of(app.engine, "A1")
    page = link(app.engine, case.id)
    with TestClient(web) as client:
        confirm(client, page)
        form = {"csrf": csrf_of(client.get(page).text), "lang": "en"}
        refund = {**form, "possession": "has_it", "remedy": "refund", "store_id": "S001"}
        first, again = (client.post(f"{page}/answer", data=refund, follow_redirects=False)
                        for _ in range(2))  # fmt: skip
        assert first.status_code == again.status_code == 303  # a double click: one answer
        events = len(web_events(app.engine, case.id))
        other = client.post(f"{page}/answer", data={**form, "possession": "not_anymore"})
        assert other.status_code == 409 and "already recorded" in other.text
        assert "already recorded" not in client.get(f"{page}/thanks").text
        assert "Your case is settled" in client.get(f"{page}?lang=en").text
    assert answers_of(app.engine, case.id) == 1 and len(web_events(app.engine, case.id)) == events
    with Session(app.engine) as session:
        assert session.get(Case, case.id).outcome == "refund"


def test_the_page_is_rate_limited_per_link_and_per_address(console):
    app, web = console
    page = link(app.engine, case_of(app.engine, "A1").id)
    with TestClient(web) as client:
        statuses = [client.get(page).status_code for _ in range(PER_TOKEN + 1)]
        assert statuses == [200] * PER_TOKEN + [429]
        slowed = client.get(page)
        assert slowed.status_code == 429 and slowed.headers["retry-after"] == "300"
        forged = [client.get(f"/r/{n:024d}").status_code for n in range(PER_ADDRESS)]
        assert forged[-1] == 429 and set(forged) == {404, 429}


def test_postal_codes_compare_without_spaces_dashes_or_case():
    assert normal_postal_code(" sw1a-1aa ") == "SW1A1AA"
    assert same_postal_code("sw1a 1aa", "SW1A 1AA") and same_postal_code("69001", "69 001")
    assert not same_postal_code("", None) and not same_postal_code("69002", "69001")


def test_every_message_of_the_page_has_its_french_words():
    said = set()
    for template in PAGES.glob("*.html"):
        said |= set(re.findall(r"""_\((["'])(.+?)\1\)""", template.read_text()))
    checks = (Path(__file__).resolve().parents[1] / "recall/selfservice/checks.py").read_text()
    messages = {m for _, m in said} | set(re.findall(r'AnswerRefused\(\s*"\w+", "([^"]+)"', checks))
    messages |= {"morning", "afternoon", "This postal code is not the one we have."}
    assert sorted(messages - set(catalogue("fr"))) == []


def a_letter_case(engine, **fields) -> Case:
    """One customer with a postal address: their case is a letter's, on no call list."""
    seed(engine, customer("C1", **fields), line("C1", "2026-03-01"))
    launch(engine, clock=lambda: MONDAY_10H_PARIS)
    with Session(engine) as session:
        return session.scalars(select(Case)).one()


def test_a_letter_customer_asking_for_a_call_comes_onto_the_call_list(engine):
    case = a_letter_case(engine, phone="06 12 34 56 78")
    assert not case.call
    done = record_web_answer(
        engine=engine, case_id=case.id, clock=lambda: MONDAY_10H_PARIS,
        answer=Answer("call_me", callback_slot=TUESDAY_MORNING, language="fr"),
    )  # fmt: skip
    assert (done.status, done.recorded, done.on_call_list) == ("contacted", True, True)
    with Session(engine) as session:
        assert session.get(Case, case.id).callback_at == dt.datetime(2026, 11, 24, 8, tzinfo=dt.UTC)


def test_a_call_needs_a_phone_number_to_call(engine):
    case = a_letter_case(engine, phone=None)
    with pytest.raises(AnswerRefused) as refused:
        record_web_answer(
            engine=engine, case_id=case.id, clock=lambda: MONDAY_10H_PARIS,
            answer=Answer("call_me", callback_slot=TUESDAY_MORNING),
        )  # fmt: skip
    assert refused.value.field == "phone"
    assert answers_of(engine, case.id) == 0 and web_events(engine, case.id) == []


def test_a_specialists_case_keeps_its_status_and_hears_the_answer(engine):
    case = a_letter_case(engine)
    with Session(engine) as session, session.begin():
        session.execute(update(Case).values(status="escalated"))
    done = record_web_answer(
        engine=engine, case_id=case.id, clock=lambda: MONDAY_10H_PARIS,
        answer=Answer("not_anymore"),
    )  # fmt: skip
    assert (done.status, done.outcome, done.recorded) == ("escalated", None, True)
    assert "left with the specialist" in web_events(engine, case.id)[-1].note
