"""Address blocks per La Poste's NF Z10-011, and the addresses that can't be printed."""

import re

import pytest

from recall.domain.addresses import WIDTH, address_block


def block(**fields):
    values = {
        "first_name": "Élodie",
        "last_name": "Lefèvre",
        "line1": "3 rue de l'Église",
        "line2": "",
        "postal_code": "69001",
        "city": "Lyon",
        "country": "FR",
        "home_country": "FR",
    }
    values.update(fields)
    return address_block(**values)


def test_the_town_line_is_in_capitals_without_accents_or_punctuation():
    found = block(postal_code="94240", city="L'Haÿ-les-Roses")
    assert found.lines[-1] == "94240 L HAY LES ROSES"
    assert block(postal_code="59650", city="Villeneuve-d'Ascq").lines[-1] == (
        "59650 VILLENEUVE D ASCQ"
    )
    assert block(postal_code="16000", city="Angoulême").lines[-1] == "16000 ANGOULEME"


def test_the_street_line_is_in_capitals_without_accents_or_punctuation():
    assert block(line1="37 avenue Jean-Jaurès").lines[1] == "37 AVENUE JEAN JAURES"


def test_the_recipient_keeps_the_accents_and_apostrophes_of_their_name():
    assert block(first_name="Zoé", last_name="D'Août-Lefèvre").lines[0] == "Zoé D'Août-Lefèvre"


def test_building_and_floor_come_before_the_street_door_first():
    found = block(line1="37 avenue Jean-Jaurès", line2="Bâtiment B, 2e étage")
    assert found.lines == (
        "Élodie Lefèvre", "2e étage", "Bâtiment B", "37 AVENUE JEAN JAURES", "69001 LYON"
    )  # fmt: skip


def test_a_lieu_dit_or_a_post_office_box_comes_after_the_street():
    found = block(line1="Lieu-dit Le Moulin", line2="12 chemin des Vignes")
    assert found.lines[1:3] == ("12 CHEMIN DES VIGNES", "LIEU DIT LE MOULIN")
    assert block(line2="BP 42").lines[2] == "BP 42"


def test_a_street_named_after_a_tower_is_still_a_street():
    assert block(line1="12 rue de la Tour").lines[1] == "12 RUE DE LA TOUR"


def test_a_street_is_abbreviated_only_past_32_characters():
    assert block(line1="17 avenue des Fleurs").lines[1] == "17 AVENUE DES FLEURS"
    long = block(line1="124 boulevard du Maréchal de Lattre de Tassigny")
    assert long.lines[1] == "124 BD DU MAL DE LATTRE DE TASSIGNY"
    assert long.printable


def test_a_line_that_cannot_be_shortened_is_not_printed_blind():
    found = block(line1="1 chemin de la Grande Fontaine aux Oiseaux Migrateurs du Nord")
    assert not found.printable
    assert "longer than 38 characters" in found.problem


def test_a_long_name_keeps_its_last_name_whole():
    found = block(
        first_name="Marie-Christine-Bernadette", last_name="de La Tour d'Auvergne-Lauraguais"
    )
    assert found.lines[0] == "M. de La Tour d'Auvergne-Lauraguais"


def test_mail_abroad_ends_with_the_country_in_capitals_in_the_sender_s_language():
    found = block(line1="Rue Haute 12", postal_code="1000", city="Bruxelles", country="BE")
    assert found.lines[-2:] == ("1000 BRUXELLES", "BELGIQUE")
    assert found.printable


def test_a_british_address_puts_the_town_then_the_postcode():
    found = block(line1="10 Downing Street", postal_code="SW1A 2AA", city="London", country="GB")
    assert found.lines[-3:] == ("LONDON", "SW1A 2AA", "ROYAUME UNI")


def test_a_belgian_customer_with_a_french_postal_code_is_flagged():
    found = block(postal_code="59650", city="Villeneuve-d'Ascq", country="BE")
    assert not found.printable
    assert found.problem == "postal code 59650 is not a postal code of BELGIUM"


@pytest.mark.parametrize("postal_code", ["6900", "690011", "ABCDE", ""])
def test_a_french_postal_code_has_five_digits(postal_code):
    assert not block(postal_code=postal_code).printable


PROVENCE = {
    "city": "Saint-Rémy-de-Provence",
    "postal_code": "13210",
    "line2": "Résidence Les Pins, Escalier C, Appt 12",
}
AIX = {
    "first_name": "Jean-François",
    "last_name": "N'Diaye",
    "city": "Aix-en-Provence",
    "postal_code": "13100",
}
SCHAERBEEK = {"city": "Schaerbeek", "postal_code": "1030", "country": "BE",
              "line1": "Avenue Louis Bertrand 59"}  # fmt: skip


@pytest.mark.parametrize("fields", [PROVENCE, AIX, SCHAERBEEK])
def test_every_printable_block_keeps_the_rules(fields):
    found = block(**fields)
    assert found.printable
    assert len(found.lines) <= 6 + (found.lines[-1] == "BELGIQUE")
    assert all(len(line) <= WIDTH for line in found.lines)
    town = found.lines[-2] if fields.get("country") == "BE" else found.lines[-1]
    street_on = next(i for i, line in enumerate(found.lines) if re.match(r"\d|AVENUE", line))
    for line in (*found.lines[street_on:-1], town):
        assert re.fullmatch(r"[A-Z0-9 ]+", line), line
