import pytest

from recall.domain.cases import usable_address
from recall.domain.contacts import mask_phone, normalise_phone, parse_flag


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("+33 6 12 34 56 78", "FR", "+33612345678"),
        ("0033612345678", "FR", "+33612345678"),
        ("06.12.34.56.78", "FR", "+33612345678"),
        ("+32 470 12 34 56", "FR", "+32470123456"),
        ("0470 12 34 56", "BE", "+32470123456"),
        ("+33 6 12 34 56 78", "BE", "+33612345678"),
    ],
)
def test_phones_in_human_formats_become_e164(raw, country, expected):
    assert normalise_phone(raw, country) == expected


@pytest.mark.parametrize(
    "raw", ["", None, "06 12", "n/a", "+33 0 00 00 00 00", "12345678901234567"]
)
def test_invalid_phones_are_treated_as_absent(raw):
    assert normalise_phone(raw, "FR") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("OUI", True),
        ("yes", True),
        ("true", True),
        ("0", False),
        ("non", False),
        ("", False),
        (None, False),
        ("peut-être", None),
    ],
)
def test_flags_read_french_and_english(raw, expected):
    assert parse_flag(raw) is expected


def test_an_address_needs_line1_postal_code_and_city():
    assert usable_address("3 rue de l'Église", "69001", "Lyon")
    assert not usable_address("3 rue de l'Église", "", "Lyon")
    assert not usable_address(None, "69001", "Lyon")


def test_masked_phone_hides_the_subscriber_number():
    assert mask_phone("+33612345678") == "+33*******78"
    assert "1234" not in mask_phone("+33612345678")
