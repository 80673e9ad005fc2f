"""A recall definition held to what the law asks of a notice before it is launched: a choice
of remedies (GPSR art. 37), no words that play the danger down (the Commission's template),
the hazard, the product and a contact (art. 36)."""

import pytest
import yaml

from recall.campaign.definitions import load_definition, minimising_words
from recall.domain.definition import InvalidDefinition
from recall.domain.definition_law import legal_problems
from recall.domain.definition_parsing import parse_definition
from recall.settings import PROJECT_TEMPLATES
from tests.support import sample_recall

WORDS = minimising_words()


def fields_at_fault(**changes):
    return {e.field: e.message for e in legal_problems(sample_recall(**changes), WORDS)}


def test_the_sample_recall_meets_the_law():
    assert fields_at_fault() == {}


def test_a_single_remedy_needs_its_reason():
    assert "GPSR art. 37" in fields_at_fault(remedies=["refund"])["remedies"]
    reason = "the product can't be repaired or replaced: only a refund is possible"
    assert fields_at_fault(remedies=["refund"], single_remedy_reason=reason) == {}


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("title", "Rappel volontaire de la perceuse X200"),
        ("title", "Voluntary recall of the X200 drill"),
        ("risk", {"fr": "Par précaution, nous rappelons ce produit.", "en": "The battery burns."}),
        ("risk", {"fr": "La batterie chauffe.", "en": "In rare situations the battery burns."}),
        ("product_name", "Perceuse X200 (rappel PRÉCAUTIONNAIRE)"),
        ("risk", "No incidents reported so far, but the battery may burn."),
        ("risk", "Dans de RARES cas, la batterie peut brûler."),
    ],
)
def test_minimising_words_are_refused_with_the_field_that_holds_them(field, text):
    faults = fields_at_fault(**{field: text})
    named = [name for name in faults if name == field or name.startswith(f"{field}.")]
    assert len(named) == 1 and "plays the danger down" in faults[named[0]]


def test_a_word_inside_another_word_is_not_refused():
    # "volontairement" is listed, "involontaire" is not: only whole words count.
    assert fields_at_fault(risk="Un contact involontaire avec la batterie brûle la peau.") == {}


@pytest.mark.parametrize("field", ["risk", "product_name", "hotline"])
def test_the_hazard_the_product_and_a_contact_are_required(field):
    raw = sample_recall()
    raw.pop(field)
    assert field in {e.field for e in legal_problems(raw, WORDS)}


def test_the_retailer_s_hotline_is_the_contact_of_a_recall_that_names_none():
    raw = sample_recall()
    raw.pop("hotline")
    assert legal_problems(raw, WORDS, retailer_hotline="0 800 123 456") == []


def test_every_problem_is_listed_at_once_with_the_other_field_errors():
    raw = sample_recall(remedies=["refund"], title="Rappel volontaire", sold_to="not a date")
    raw.pop("hotline")
    raw.pop("risk")
    with pytest.raises(InvalidDefinition) as caught:
        parse_definition(raw, minimising=WORDS)
    assert {e.field for e in caught.value.errors} == {
        "remedies",
        "title",
        "sold_to",
        "hotline",
        "risk",
    }


def test_a_stored_recall_is_read_as_it_was_accepted():
    raw = sample_recall(remedies=["refund"])
    raw.pop("hotline")
    assert parse_definition(raw).remedies == ("refund",)


def test_the_retailer_keeps_its_own_list_in_its_templates(tmp_path):
    words = tmp_path / "definition" / "minimising-words.txt"
    words.parent.mkdir()
    words.write_text("# ours\nsans danger\n", encoding="utf-8")
    path = tmp_path / "recall.yaml"
    path.write_text(yaml.safe_dump(sample_recall(risk="Sans danger pour l'utilisateur.")))
    with pytest.raises(InvalidDefinition) as caught:
        load_definition(path, templates_dir=tmp_path)
    assert [e.field for e in caught.value.errors] == ["risk"]
    assert load_definition(path, templates_dir=PROJECT_TEMPLATES)[0].risk
