"""Call sheets: the agent's list as a CSV and a printable PDF, in calling order, the PDF in
the agent's language with each callback on the customer's clock."""

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from recall.accounts.users import add_user
from recall.calling.assignment import assign_call_list
from recall.calling.sheet_pdf import SheetError, SheetRow, write_call_sheet
from recall.calling.sheets import write_agent_sheet
from recall.db.models import Case, User
from tests.support import agent, callers, launch, seed

FONTS = Path(__file__).resolve().parents[1] / "templates" / "fonts"
GENERATED = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
ELODIE = SheetRow(
    position=1, case_ref="R-2026-014-000042", customer="Élodie Lefèvre", phone="+33612345678",
    language="fr", quantity=2, lots="L4415, L4433", last_purchase=dt.date(2026, 5, 14),
    attempts=1, callback_at=dt.datetime(2026, 11, 24, 13, 30, tzinfo=dt.UTC), status="contacted",
    call_zone="Europe/Paris",
)  # fmt: skip
SEAN = SheetRow(
    position=2, case_ref="R-2026-014-000007", customer="Seán O'Brien", phone="+447700900123",
    language="en", quantity=1, lots="L4410", last_purchase=dt.date(2026, 2, 3),
    attempts=0, callback_at=None, status="notified",
)  # fmt: skip
ZOE = SheetRow(
    position=3, case_ref="R-2026-014-000120", customer="Zoë Müller-Châtelain",
    phone="+33145678901", language="fr", quantity=3,
    lots="L4410, L4411, L4412, L4413, L4414, L4415, L4416, L4417, L4418",
    last_purchase=dt.date(2026, 6, 30), attempts=4, callback_at=None, status="escalated",
)  # fmt: skip


def write(tmp_path, rows, **changes):
    values = {
        "rows": rows, "recall_id": "R-2026-014", "recall_title": "Perceuse X200 - brûlure",
        "agent_id": "A-07", "agent_name": "Jean Dupont", "out_dir": tmp_path / "sheets",
        "fonts_dir": FONTS, "generated_at": GENERATED, "hotline": "0 800 123 456",
    }  # fmt: skip
    values.update(changes)
    return write_call_sheet(**values)


def many(count):
    return [client(n) for n in range(1, count + 1)]


def client(n):
    return SheetRow(
        position=n, case_ref=f"R-2026-014-{n:06d}", customer=f"Client {n}", phone="+33612345678",
        language="fr", quantity=1, lots="L4415", last_purchase=dt.date(2026, 5, 14), attempts=0,
        callback_at=None, status="identified",
    )  # fmt: skip


def pages(path):
    return [page.extract_text() for page in PdfReader(path).pages]


def flat(path):
    """The PDF's text on one line, its spaces (non-breaking ones too) made plain."""
    return re.sub(r"\s+", " ", " ".join(pages(path)))


def test_csv_holds_the_rows_in_the_given_order_with_their_values(tmp_path):
    files = write(tmp_path, [ELODIE, SEAN, ZOE])
    table = pd.read_csv(files.csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(table.columns) == [
        "position", "case_ref", "customer", "phone", "language", "quantity", "lots",
        "last_purchase", "attempts", "callback_at", "status", "outcome", "notes",
    ]  # fmt: skip
    assert list(table.case_ref) == [ELODIE.case_ref, SEAN.case_ref, ZOE.case_ref]
    first = table.iloc[0].to_dict()
    assert first["customer"] == "Élodie Lefèvre"
    assert first["phone"] == "'+33612345678"  # shown as typed by a spreadsheet, never run
    assert first["lots"] == "L4415, L4433"
    assert first["last_purchase"] == "2026-05-14"
    assert first["callback_at"] == "2026-11-24 14:30 Europe/Paris"
    assert (first["position"], first["quantity"], first["attempts"]) == ("1", "2", "1")
    assert table.iloc[1]["customer"] == "Seán O'Brien"
    assert set(table.outcome) == set(table.notes) == {""}
    assert files.rows == 3


def test_csv_starts_with_a_byte_order_mark_so_excel_reads_accents(tmp_path):
    files = write(tmp_path, [ELODIE])
    assert files.csv.read_bytes().startswith(b"\xef\xbb\xbfposition,case_ref,")


def test_files_are_named_after_the_recall_and_the_agent(tmp_path):
    files = write(tmp_path, [ELODIE])
    assert (files.pdf.name, files.csv.name) == ("R-2026-014-A-07.pdf", "R-2026-014-A-07.csv")


def test_pdf_lists_every_case_in_order_with_accents_and_a_grouped_phone(tmp_path):
    files = write(tmp_path, [ELODIE, SEAN, ZOE])
    text = "\n".join(pages(files.pdf))
    places = [text.index(row.case_ref) for row in (ELODIE, SEAN, ZOE)]
    assert places == sorted(places)
    assert "Élodie Lefèvre" in text
    assert "Seán O'Brien" in text
    assert "+33 6 12 34 56 78" in text
    assert "+44 7700 900123" in text
    assert "page 1 / 1" in text
    assert "0 800 123 456" in text


def test_long_lot_lists_wrap_inside_their_cell(tmp_path):
    files = write(tmp_path, [ZOE])
    text = pages(files.pdf)[0]
    assert "L4418" in text
    assert not any("L4410" in line and "L4418" in line for line in text.splitlines())


def test_a_long_list_runs_over_several_pages_each_with_the_header(tmp_path):
    rows = many(120)
    files = write(tmp_path, rows)
    texts = pages(files.pdf)
    assert len(texts) > 2
    for number, text in enumerate(texts, start=1):
        assert f"page {number} / {len(texts)}" in text
        assert all(word in text for word in ("Référence", "Téléphone", "Résultat", "Notes"))
    whole = "\n".join(texts)
    places = [whole.index(row.case_ref) for row in rows]
    assert places == sorted(places)


def test_an_empty_list_still_gives_a_pdf_saying_there_is_nothing_to_call(tmp_path):
    files = write(tmp_path, [])
    texts = pages(files.pdf)
    assert len(texts) == 1
    assert "Rien à appeler" in texts[0]
    assert "page 1 / 1" in texts[0]
    assert files.csv.read_text(encoding="utf-8-sig").strip().startswith("position,")
    assert files.rows == 0


def test_no_temporary_file_is_left_behind(tmp_path):
    files = write(tmp_path, many(40))
    assert sorted(p.name for p in files.pdf.parent.iterdir()) == [
        "R-2026-014-A-07.csv", "R-2026-014-A-07.pdf",
    ]  # fmt: skip


def test_a_failed_drawing_leaves_no_half_written_file(tmp_path):
    with pytest.raises(SheetError):
        write(tmp_path, [ELODIE], fonts_dir=tmp_path / "no-fonts")
    assert list((tmp_path / "sheets").iterdir()) == []


def test_the_sheet_is_in_french_by_default_with_french_dates_and_the_customers_clock(tmp_path):
    text = flat(write(tmp_path, [ELODIE, SEAN]).pdf)
    for word in ("Référence", "Client", "Téléphone", "Dernier achat", "Rappel prévu", "Résultat"):
        assert word in text, word
    assert "2 dossiers" in text and "Agent A-07 : Jean Dupont" in text
    assert "imprimée le 23 nov. 2026 10:00, votre heure (Paris)" in text
    assert "14/05/2026" in text  # the last purchase, as France writes a day
    assert "24 nov. 2026 14:30, heure du client (Paris)" in text
    assert "ligne dédiée 0 800 123 456" in text
    assert "UTC" not in text and "2026-05-14" not in text


def test_the_sheet_in_english_says_the_same_in_english(tmp_path):
    text = flat(write(tmp_path, [ELODIE], language="en", zone="Europe/London").pdf)
    for word in ("Reference", "Customer", "Last purchase", "Callback", "Outcome", "Notes"):
        assert word in text, word
    assert "1 case" in text and "printed Nov 23, 2026" in text and "your time (London)" in text
    assert "Nov 24, 2026 2:30 PM, customer's time (Paris)" in text
    assert "UTC" not in text and "Référence" not in text
    empty = flat(write(tmp_path / "empty", [], language="en").pdf)
    assert "Nothing to call: no cases are assigned to this agent." in empty


def test_a_callback_shows_on_the_customers_own_clock_and_without_one_on_the_sheets(tmp_path):
    at = dt.datetime(2026, 11, 24, 13, 30, tzinfo=dt.UTC)
    island = SheetRow(**{**ELODIE.__dict__, "call_zone": "America/Martinique"})
    unknown = SheetRow(**{**ELODIE.__dict__, "position": 2, "call_zone": None,
                          "case_ref": "R-2026-014-000043", "callback_at": at})  # fmt: skip
    files = write(tmp_path, [island, unknown])
    text = flat(files.pdf)
    assert "24 nov. 2026 09:30, heure du client (Martinique)" in text
    assert "24 nov. 2026 14:30, heure du client (Paris)" in text
    table = pd.read_csv(files.csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert table.callback_at.tolist() == [
        "2026-11-24 09:30 America/Martinique", "2026-11-24 14:30 Europe/Paris",
    ]  # fmt: skip


@pytest.fixture
def agent_sheet(engine, tmp_path):
    """A1's list of two callers, one of whom asked to be called back on Tuesday."""
    seed(engine, *callers(2), agent("A1", name="Camille Martin"))
    launch(engine, clock=lambda: GENERATED)
    assign_call_list(engine=engine, recall_id="R-2026-014", home_language="fr",
                     clock=lambda: GENERATED)  # fmt: skip
    with Session(engine) as session, session.begin():
        first = session.scalars(select(Case).order_by(Case.id)).first()
        first.callback_at = dt.datetime(2026, 11, 24, 13, 30, tzinfo=dt.UTC)
        first.call_zone = "Europe/Paris"

    def sheet(**more):
        return write_agent_sheet(
            engine=engine, recall_id="R-2026-014", agent_id="A1", out_dir=tmp_path / "out",
            fonts_dir=FONTS, clock=lambda: GENERATED, **more,
        )  # fmt: skip

    return sheet


def test_an_agents_sheet_is_in_the_home_language_on_the_home_clock(agent_sheet):
    text = flat(agent_sheet().pdf)
    assert "Agent A1 : Camille Martin" in text and "2 dossiers" in text
    assert "24 nov. 2026 14:30, heure du client (Paris)" in text
    assert "votre heure (Paris)" in text and "UTC" not in text
    assert "Tries" in flat(agent_sheet(home_language="en").pdf)


def test_an_agents_sheet_follows_the_language_and_clock_they_chose(engine, agent_sheet):
    add_user(engine=engine, username="camille", password="correct horse battery", role="agent",
             agent_id="A1")  # fmt: skip
    with Session(engine) as session, session.begin():
        session.execute(update(User).where(User.username == "camille")
                        .values(language="en", time_zone="Indian/Reunion"))  # fmt: skip
    text = flat(agent_sheet().pdf)
    assert "Agent A1: Camille Martin" in text and "2 cases" in text
    assert "Nov 23, 2026 1:00 PM, your time (Réunion)" in text
    assert "Nov 24, 2026 2:30 PM, customer's time (Paris)" in text
    assert "Référence" in flat(agent_sheet(language="fr").pdf)
