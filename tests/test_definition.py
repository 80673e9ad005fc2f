import datetime as dt

import pytest
import yaml

from recall.domain.definition import InvalidDefinition
from recall.domain.definition_parsing import parse_definition

SAMPLE = """
id: R-2026-014
title: "Perceuse X200 - risque de brûlure"
hazard: high
products:
  - sku: "3276000123456"
    lots: ["L4410..L4420", "L4433"]
sold_from: 2026-01-01
sold_to: 2026-06-30
stores: []
remedies: [refund, replacement, repair]
call_policy: without_letter
call:
  max_attempts: 5
  retry_after: 4h
  calling_hours: {mon-fri: "09:00-20:00", sat: "10:00-18:00"}
  timezone: Europe/Paris
"""


def errors_of(doc):
    with pytest.raises(InvalidDefinition) as caught:
        parse_definition(doc)
    return {e.field: e.message for e in caught.value.errors}


def sample(**changes):
    doc = yaml.safe_load(SAMPLE)
    doc.update(changes)
    return doc


def test_the_contract_sample_parses_with_its_values():
    d = parse_definition(yaml.safe_load(SAMPLE))
    assert d.id == "R-2026-014"
    assert d.title.endswith("brûlure")
    assert d.sold_from == dt.date(2026, 1, 1) and d.sold_to == dt.date(2026, 6, 30)
    assert d.lots_for("3276000123456").matches("l4415")
    assert d.call.retry_after == dt.timedelta(hours=4)
    assert [w.weekday for w in d.call.calling_hours] == [0, 1, 2, 3, 4, 5]
    assert d.call.calling_hours[5].start == dt.time(10, 0)


def test_defaults_apply_when_optional_fields_are_absent():
    doc = sample()
    for name in ("stores", "remedies", "call_policy", "call"):
        del doc[name]
    d = parse_definition(doc)
    assert d.call_policy == "without_letter"
    assert d.remedies == ("refund", "replacement", "repair")
    assert d.stores == frozenset()
    assert d.call.max_attempts == 5


def test_every_error_is_reported_at_once_with_its_field():
    errors = errors_of(sample(hazard="extreme", sold_to="2025-12-31", call_policy="some"))
    assert "hazard" in errors and "extreme" in errors["hazard"]
    assert "before sold_from" in errors["sold_to"]
    assert "call_policy" in errors


def test_missing_required_fields_are_named():
    errors = errors_of({"title": "x"})
    assert {"id", "hazard", "products", "sold_from", "sold_to"} <= set(errors)


def test_a_bad_lot_range_names_the_product():
    errors = errors_of(sample(products=[{"sku": "1", "lots": ["L20..L10"]}]))
    assert "products[0].lots" in errors


def test_misspelt_fields_are_refused_not_ignored():
    errors = errors_of(sample(sold_form="2026-01-01"))
    assert "sold_form" in errors


def test_bad_call_settings_name_their_field():
    errors = errors_of(
        sample(
            call={
                "max_attempts": 0,
                "retry_after": "soon",
                "timezone": "Mars/Olympus",
                "calling_hours": {"mon-fri": "20:00-09:00", "someday": "09:00-10:00"},
            }
        )
    )
    assert {
        "call.max_attempts",
        "call.retry_after",
        "call.timezone",
        "call.calling_hours.mon-fri",
        "call.calling_hours.someday",
    } <= set(errors)


def test_unknown_remedy_and_bad_date_are_refused():
    errors = errors_of(sample(remedies=["refund", "prayer"], sold_from="31/01/2026"))
    assert "prayer" in errors["remedies"]
    assert "sold_from" in errors


def test_an_id_with_spaces_is_refused():
    assert "id" in errors_of(sample(id="R 2026 14"))


def test_a_document_that_is_not_a_mapping_is_refused():
    assert "(document)" in errors_of(["not", "a", "mapping"])
