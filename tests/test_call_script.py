"""The call script reads as spoken French (or English) whatever the case holds, and a
specialist calling an escalated case back reads the script of their skill."""

import dataclasses
import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recall.accounts.users import add_user
from recall.calling.case_card import CaseCard
from recall.calling.script import SpokenNames, call_script, spoken_names
from recall.db.models import Case
from recall.settings import PROJECT_TEMPLATES
from tests.console_support import build_console, csrf_of, log_in
from tests.support import DRILL, agent, customer, definition, launch, line, seed

SCRIPTS = PROJECT_TEMPLATES / "scripts"
CAMILLE = SpokenNames(agent="Camille Martin", customer="Élodie Lefèvre")
ONE_LOT = CaseCard(
    case_id=1, case_ref="R-2026-014-000042", recall_id="R-2026-014",
    recall_title="Perceuse X200 - risque de brûlure", hazard="high", status="notified",
    agent_id="A1", customer="Élodie Lefèvre", phone="+33612345678", language="fr",
    call_zone="Europe/Paris", quantity=1, lots="L4415", skus=DRILL, stores="S001",
    last_purchase=dt.date(2026, 6, 11), attempts=0, callback_at=None, claimed_until=None,
)  # fmt: skip
CASES = {
    "one item, one lot": ONE_LOT,
    "no lot known": dataclasses.replace(ONE_LOT, lots=""),
    "many lots, many items": dataclasses.replace(ONE_LOT, lots="L4415,L4433,L4418", quantity=3),
    "english customer": dataclasses.replace(ONE_LOT, language="en", quantity=2),
}
REMEDIES = {
    "three remedies": {},
    "one remedy": {"remedies": ["refund"], "single_remedy_reason": "Pièce introuvable."},
}
# What a script must never show: a field left unfilled, an empty or a "(s)" bracket, a
# doubled space or comma, a sentence run into the next.
NEVER = ("{", "}", "()", "(s)", "  ", ",,", " ,", " .", "..", ":.", "rappel : La")


def script(card=ONE_LOT, names=CAMILLE, recall=None, **more) -> str:
    paragraphs = call_script(
        templates_dir=SCRIPTS, definition=recall or definition(), card=card, names=names,
        hotline="", home_language="fr", **more,
    )  # fmt: skip
    return "\n\n".join(paragraphs)


@pytest.mark.parametrize("kind", [{}, {"inbound": True}, {"skill": "health"},
                                  {"skill": "escalation"}], ids=str)  # fmt: skip
@pytest.mark.parametrize("remedies", REMEDIES.values(), ids=REMEDIES.keys())
@pytest.mark.parametrize("card", CASES.values(), ids=CASES.keys())
def test_every_script_reads_whole_whatever_the_case_holds(card, remedies, kind):
    text = script(card, recall=definition(**remedies), **kind)
    assert [bad for bad in NEVER if bad in text] == []
    assert "Camille Martin" in text
    assert ("11 June 2026" if card.language == "en" else "le 11 juin 2026") in text
    assert "2026-06-11" not in text


def test_the_french_script_says_the_name_quantity_lots_date_risk_and_remedies():
    text = script(dataclasses.replace(ONE_LOT, lots="L4415,L4433", quantity=2))
    assert "Bonjour, je suis Camille Martin, je vous appelle" in text
    assert "Suis-je bien en ligne avec Élodie Lefèvre ?" in text
    assert (
        "Vous avez acheté 2 exemplaires du produit « Perceuse-visseuse X200 18 V », des lots "
        "L4415 et L4433, le 11 juin 2026. Ce produit fait l'objet d'un rappel de sécurité. "
        "La batterie peut surchauffer pendant la charge et brûler."
    ) in text
    assert "Nous vous proposons un remboursement, un échange ou une réparation. Quelle " in text


def test_one_item_without_a_lot_says_neither_a_plural_nor_a_lot():
    text = script(dataclasses.replace(ONE_LOT, lots=""))
    assert "acheté un exemplaire du produit « Perceuse-visseuse X200 18 V » le 11 juin" in text
    assert "lot" not in text


def test_a_single_remedy_is_offered_with_a_yes_or_no_question():
    text = script(recall=definition(remedies=["refund"], single_remedy_reason="Pièce introuvable."))
    assert "Nous vous proposons un remboursement. Cela vous convient-il ?" in text


def test_the_first_of_the_month_is_said_premier():
    text = script(dataclasses.replace(ONE_LOT, last_purchase=dt.date(2026, 6, 1)))
    assert "le 1er juin 2026" in text


def test_a_risk_in_lower_case_without_a_full_stop_becomes_its_own_sentence():
    recall = definition(risk={"fr": "la batterie peut surchauffer"})
    assert "rappel de sécurité. La batterie peut surchauffer.\n" in script(recall=recall)


def test_the_english_script_is_said_in_english():
    text = script(dataclasses.replace(ONE_LOT, language="en", lots="L4415,L4433", quantity=2))
    assert "Hello, my name is Camille Martin" in text
    assert (
        'You bought 2 units of "Perceuse-visseuse X200 18 V", from lots L4415 and L4433, '
        "on 11 June 2026. This product is subject to a safety recall. The battery" in text
    )
    assert "a refund, a replacement, or a repair. Which would you prefer?" in text


def test_a_customer_without_a_name_is_asked_for_politely():
    text = script(names=SpokenNames(agent="Camille", customer=None))
    assert "Suis-je bien en ligne avec la personne titulaire de la carte de fidélité" in text


def test_the_inbound_script_says_when_no_postal_code_is_on_file():
    text = script(inbound=True, postal_code="-")
    assert "(Au dossier : aucun." in text
    assert "(Au dossier : 69001." in script(inbound=True, postal_code="69001")


def test_a_health_escalation_gets_the_health_professionals_script():
    text = script(skill="health")
    first = text.split("\n\n")[0]
    assert first.startswith("(Motif de la transmission : un problème de santé signalé")
    assert "équipe médicale" in text
    assert "Comment allez-vous aujourd'hui ?" in text
    assert "suivi médical" in text
    assert "Enregistrez l'incident" in text
    english = script(dataclasses.replace(ONE_LOT, language="en"), skill="health")
    assert "medical team" in english and "medical follow-up" in english


def test_a_skill_without_a_script_of_its_own_gets_the_generic_specialist_script():
    text = script(skill="legal")
    assert text.startswith("(Motif de la transmission : legal.")
    assert "équipe médicale" not in text
    assert "Votre dossier m'a été transmis" in text
    assert script(skill="escalation").startswith(
        "(Motif de la transmission : une demande que le premier conseiller"
    )
    assert script(skill="../call").startswith("(Motif de la transmission : ../call.")


def test_a_retailers_own_specialist_script_is_preferred(tmp_path):
    (tmp_path / "specialist-legal.fr.txt").write_text("Service juridique : {agent}.\n")
    paragraphs = call_script(
        templates_dir=tmp_path, definition=definition(), card=ONE_LOT, names=CAMILLE,
        hotline="", home_language="fr", skill="legal",
    )  # fmt: skip
    assert paragraphs == ["Service juridique : Camille Martin."]


def test_an_earlier_script_with_the_former_fields_still_fills_them(tmp_path):
    (tmp_path / "call.fr.txt").write_text(
        "{quantity} article(s) (lot(s) {lots}) le {last_purchase}"
    )
    paragraphs = call_script(
        templates_dir=tmp_path, definition=definition(), card=ONE_LOT, names=CAMILLE,
        hotline="", home_language="fr",
    )  # fmt: skip
    assert paragraphs == ["1 article(s) (lot(s) L4415) le 11 juin 2026"]


def test_spoken_names_are_the_agents_display_name_and_the_customers(engine):
    seed(
        engine, agent("A1", name="Camille Martin"), customer("NAMED"), line("NAMED", "2026-02-01"),
        customer("NAMELESS", first_name=None, last_name="  "), line("NAMELESS", "2026-02-01"),
    )  # fmt: skip
    launch(engine)
    add_user(engine=engine, username="ag002", password="correct horse battery", role="agent",
             agent_id="A1")  # fmt: skip
    with Session(engine) as session:
        ids = {cid: id_ for cid, id_ in session.execute(select(Case.customer_id, Case.id))}
    named = spoken_names(engine=engine, username="ag002", case_id=ids["NAMED"])
    assert named == SpokenNames(agent="Camille Martin", customer="Élodie Lefèvre")
    nameless = spoken_names(engine=engine, username="ag002", case_id=ids["NAMELESS"])
    assert nameless.customer is None


def test_the_case_page_says_the_agents_name_not_their_login(database_url, tmp_path):
    app, web = build_console(database_url, tmp_path)
    try:
        with TestClient(web) as client:
            log_in(client, "alice")
            token = csrf_of(client.get("/my/list").text)
            opened = client.post("/my/next", data={"csrf": token})
            page = re.sub(r"\s+", " ", opened.text)
        assert "Bonjour, je suis Agent A1, je vous appelle" in page
        assert "je suis alice" not in page
        assert "exemplaire du produit « Perceuse-visseuse X200 18 V »" in page
    finally:
        app.engine.dispose()
