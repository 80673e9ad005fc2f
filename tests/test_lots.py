import pytest

from recall.domain.lots import LotSpecError, parse_lots


@pytest.mark.parametrize("lot", ["l4415", "L4420", "L4410", "  L4412 "])
def test_lot_range_matches_inclusive_ends_trimmed_and_any_case(lot):
    assert parse_lots(["L4410..L4420"]).matches(lot)


@pytest.mark.parametrize("lot", ["L4409", "L44150", "X4415", "L4421", "L44-15"])
def test_lot_range_refuses_lots_outside_or_of_another_prefix(lot):
    assert not parse_lots(["L4410..L4420"]).matches(lot)


def test_exact_lot_matches_case_insensitively():
    lots = parse_lots(["L4410..L4420", "L4433"])
    assert lots.matches("l4433 ")
    assert not lots.matches("L4434")


def test_no_lots_listed_means_every_lot():
    assert parse_lots([]).matches("anything")


def test_a_line_with_no_recorded_lot_cannot_be_ruled_out():
    assert parse_lots(["L4433"]).matches(None)
    assert parse_lots(["L4433"]).matches("  ")


def test_matching_keeps_original_spelling():
    assert parse_lots(["A1..A3"]).matching(["a2", "A4", "A3"]) == ["a2", "A3"]


def test_ranges_compare_numbers_not_text():
    assert parse_lots(["B8..B12"]).matches("B9")
    assert not parse_lots(["B8..B12"]).matches("B13")


@pytest.mark.parametrize(
    "pattern",
    ["L4420..L4410", "L4410..X4420", "L..L9", "abc..def", ""],
)
def test_malformed_lot_patterns_are_refused(pattern):
    with pytest.raises(LotSpecError):
        parse_lots([pattern])
