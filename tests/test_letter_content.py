"""What a recall letter says (GPSR art. 36 and the Commission's recall-notice template), in one
language per letter, with nothing left of a placeholder."""

import re

import pytest
from PIL import Image
from pypdf import PdfReader

from recall.db.models import Store
from recall.notices import letters
from recall.notices.templates import TemplateSet
from tests.support import customer, launch, line, seed
from tests.test_letters import clock, config_for, manifest_of, page_texts

PRODUCT = {
    "product_name": "Perceuse-visseuse X200 18 V",
    "brand": "Brico Maison",
    "model": "X200 18 V",
    "lot_location": {"fr": "sous la batterie, après la mention LOT",
                     "en": "under the battery, after the word LOT"},
}  # fmt: skip
LEFTOVERS = re.compile(r"\{\{|\{%|\bNone\b|\(\s*\)|\[ ?photo ?\]|lot\(s\)|non relevé|not recorded")


@pytest.fixture
def written(engine, tmp_path):
    seed(
        engine,
        Store(store_id="S001", name="Brico Lyon Part-Dieu", city="Lyon", row_hash="x"),
        customer("FR1"), line("FR1", "2026-02-14", lot="L4415"),
        customer("FR2", postal_code="69003"), line("FR2", "2026-02-15", lot=None),
        customer("EN1", language="en", first_name="Oliver", postal_code="69002"),
        line("EN1", "2026-03-01", lot="L4433"),
    )  # fmt: skip
    recall = launch(engine, **PRODUCT)
    config = config_for(tmp_path)
    templates = TemplateSet(config.templates_dir)
    letters.plan_letters(
        engine=engine, recall_id=recall.id, config=config, templates=templates, clock=clock
    )
    letters.render_letters(
        engine=engine, definition=recall, config=config, templates=templates, clock=clock
    )
    manifest = manifest_of(config).set_index("customer_id")
    return {
        key: page_texts(config.out_dir / manifest.loc[key, "batch_file"])[
            int(manifest.loc[key, "page"]) - 1
        ]
        for key in ("FR1", "FR2", "EN1")
    }


def test_a_french_letter_says_what_the_regulation_asks_in_french_only(written):
    text = " ".join(written["FR1"].split())
    for said in (
        "Rappel de produit", "marque Brico Maison", "modèle X200 18 V", "EAN 3276000123456",
        "Produits concernés : lots L4410 à L4420 et L4433",
        "numéro de lot inscrit sous la batterie, après la mention LOT",
        "vendus du 01/01/2026 au 30/06/2026",
        "Cessez d'utiliser ce produit dès maintenant", "sans frais",
        "Le remboursement intégral", "Le remplacement", "La réparation gratuite",
        "(lot L4415)", "salutations distinguées",
    ):  # fmt: skip
        assert said in text, said
    assert "Product recall" not in text and "Product safety recall" not in text


def test_an_english_letter_is_in_english_only(written):
    text = " ".join(written["EN1"].split())
    for said in ("Product recall", "brand Brico Maison", "lots L4410 to L4420 and L4433",
                 "lot number printed under the battery", "Yours faithfully"):  # fmt: skip
        assert said in text, said
    assert "Rappel de produit" not in text


def test_no_letter_shows_a_placeholder_an_empty_bracket_or_an_unknown_lot(written):
    for key, text in written.items():
        assert not LEFTOVERS.search(text), (key, LEFTOVERS.search(text))
    assert "(lot" not in written["FR2"]  # the till recorded no lot: none is said


def test_a_photo_given_by_the_definition_is_printed_and_none_means_no_box(engine, tmp_path):
    seed(engine, customer("FR1"), line("FR1", "2026-02-14"))
    photo = tmp_path / "x200.png"
    Image.new("RGB", (400, 300), (200, 30, 30)).save(photo)
    images = {}
    for name, image in (("with", str(photo)), ("without", "")):
        recall = launch(engine, **PRODUCT, image=image)
        config = config_for(tmp_path / name)
        templates = TemplateSet(config.templates_dir)
        letters.plan_letters(engine=engine, recall_id=recall.id, config=config,
                             templates=templates, clock=clock)  # fmt: skip
        letters.render_letters(engine=engine, definition=recall, config=config,
                               templates=templates, clock=clock)  # fmt: skip
        page = PdfReader(config.out_dir / "letters-0001.pdf").pages[0]
        images[name] = len(page.images)
        engine.dispose()
        with engine.begin() as connection:  # the next round writes its letters anew
            connection.exec_driver_sql("DELETE FROM letters")
            connection.exec_driver_sql("DELETE FROM letter_batches")
    assert images["with"] == images["without"] + 1


def test_posters_and_the_public_page_show_the_photo_given_by_the_definition(engine, tmp_path):
    from recall.notices.posters import make_notices

    seed(engine, customer("FR1", address_line1=None), line("FR1", "2026-02-14"))
    photo = tmp_path / "x200.png"
    Image.new("RGB", (400, 300), (200, 30, 30)).save(photo)
    recall = launch(engine, **PRODUCT, image=str(photo))
    config = config_for(tmp_path)
    report = make_notices(engine=engine, definition=recall, config=config,
                          templates=TemplateSet(config.templates_dir), clock=clock)  # fmt: skip
    assert all(len(PdfReader(p).pages[0].images) == 1 for p in report.posters)
    page = (config.out_dir / "public-notice.fr.html").read_text(encoding="utf-8")
    assert '<img src="product-photo.png" alt="Photo du produit rappelé">' in page
    assert (config.out_dir / "product-photo.png").read_bytes() == photo.read_bytes()
