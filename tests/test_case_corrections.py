"""The agent works the case: corrects the customer's phone, e-mail or address (each checked,
each case of the customer given what follows), sees the customer's other recalls, and can't
save a reached call without its outcome or a callback."""

import datetime as dt
import html
import logging
import re

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from starlette.requests import Request

from recall.calling.assignment import assign_call_list
from recall.calling.case_card import card_for
from recall.calling.corrections import Contacts, contact_card
from recall.calling.other_cases import other_cases
from recall.db.models import CallAttempt, Case, CaseEvent, Customer, EmailNotice, Letter, Recall
from recall.notices.letters import plan_letters
from recall.reach.emails import send_emails
from recall.reporting.closing import close_recall, purge_personal_data
from recall.settings import PROJECT_TEMPLATES
from recall.web.languages import Clocks
from recall.web.report_words import Words
from tests.console_support import MONDAY_10H_PARIS, RECALL, csrf_of, log_in
from tests.support import SANDER, command_line, launch, line, seed


def open_next(client) -> int:
    token = csrf_of(client.get("/my/list").text)
    answer = client.post("/my/next", data={"csrf": token}, follow_redirects=False)
    return int(answer.headers["location"].removeprefix("/cases/"))


def form(engine, case_id: int, token: str, **changes) -> dict:
    """The contact form as the case page fills it in, with the agent's changes."""
    on_file = contact_card(engine=engine, case_id=case_id).contacts.__dict__
    return {"csrf": token, **on_file, **changes}


def post_contacts(client, engine, case_id: int, token: str, **changes):
    """The form sent with the agent's changes, its answer as it comes."""
    data = form(engine, case_id, token, **changes)
    return client.post(f"/cases/{case_id}/contact", data=data, follow_redirects=False)


def case_of(engine, case_id: int) -> Case:
    with Session(engine) as session:
        return session.get(Case, case_id)


def customer_of(engine, case_id: int) -> Customer:
    with Session(engine) as session:
        return session.get(Customer, session.get(Case, case_id).customer_id)


def corrections(engine, case_id: int) -> list[CaseEvent]:
    with Session(engine) as session:
        return session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id,
                                    CaseEvent.note.like("contacts corrected%"))
            .order_by(CaseEvent.id)
        ).all()  # fmt: skip


def flash_of(client, answer) -> str:
    assert answer.status_code == 303, answer.text
    page = client.get(answer.headers["location"]).text
    found = re.search(r'class="box flash" role="status">([^<]*)<', page)
    assert found, "no flash on the page"
    return html.unescape(found.group(1))


def said(answer) -> str:
    return html.unescape(answer.text)


def test_a_corrected_phone_puts_a_wrong_number_case_back_on_the_call_list_on_its_clock(
    console, caplog
):
    app, web = console
    with TestClient(web) as client:
        token = log_in(client, "alice")
        case_id = open_next(client)
        with Session(app.engine) as session, session.begin():  # the export had an address
            customer = session.get(Customer, session.get(Case, case_id).customer_id)
            customer.address_line1, customer.postal_code = "2 rue Neuve", "69002"
            customer.city = "Lyon"
        client.post(f"/cases/{case_id}/record", data={"csrf": token, "disposition": "wrong_number"})
        wrong = case_of(app.engine, case_id)
        assert (wrong.status, wrong.call, wrong.letter) == ("identified", False, True)
        old_phone = customer_of(app.engine, case_id).phone
        client.get(f"/cases/{case_id}")  # the agent opens it again from their list
        caplog.set_level(logging.INFO)
        saved = post_contacts(client, app.engine, case_id, token, phone="+32 470 12 34 56")
        logged = caplog.text
        assert flash_of(client, saved) == (
            "Téléphone corrigé ; le dossier revient sur la liste d'appel."
        )
        back = case_of(app.engine, case_id)
        assert (back.phone_e164, back.call_zone) == ("+32470123456", "Europe/Brussels")
        assert back.call and back.agent_id == "A1" and not back.phone_invalid
        assert customer_of(app.engine, case_id).phone_e164 == "+32470123456"
        called = client.post(f"/cases/{case_id}/call", data={"csrf": token}, follow_redirects=False)
        assert called.status_code == 303
    with Session(app.engine) as session:
        calls = session.scalars(select(CallAttempt).where(CallAttempt.case_id == case_id))
        assert [c.call_sid[:7] for c in calls if c.call_sid] == ["OFFLINE"]  # dialled
    (event,) = corrections(app.engine, case_id)
    assert (event.actor, event.channel, event.new_status) == ("A1", "console", "identified")
    assert f"phone '{old_phone}' -> '+32 470 12 34 56'" in event.note
    assert "back on the call list (Europe/Brussels)" in event.note
    assert "470" not in logged and "phone corrected by agent A1" in logged  # no number logged


def test_a_corrected_email_is_read_again_and_the_recalls_email_goes_to_it(console):
    app, web = console
    with TestClient(web) as client:
        token = log_in(client, "alice")
        case_id = open_next(client)
        saved = post_contacts(client, app.engine, case_id, token, email=" elodie.l@exemple.fr ")
        assert flash_of(client, saved) == (
            "E-mail corrigé ; l'e-mail du rappel partira à la nouvelle adresse."
        )
    assert customer_of(app.engine, case_id).email_valid is True
    ref = case_of(app.engine, case_id).case_ref
    with Session(app.engine) as session:
        queued = session.get(EmailNotice, case_id)
        assert queued.state == "queued" and re.fullmatch(
            rf"<{ref}\.\w{{8}}@localhost>", queued.message_id
        )
    (event,) = corrections(app.engine, case_id)
    assert "email '-' -> 'elodie.l@exemple.fr'; e-mail notice queued" in event.note
    sent = send_emails(engine=app.engine, mailer=app.mailer, templates=app.templates,
                       settings=app.mail_settings, recall_id=RECALL, clock=app.clock)  # fmt: skip
    assert sent.sent == 1
    (eml,) = (app.settings.data_dir / "email-outbox").rglob("*.eml")
    assert "elodie.l@exemple.fr" in eml.read_text()


def test_a_corrected_address_gets_the_case_a_letter_at_the_next_letters_run(console):
    app, web = console
    with TestClient(web) as client:
        token = log_in(client, "alice")
        case_id = open_next(client)
        assert not case_of(app.engine, case_id).letter  # a caller with no address
        address = {"line1": "12 avenue Jean Jaurès", "line2": "Bâtiment B", "city": "Lyon"}
        wrong = post_contacts(client, app.engine, case_id, token, postal_code="6900", **address)
        assert wrong.status_code == 400
        assert "Code postal : 6900 n'est pas un code postal de ce pays (France)." in said(wrong)
        assert corrections(app.engine, case_id) == []
        saved = post_contacts(client, app.engine, case_id, token, postal_code="69007", **address)
        assert flash_of(client, saved) == "Adresse corrigée ; un courrier partira à cette adresse."
    assert case_of(app.engine, case_id).letter
    planned = plan_letters(engine=app.engine, recall_id=RECALL, templates=app.templates,
                           config=app.letter_settings(RECALL), clock=app.clock)  # fmt: skip
    assert planned.planned == 1 and planned.set_aside.cases == 0
    with Session(app.engine) as session:
        assert session.get(Letter, case_id).postal_code == "69007"
    (event,) = corrections(app.engine, case_id)
    assert "address '69001 Lyon' -> '12 avenue Jean Jaurès, Bâtiment B, 69007 Lyon'" in event.note


def test_a_bad_phone_is_refused_naming_its_field_and_nothing_is_written(console):
    app, web = console
    with TestClient(web) as client:
        token = log_in(client, "alice")
        case_id = open_next(client)
        before = customer_of(app.engine, case_id)
        bad = form(app.engine, case_id, token, phone="12 34", email="elodie@")
        refused = client.post(f"/cases/{case_id}/contact", data=bad)
        assert refused.status_code == 400
        assert "Téléphone : ce numéro n'est pas valide en France." in said(refused)
        assert "E-mail : cette adresse n'est pas valide." in said(refused)
        page = client.get("/my/list").text
        client.post("/language", data={"csrf": csrf_of(page), "lang": "en"})
        refused = client.post(f"/cases/{case_id}/contact", data=bad)
        assert "Phone: this number is not valid in France." in refused.text
    after = customer_of(app.engine, case_id)
    assert (after.phone, after.email) == (before.phone, before.email)
    assert corrections(app.engine, case_id) == []
    assert case_of(app.engine, case_id).phone_e164 == before.phone_e164


def test_the_form_shows_the_contacts_on_file_or_the_values_refused_as_typed(console):
    app, web = console
    with Session(app.engine) as session:
        card = card_for(session, session.scalars(select(Case.id).order_by(Case.id)).first())
    form_of = web.state.pages["fr"].get_template("_case_contacts.html")
    on_file = contact_card(engine=app.engine, case_id=card.case_id)
    context = {"card": card, "contacts": on_file, "csrf": "t", "inbound": True}
    shown = form_of.render(request=Request({"type": "http"}), **context)
    assert f'action="/cases/{card.case_id}/contact"' in shown and 'name="inbound"' in shown
    assert f'value="{on_file.contacts.phone}"' in shown and 'value="69001"' in shown
    assert "Numéro et rue" in shown and "Enregistrer les coordonnées" in shown
    typed = Request({"type": "http", "state": {"typed_contacts": Contacts(phone="12 34")}})
    assert 'value="12 34"' in form_of.render(request=typed, **context)


def test_the_same_values_saved_twice_write_one_event(console):
    app, web = console
    with TestClient(web) as client:
        token = log_in(client, "alice")
        case_id = open_next(client)
        new = form(app.engine, case_id, token, phone="06 98 76 54 32")
        first = client.post(f"/cases/{case_id}/contact", data=new, follow_redirects=False)
        assert flash_of(client, first).startswith("Téléphone corrigé")
        for again in (new, {**new, "phone": "+33 6 98 76 54 32"}):  # the same number, retyped
            repeat = client.post(f"/cases/{case_id}/contact", data=again, follow_redirects=False)
            assert flash_of(client, repeat) == (
                "Rien à corriger : ce sont déjà les coordonnées enregistrées."
            )
    assert len(corrections(app.engine, case_id)) == 1
    assert customer_of(app.engine, case_id).phone == "06 98 76 54 32"


def test_another_agents_case_is_not_found_unless_their_hotline_search_found_it(console):
    app, web = console
    with Session(app.engine) as session:  # one of alice's cases, not opened yet
        theirs = next(c for c in session.scalars(select(Case).order_by(Case.id))
                      if c.agent_id == "A1")  # fmt: skip
    with TestClient(web) as client:
        token = log_in(client, "bruno")
        new = form(app.engine, theirs.id, token, phone="06 98 76 54 32")
        assert client.post(f"/cases/{theirs.id}/contact", data=new).status_code == 404
        inbound = {**new, "inbound": "1"}
        assert client.post(f"/cases/{theirs.id}/contact", data=inbound).status_code == 404
        assert corrections(app.engine, theirs.id) == []
        client.post("/hotline", data={"q": theirs.case_ref, "csrf": token})  # the caller's case
        saved = client.post(f"/cases/{theirs.id}/contact", data=inbound, follow_redirects=False)
        assert saved.headers["location"] == f"/hotline/cases/{theirs.id}"
    (event,) = corrections(app.engine, theirs.id)
    assert event.actor == "A2" and case_of(app.engine, theirs.id).phone_e164 == "+33698765432"


def second_recall(engine) -> None:
    """The same callers bought the recalled sander too: a second recall, a case each."""
    seed(engine, *(line(f"C{n:05d}", "2026-03-02", sku=SANDER) for n in range(6)))
    launch(engine, clock=lambda: MONDAY_10H_PARIS, id="R-2026-015",
           title="Ponceuse P90 - risque de coupure",
           products=[{"sku": SANDER, "lots": ["L4410..L4420"]}])  # fmt: skip


def test_the_customers_other_recalls_are_listed_and_their_open_cases_take_the_new_phone(console):
    app, web = console
    second_recall(app.engine)
    with TestClient(web) as client:
        token = log_in(client, "alice")
        case_id = open_next(client)
        customer = case_of(app.engine, case_id).customer_id
        (other,) = other_cases(engine=app.engine, case_id=case_id)
        assert (other.recall_id, other.recall_title, other.status, other.outcome) == (
            "R-2026-015", "Ponceuse P90 - risque de coupure", "identified", None,
        )  # fmt: skip
        for lang in ("fr", "en"):
            words, clocks = Words(lang), Clocks("Europe/Paris", lang)
            panel = (
                web.state.pages[lang]
                .get_template("_case_other_recalls.html")
                .render(other_recalls=[other], words=words, clocks=clocks)
            )
            assert other.case_ref in panel and "Ponceuse P90" in panel
            assert words("status", "identified") in panel and clocks.mine(other.changed_at) in panel
        saved = post_contacts(client, app.engine, case_id, token, phone="06 98 76 54 32")
        assert "1 autre dossier ouvert de ce client est mis à jour aussi" in flash_of(client, saved)
    with Session(app.engine) as session:
        sander = session.scalars(
            select(Case).where(Case.recall_id == "R-2026-015", Case.customer_id == customer)
        ).one()
    assert (sander.phone_e164, sander.call_zone) == ("+33698765432", "Europe/Paris")
    (event,) = corrections(app.engine, sander.id)
    assert (
        event.note == f"contacts corrected: on case {case_of(app.engine, case_id).case_ref} (phone)"
    )


def test_a_correction_leaves_the_customers_cases_of_a_closed_recall_off_the_call_list(console):
    app, web = console
    second_recall(app.engine)
    with TestClient(web) as client:
        token = log_in(client, "alice")
        case_id = open_next(client)  # a case of R-2026-014
        assign_call_list(engine=app.engine, recall_id="R-2026-015", home_language="fr",
                         clock=lambda: MONDAY_10H_PARIS)  # fmt: skip
        customer = case_of(app.engine, case_id).customer_id
        with Session(app.engine) as session, session.begin():  # its number was a wrong one
            sander = session.scalars(
                select(Case.id).where(Case.recall_id == "R-2026-015", Case.customer_id == customer)
            ).one()
            session.add(CallAttempt(case_id=sander, agent_id="A2", started_at=MONDAY_10H_PARIS,
                                    disposition="wrong_number"))  # fmt: skip
        close_recall(
            engine=app.engine, recall_id="R-2026-015", out_dir=app.settings.data_dir,
            fonts_dir=PROJECT_TEMPLATES / "fonts", clock=lambda: MONDAY_10H_PARIS,
        )  # fmt: skip
        saved = post_contacts(client, app.engine, case_id, token, phone="06 98 76 54 32")
        flashed = flash_of(client, saved)
    closed = case_of(app.engine, sander)
    assert not closed.call and corrections(app.engine, sander) == []
    assert "autre dossier" not in flashed


def test_a_reached_call_needs_an_outcome_or_a_callback_in_the_console_and_the_command_line(
    console, database_url, tmp_path, monkeypatch
):
    app, web = console
    with TestClient(web) as client:
        token = log_in(client, "alice")
        case_id = open_next(client)
        refused = client.post(f"/cases/{case_id}/record",
                              data={"csrf": token, "disposition": "reached"})  # fmt: skip
        assert refused.status_code == 400 and 'role="alert"' in refused.text
        assert f'action="/cases/{case_id}/record"' in refused.text  # the case stays open
    held = case_of(app.engine, case_id)
    assert (held.status, held.claimed_by) == ("identified", "A1/web")
    with Session(app.engine) as session:
        assert session.scalars(select(CallAttempt)).all() == []
        other = session.scalars(
            select(Case).where(Case.id != case_id, Case.claimed_by.is_(None), Case.call.is_(True))
            .order_by(Case.id)
        ).first()  # fmt: skip
        other_agent = other.agent_id
    run = command_line(monkeypatch, database_url, tmp_path, MONDAY_10H_PARIS)
    bare = run(
        "calls", "record", other.case_ref, "--agent", other_agent, "--disposition", "reached"
    )
    assert bare.exit_code == 2
    said_there = " ".join(bare.output.split())
    assert "needs its outcome, or the time the customer asked to be called back" in said_there
    assert case_of(app.engine, other.id).status == "identified"


def test_the_purge_of_a_closed_recall_clears_the_corrected_values_from_the_history(console):
    app, web = console
    with TestClient(web) as client:
        token = log_in(client, "alice")
        case_id = open_next(client)
        post_contacts(client, app.engine, case_id, token, phone="06 98 76 54 32")
    (event,) = corrections(app.engine, case_id)
    assert "06 98 76 54 32" in event.note
    with Session(app.engine) as session, session.begin():
        session.execute(update(Recall).values(closed_at=MONDAY_10H_PARIS))
    later = MONDAY_10H_PARIS + dt.timedelta(days=366)
    purge_personal_data(engine=app.engine, recall_id=RECALL, data_dir=app.settings.data_dir,
                        clock=lambda: later)  # fmt: skip
    with Session(app.engine) as session:
        assert session.get(CaseEvent, event.id).note is None
