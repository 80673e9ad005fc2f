"""Each letter's address block read back from the PDF inside the envelope's window, and the
addresses that can't be printed set aside for review instead of mailed blind."""

import re

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recall.db.models import AddressReview, Case, CaseEvent, Store
from recall.notices import address_review, letter_pdf
from tests.support import customer, line, seed
from tests.test_letters import config_for, launch, make_letters, manifest_of

pdfium = pytest.importorskip("pypdfium2")

PEOPLE = {
    "HAY": {"first_name": "Zoé", "last_name": "D'Août-Lefèvre", "postal_code": "94240",
            "city": "L'Haÿ-les-Roses", "address_line1": "37 avenue Jean-Jaurès",
            "address_line2": "Bâtiment B, 2e étage"},
    "ASCQ": {"first_name": "Jean-François", "last_name": "N'Diaye", "postal_code": "59650",
             "city": "Villeneuve-d'Ascq",
             "address_line1": "124 boulevard du Maréchal de Lattre de Tassigny"},
    "BXL": {"first_name": "Luc", "last_name": "Peeters", "postal_code": "1030",
            "city": "Schaerbeek", "country": "BE", "address_line1": "Avenue Louis Bertrand 59"},
}  # fmt: skip


@pytest.fixture
def recall(engine):
    rows = [Store(store_id="S001", name="Brico Lyon Part-Dieu", city="Lyon", row_hash="x")]
    for key, fields in PEOPLE.items():
        rows += [customer(key, **fields), line(key, "2026-02-14")]
    rows += [
        customer("FLAG", country="BE", postal_code="59650", city="Villeneuve-d'Ascq",
                 phone="+32 470 12 34 56"),
        line("FLAG", "2026-02-15"),
        customer("NOPHONE", postal_code="6900", city="Lyon"),
        line("NOPHONE", "2026-02-16"),
    ]  # fmt: skip
    seed(engine, *rows)
    return launch(engine)


def window_text(path, page_number):
    """The text a window envelope shows of the page: what lies inside the window's box."""
    page = pdfium.PdfDocument(path)[page_number - 1]
    left, top, right, bottom = letter_pdf.WINDOW
    height = page.get_height()
    text = page.get_textpage().get_text_bounded(left, height - bottom, right, height - top)
    return [row.strip() for row in text.replace("\r", "").split("\n") if row.strip()]


def test_every_address_block_shows_whole_in_the_window_and_keeps_the_rules(
    engine, tmp_path, recall
):
    config = config_for(tmp_path)
    make_letters(engine, recall, config)
    manifest = manifest_of(config).set_index("customer_id")
    blocks = {key: window_text(config.out_dir / manifest.loc[key, "batch_file"],
                               int(manifest.loc[key, "page"])) for key in PEOPLE}  # fmt: skip
    assert blocks["HAY"] == [
        "Zoé D'Août-Lefèvre", "2e étage", "Bâtiment B", "37 AVENUE JEAN JAURES",
        "94240 L HAY LES ROSES",
    ]  # fmt: skip
    assert blocks["ASCQ"] == [
        "Jean-François N'Diaye", "124 BD DU MAL DE LATTRE DE TASSIGNY", "59650 VILLENEUVE D ASCQ"
    ]  # fmt: skip
    assert blocks["BXL"] == [
        "Luc Peeters", "AVENUE LOUIS BERTRAND 59", "1030 SCHAERBEEK", "BELGIQUE"
    ]  # fmt: skip
    for lines in blocks.values():
        assert len(lines) <= 7 and all(len(row) <= 38 for row in lines)
        assert all(re.fullmatch(r"[A-Z0-9 ]+", row) for row in lines[-2:])


def test_the_window_sits_where_a_dl_window_envelope_shows_it():
    left, top, right, bottom = (round(value / letter_pdf.mm) for value in letter_pdf.WINDOW)
    # DL 110 x 220 mm, window 45 x 100 mm, 20 mm from the right and 15 mm from the bottom;
    # the 210 mm sheet folded in three rests against the envelope's top and right edges.
    envelope_right, sheet_offset = 220 - 20, 220 - 210
    assert (right, left) == (envelope_right - sheet_offset, envelope_right - sheet_offset - 100)
    assert (bottom, top) == (110 - 15, 110 - 15 - 45)


def test_an_address_that_cannot_be_printed_goes_to_review_and_to_the_call_list(
    engine, tmp_path, recall
):
    config = config_for(tmp_path)
    plan, _ = make_letters(engine, recall, config)
    assert (plan.set_aside.to_call, plan.set_aside.to_notice) == (1, 1)
    assert set(manifest_of(config)["customer_id"]) == set(PEOPLE)
    review = pd.read_csv(config.out_dir / address_review.REVIEW_FILE, dtype=str)
    reasons = dict(zip(review["last_name"] + review["postal_code"], review["reason"], strict=True))
    assert reasons["Lefèvre59650"] == "postal code 59650 is not a postal code of BELGIUM"
    assert reasons["Lefèvre6900"] == "postal code 6900 is not a postal code of FRANCE"
    with Session(engine) as session:
        moved = {
            c.customer_id: (c.letter, c.call, c.notice_only)
            for c in session.scalars(select(Case).where(Case.customer_id.in_(["FLAG", "NOPHONE"])))
        }
        notes = session.scalars(select(CaseEvent.note).where(CaseEvent.note.like("address%")))
        assert len(list(notes)) == 2
        assert len(session.scalars(select(AddressReview)).all()) == 2
    assert moved == {"FLAG": (False, True, False), "NOPHONE": (False, False, True)}


def test_planning_again_sets_nothing_aside_twice(engine, tmp_path, recall):
    config = config_for(tmp_path)
    make_letters(engine, recall, config)
    again, _ = make_letters(engine, recall, config)
    assert (again.planned, again.set_aside.cases) == (0, 0)
    with Session(engine) as session:
        assert len(session.scalars(select(AddressReview)).all()) == 2
