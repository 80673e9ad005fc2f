"""Recall letters: content, print batches and manifest, idempotence, crash resume, templates."""

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recall.db.models import Case, Letter, LetterBatch, Store
from recall.db.secrets import page_key
from recall.domain.page_tokens import read_token
from recall.notices import letters
from recall.notices.templates import TemplateProblem, TemplateSet
from recall.settings import PROJECT_TEMPLATES
from tests.support import customer, line, sample_recall, seed
from tests.support import launch as launch_sample

FIXED = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
RISK = {"fr": "La batterie peut surchauffer et brûler.", "en": "The battery can overheat and burn."}


def clock():
    return FIXED


RAW = sample_recall(product_name="Perceuse X200", risk=RISK, hotline="0 800 123 456")


def launch(engine):
    return launch_sample(engine, **RAW)


def config_for(tmp_path, **changes):
    values = {
        "out_dir": tmp_path / "letters",
        "templates_dir": PROJECT_TEMPLATES / "letters",
        "fonts_dir": PROJECT_TEMPLATES / "fonts",
        "batch_size": 3,
        "workers": 1,
    }
    values.update(changes)
    return letters.LetterSettings(**values)


def make_letters(engine, recall, config):
    templates = TemplateSet(config.templates_dir)
    plan = letters.plan_letters(
        engine=engine, recall_id=recall.id, config=config, templates=templates, clock=clock
    )
    rendered = letters.render_letters(
        engine=engine, definition=recall, config=config, templates=templates, clock=clock
    )
    return plan, rendered


def page_texts(path):
    return [page.extract_text() for page in PdfReader(path).pages]


def manifest_of(config):
    return pd.read_csv(config.out_dir / "manifest.csv", dtype=str)


@pytest.fixture
def buyers(engine):
    """Seven buyers with an address (one English, one German), one without."""
    rows = [Store(store_id="S001", name="Brico Lyon Part-Dieu", city="Lyon", row_hash="x")]
    postcodes = ["75011", "01000", "69003", "13001", "69001", "33000"]
    for number, postcode in enumerate(postcodes, start=1):
        rows.append(customer(f"C{number}", postal_code=postcode, first_name=f"Zoé{number}"))
        rows.append(line(f"C{number}", "2026-02-14", lot="L4415"))
    rows += [
        customer(
            "EN", language="en", first_name="Oliver", last_name="O'Neill", postal_code="69002"
        ),
        line("EN", "2026-03-01", quantity=2, lot="L4433"),
        customer("DE", language="de", first_name="Jürgen", postal_code="67000"),
        line("DE", "2026-03-02"),
        customer("NOADDR", address_line1=None, phone="06 12 34 56 78"),
        line("NOADDR", "2026-03-03"),
    ]
    seed(engine, *rows)
    return launch(engine)


def test_a_letter_names_the_customer_their_purchase_and_case_reference(engine, tmp_path, buyers):
    elodie = customer("ELO", first_name="Élodie", last_name="Lefèvre-D'Août", postal_code="69007")
    seed(engine, elodie, line("ELO", "2026-02-20", quantity=2, lot="l4418"))
    launch(engine)
    config = config_for(tmp_path)
    make_letters(engine, buyers, config)
    row = manifest_of(config).set_index("customer_id").loc["ELO"]
    text = page_texts(config.out_dir / row["batch_file"])[int(row["page"]) - 1]
    assert "Élodie Lefèvre-D'Août" in text
    assert "3 RUE DE L EGLISE" in text and "69007 LYON" in text
    assert "l4418" in text and "20/02/2026" in text and "Brico Lyon Part-Dieu" in text
    assert row["case_ref"] in text
    assert "Rappel de produit" in text and "Product" not in text
    assert RISK["fr"] in text and "0 800 123 456" in text
    assert "Le remboursement intégral" in text and "Le remplacement" in text


def test_each_customer_is_written_to_in_their_language_or_else_in_french(engine, tmp_path, buyers):
    config = config_for(tmp_path)
    plan, _ = make_letters(engine, buyers, config)
    manifest = manifest_of(config).set_index("customer_id")
    assert manifest.loc["EN", "language"] == "en"
    assert manifest.loc["DE", "language"] == "fr"
    assert plan.fallback == {"de": 1}
    english = page_texts(config.out_dir / manifest.loc["EN", "batch_file"])[
        int(manifest.loc["EN", "page"]) - 1
    ]
    assert "Dear Oliver O'Neill" in english and RISK["en"] in english
    assert manifest.loc["EN", "template_version"] != manifest.loc["C1", "template_version"]


def test_batches_hold_at_most_n_letters_in_postal_code_order(engine, tmp_path, buyers):
    config = config_for(tmp_path, batch_size=3)
    make_letters(engine, buyers, config)
    manifest = manifest_of(config)
    assert "NOADDR" not in set(manifest["customer_id"])
    assert len(manifest) == 8
    assert manifest["postal_code"].tolist() == sorted(manifest["postal_code"])
    assert manifest.groupby("batch_file").size().tolist() == [3, 3, 2]


def test_the_manifest_matches_the_pdfs_page_for_page(engine, tmp_path, buyers):
    config = config_for(tmp_path, batch_size=4)
    make_letters(engine, buyers, config)
    manifest = manifest_of(config)
    for batch_file, rows in manifest.groupby("batch_file"):
        pages = page_texts(config.out_dir / batch_file)
        assert len(pages) == len(rows)
        for _, row in rows.iterrows():
            assert row["case_ref"] in pages[int(row["page"]) - 1]


def test_a_second_run_makes_no_second_letter_and_a_new_buyer_gets_a_new_batch(
    engine, tmp_path, buyers
):
    config = config_for(tmp_path)
    make_letters(engine, buyers, config)
    first = {p.name: p.read_bytes() for p in config.out_dir.glob("*.pdf")}
    plan, rendered = make_letters(engine, buyers, config)
    assert (plan.planned, rendered.batches) == (0, 0)
    assert {p.name: p.read_bytes() for p in config.out_dir.glob("*.pdf")} == first
    seed(engine, customer("LATE", postal_code="01000"), line("LATE", "2026-04-01"))
    launch(engine)
    plan, rendered = make_letters(engine, buyers, config)
    assert (plan.planned, rendered.batches, rendered.letters) == (1, 1, 1)
    manifest = manifest_of(config)
    assert manifest["customer_id"].is_unique and len(manifest) == 9
    assert manifest.set_index("customer_id").loc["LATE", "batch_file"] == "letters-0004.pdf"


def test_rendering_in_two_processes_gives_the_same_letters(engine, tmp_path, buyers):
    one, two = config_for(tmp_path / "one"), config_for(tmp_path / "two", workers=2)
    make_letters(engine, buyers, one)
    with Session(engine) as session, session.begin():  # forget the letters, make them again
        session.query(Letter).delete()
        session.query(LetterBatch).delete()
    make_letters(engine, buyers, two)
    assert manifest_of(one).equals(manifest_of(two))
    for pdf in one.out_dir.glob("*.pdf"):
        assert pdf.read_bytes() == (two.out_dir / pdf.name).read_bytes()


CRASHING_RUN = """
import sys
from pathlib import Path
from recall.db.engine import make_engine
from recall.notices.templates import TemplateSet
from recall.campaign import definitions
from recall.notices import letters
from recall.settings import PROJECT_TEMPLATES
engine = make_engine(sys.argv[1])
config = letters.LetterSettings(
    out_dir=Path(sys.argv[2]), templates_dir=PROJECT_TEMPLATES / "letters",
    fonts_dir=PROJECT_TEMPLATES / "fonts", batch_size=4, workers=1,
)
definition = definitions.get_definition(engine=engine, recall_id="R-2026-014")
templates = TemplateSet(config.templates_dir)
letters.plan_letters(engine=engine, recall_id=definition.id, config=config, templates=templates)
letters.render_letters(engine=engine, definition=definition, config=config, templates=templates)
"""


def rendered_batches(engine) -> int:
    with Session(engine) as session:
        return session.scalar(
            select(func.count())
            .select_from(LetterBatch)
            .where(LetterBatch.rendered_at.is_not(None))
        )


def test_after_a_kill_9_the_next_run_finishes_exactly_the_missing_letters(
    engine, database_url, tmp_path
):
    rows = []
    for number in range(400):
        rows += [customer(f"K{number:04d}", postal_code=f"{10000 + number}"),
                 line(f"K{number:04d}", "2026-02-01")]  # fmt: skip
    seed(engine, *rows)
    recall = launch(engine)
    out = tmp_path / "letters"
    run = subprocess.Popen([sys.executable, "-c", CRASHING_RUN, database_url, str(out)])
    deadline = time.monotonic() + 60
    while rendered_batches(engine) < 3 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    done_before = rendered_batches(engine)
    assert 3 <= done_before < 100, "the kill came too late to test a resume"
    config = config_for(tmp_path, batch_size=4)
    plan, rendered = make_letters(engine, recall, config)
    assert plan.planned == 0  # every letter had been planned before the crash
    assert rendered.batches == 100 - done_before
    manifest = manifest_of(config)
    assert len(manifest) == 400 and manifest["customer_id"].is_unique
    assert not list(out.glob("*.part"))
    for batch_file, rows in manifest.groupby("batch_file"):
        assert len(PdfReader(out / batch_file).pages) == len(rows)


@pytest.fixture
def folder(tmp_path):
    """A copy of the shipped letter templates, to break."""
    copy = tmp_path / "letters"
    shutil.copytree(PROJECT_TEMPLATES / "letters", copy)
    return copy


def test_an_unknown_placeholder_is_named_with_its_file(folder):
    path = folder / "letter.fr.txt"
    path.write_text(path.read_text().replace("{{ hotline }}", "{{ hotline_number }}"))
    with pytest.raises(TemplateProblem, match=r"letter\.fr\.txt.*\[answer\].*hotline_number"):
        TemplateSet(folder)


def test_a_template_syntax_error_gives_the_line(folder):
    path = folder / "letter.en.txt"
    lines = path.read_text().splitlines()
    number = (
        next(
            i for i, text in enumerate(lines) if text.startswith("{% if page_link %}Answer online")
        )
        + 1
    )
    lines[number - 1] += " {{ hotline"
    path.write_text("\n".join(lines))
    with pytest.raises(TemplateProblem, match=rf"letter\.en\.txt:{number}:"):
        TemplateSet(folder).get("letter", "en")


def test_the_home_language_template_is_required(folder):
    (folder / "letter.fr.txt").unlink()
    with pytest.raises(TemplateProblem, match="no letter template for the home language 'fr'"):
        TemplateSet(folder)


def test_a_missing_section_is_named(folder):
    path = folder / "letter.fr.txt"
    path.write_text(path.read_text().replace("[signature]", "[signatures]"))
    with pytest.raises(TemplateProblem, match=r"missing section\(s\) \[signature\]"):
        TemplateSet(folder)


def test_the_qr_code_holds_the_case_reference(engine, tmp_path, buyers):
    pdfium = pytest.importorskip("pypdfium2")
    zxing = pytest.importorskip("zxingcpp")
    config = config_for(tmp_path)
    make_letters(engine, buyers, config)
    row = manifest_of(config).iloc[0]
    page = pdfium.PdfDocument(config.out_dir / row["batch_file"])[int(row["page"]) - 1]
    image = page.render(scale=200 / 72).to_pil()
    assert [code.text for code in zxing.read_barcodes(image)] == [row["case_ref"]]


def test_with_a_page_address_the_letter_prints_the_customers_own_link_and_its_qr_code(
    engine, tmp_path, buyers
):
    pdfium = pytest.importorskip("pypdfium2")
    zxing = pytest.importorskip("zxingcpp")
    config = config_for(tmp_path, page_base="https://rappel.example.fr")
    make_letters(engine, buyers, config)
    row = manifest_of(config).iloc[0]
    page = pdfium.PdfDocument(config.out_dir / row["batch_file"])[int(row["page"]) - 1]
    (code,) = zxing.read_barcodes(page.render(scale=200 / 72).to_pil())
    assert code.text.startswith("HTTPS://RAPPEL.EXAMPLE.FR/R/")
    token = code.text.rsplit("/", 1)[1]
    with Session(engine) as session:
        case_id = session.scalar(select(Case.id).where(Case.case_ref == row["case_ref"]))
    assert read_token(token, page_key(engine)) == case_id
    printed = " ".join(page.get_textpage().get_text_range().split())
    assert f"https://rappel.example.fr/r/{token}" in printed
