"""After printing: letters posted, letters returned undelivered, and the public notices."""

import re

import pandas as pd
import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from recall.db.models import Case, CaseEvent, Store
from recall.domain.cases import replay
from recall.notices.mailing import MailingError, mark_mailed, record_returned
from recall.notices.posters import make_notices
from recall.notices.templates import TemplateSet
from tests.support import customer, line, seed
from tests.test_letters import clock, config_for, launch, make_letters


@pytest.fixture
def mailed_recall(engine, tmp_path):
    seed(
        engine,
        Store(store_id="S001", name="Brico Lyon Part-Dieu", city="Lyon", row_hash="x"),
        Store(store_id="S002", name="Brico Gap", city="Gap", row_hash="x"),
        customer("PHONE", phone="06 12 34 56 78", postal_code="01000"),
        line("PHONE", "2026-02-01"),
        customer("NOPHONE", postal_code="02000"),
        line("NOPHONE", "2026-02-01"),
        customer("DNC", phone="06 98 76 54 32", do_not_call=True, postal_code="03000"),
        line("DNC", "2026-02-01"),
        customer("LATER", postal_code="04000"),
        line("LATER", "2026-02-01", store_id="S002"),
        customer("NOTICE", address_line1=None),
        line("NOTICE", "2026-02-01", store_id="S002"),
        line(None, "2026-02-02", quantity=3, store_id="S002"),
    )
    recall = launch(engine)
    config = config_for(tmp_path, batch_size=2)
    make_letters(engine, recall, config)
    return recall, config


def case_of(engine, customer_id) -> Case:
    with Session(engine) as session:
        return session.scalars(select(Case).where(Case.customer_id == customer_id)).one()


def history(engine, customer_id) -> list[tuple]:
    with Session(engine) as session:
        return session.execute(
            select(CaseEvent.old_status, CaseEvent.new_status, CaseEvent.channel, CaseEvent.note)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(Case.customer_id == customer_id)
            .order_by(CaseEvent.id)
        ).all()


def returned_file(tmp_path, *refs):
    path = tmp_path / "returned.csv"
    pd.DataFrame({"case_ref": refs, "motif": ["NPAI"] * len(refs)}).to_csv(path, index=False)
    return path


def test_posting_a_batch_notifies_only_its_cases_with_an_event_each(engine, mailed_recall):
    recall, _ = mailed_recall
    report = mark_mailed(
        engine=engine, recall_id=recall.id, batch_file="letters-0001.pdf", clock=clock
    )
    assert (report.batches, report.notified) == (["letters-0001.pdf"], 2)
    assert case_of(engine, "PHONE").status == "notified"
    assert case_of(engine, "LATER").status == "identified"
    assert history(engine, "PHONE")[-1] == (
        "identified", "notified", "letter", "letter posted by the print house"
    )  # fmt: skip


def test_posting_twice_changes_nothing_the_second_time(engine, mailed_recall):
    recall, _ = mailed_recall
    assert mark_mailed(engine=engine, recall_id=recall.id).notified == 4
    again = mark_mailed(engine=engine, recall_id=recall.id)
    assert (again.batches, again.notified) == ([], 0)
    assert len(history(engine, "PHONE")) == 2


def test_an_unknown_batch_is_a_clear_error(engine, mailed_recall):
    recall, _ = mailed_recall
    with pytest.raises(MailingError, match=r"no letter batch letters-0099\.pdf"):
        mark_mailed(engine=engine, recall_id=recall.id, batch_file="letters-0099.pdf")


def test_a_returned_letter_moves_the_case_to_the_call_list_or_ends_it(
    engine, mailed_recall, tmp_path
):
    recall, _ = mailed_recall
    mark_mailed(engine=engine, recall_id=recall.id)
    refs = [case_of(engine, c).case_ref for c in ("PHONE", "NOPHONE", "DNC")]
    report = record_returned(engine=engine, path=returned_file(tmp_path, *refs), clock=clock)
    assert (report.to_call_list, report.unreachable) == (1, 2)
    # The letter never reached the customer: the case it alone notified goes back to identified.
    phone = case_of(engine, "PHONE")
    assert (phone.status, phone.call, phone.letter) == ("identified", True, True)
    assert phone.notified_by is None
    assert case_of(engine, "NOPHONE").status == "unreachable"
    assert case_of(engine, "DNC").status == "unreachable"  # do_not_call is never called
    assert [e[:2] for e in history(engine, "PHONE")] == [
        (None, "identified"), ("identified", "notified"), ("notified", "identified"),
        ("identified", "identified"),
    ]  # fmt: skip
    assert history(engine, "PHONE")[-1][3] == "letter returned undelivered: moved to the call list"
    assert replay([e[1] for e in history(engine, "PHONE")]).value == "identified"
    assert [e[:2] for e in history(engine, "NOPHONE")][-2:] == [
        ("notified", "identified"), ("identified", "unreachable"),
    ]  # fmt: skip


def test_the_same_returns_file_applied_twice_moves_nothing_more(engine, mailed_recall, tmp_path):
    recall, _ = mailed_recall
    mark_mailed(engine=engine, recall_id=recall.id)
    path = returned_file(tmp_path, case_of(engine, "PHONE").case_ref)
    record_returned(engine=engine, path=path)
    again = record_returned(engine=engine, path=path)
    assert (again.to_call_list, again.already_recorded) == (0, 1)
    # identified, notified (posted), back to identified (returned), moved to the call list
    assert len(history(engine, "PHONE")) == 4


def test_an_unknown_reference_is_rejected_with_its_reason_and_the_rest_applied(
    engine, mailed_recall, tmp_path
):
    recall, _ = mailed_recall
    mark_mailed(engine=engine, recall_id=recall.id)
    path = returned_file(tmp_path, "R-2026-014-999999", case_of(engine, "PHONE").case_ref)
    report = record_returned(engine=engine, path=path)
    assert (report.rejected, report.to_call_list) == (1, 1)
    rejects = pd.read_csv(report.rejects_file, dtype=str)
    assert rejects["reject_reason"].tolist() == ["no case has the reference 'R-2026-014-999999'"]
    assert rejects["motif"].tolist() == ["NPAI"]


def test_a_returns_file_without_case_ref_is_refused(engine, tmp_path):
    path = tmp_path / "returned.csv"
    path.write_text("reference;motif\nR-1;NPAI\n")
    with pytest.raises(MailingError, match="needs a case_ref column"):
        record_returned(engine=engine, path=path)


@pytest.fixture
def notices(engine, mailed_recall):
    recall, config = mailed_recall
    templates = TemplateSet(config.templates_dir)
    return make_notices(
        engine=engine, definition=recall, config=config, templates=templates, clock=clock
    )


def test_each_store_that_sold_affected_units_gets_a_poster_in_each_language(notices):
    report = notices
    names = [p.name for p in report.posters]
    assert sorted(names) == [
        "poster-S001.en.pdf", "poster-S001.pdf", "poster-S002.en.pdf", "poster-S002.pdf"
    ]  # fmt: skip
    poster = PdfReader(report.posters[names.index("poster-S002.pdf")])
    assert len(poster.pages) == 1
    text = " ".join(poster.pages[0].extract_text().split())
    for said in ("RAPPEL DE PRODUIT", "Perceuse X200", "Brico Gap", "0 800 123 456",
                 "EAN 3276000123456", "lots L4410 à L4420 et L4433", "Vendus du 01/01/2026",
                 "Le danger", "le remboursement, l'échange", "Partagez cet avis"):  # fmt: skip
        assert said in text, said
    english_poster = PdfReader(report.posters[names.index("poster-S002.en.pdf")])
    english = " ".join(english_poster.pages[0].extract_text().split())
    assert "PRODUCT RECALL" in english and "Share this notice" in english
    assert "L4410..L4420" not in text + english  # our notation, not a customer's


def test_the_public_notice_is_text_and_a_page_with_no_internal_figure(mailed_recall, notices):
    _, config = mailed_recall
    report = notices
    assert sorted(p.name for p in report.public) == [
        "public-notice.en.html", "public-notice.en.txt",
        "public-notice.fr.html", "public-notice.fr.txt",
    ]  # fmt: skip
    assert report.public_languages == ["en", "fr"]
    french = (config.out_dir / "public-notice.fr.txt").read_text(encoding="utf-8")
    assert "le remboursement, l'échange" in french and "Partagez cet avis" in french
    assert "lots L4410 à L4420 et L4433" in french
    assert not re.search(r"\bunités vendues|clients sans|\b3\b", french)  # no internal figure
    page = (config.out_dir / "public-notice.fr.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in page and "<script" not in page
    assert "<h1>RAPPEL DE PRODUIT - Perceuse X200</h1>" in page
    assert "l&#39;échange" in page  # the text escaped, as any page must
    notice_only = pd.read_csv(report.notice_only, dtype=str)
    assert notice_only["customer_id"].tolist() == ["NOTICE"]


def test_store_ids_that_are_not_file_names_still_get_a_poster_each(engine, tmp_path):
    odd = ["S/1", "S_1", "../S1", "S 1"]
    seed(engine, *(line(f"C{n}", "2026-02-01", store_id=s) for n, s in enumerate(odd)),
         *(customer(f"C{n}", address_line1=None) for n in range(len(odd))))  # fmt: skip
    recall = launch(engine)
    config = config_for(tmp_path)
    report = make_notices(
        engine=engine, definition=recall, config=config,
        templates=TemplateSet(config.templates_dir), clock=clock,
    )  # fmt: skip
    folder = config.out_dir / "posters"
    languages = 2  # a poster in French and one in English per store
    assert len({p.name for p in report.posters}) == len(odd) * languages
    assert len(list(folder.iterdir())) == len(odd) * languages
    assert all(p.parent == folder and p.is_file() for p in report.posters)
    assert "poster-S_1.pdf" in {p.name for p in report.posters}  # a safe id keeps its name
