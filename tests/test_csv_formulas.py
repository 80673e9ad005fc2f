"""No CSV the project writes holds a cell a spreadsheet would run as a formula (OWASP's "CSV
Injection"): names, ids and stores from the loyalty export come out neutralised everywhere."""

import csv
import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recall import spreadsheet
from recall.calling.agents import import_agents
from recall.calling.assignment import assign_call_list
from recall.calling.sheet_pdf import SheetRow, write_call_sheet
from recall.db.models import Customer, Purchase, Store
from recall.importing.service import import_export
from recall.notices.mailing import record_returned
from recall.notices.posters import make_notices
from recall.notices.templates import TemplateSet
from recall.reporting.completion import completion, completion_csv
from recall.reporting.files import write_progress_report
from recall.reporting.overview import export_cases
from recall.settings import PROJECT_TEMPLATES
from tests.support import agent, customer, line, seed
from tests.test_letters import clock, config_for, launch, make_letters

LINK = '=HYPERLINK("http://evil.example/?x","Cliquez ici")'
STORE = "=2+3"
CARD = "@SUM(1+1)"


def live_formulas(path) -> list[str]:
    """The cells of a CSV file that a spreadsheet would run as a formula."""
    text = path.read_text(encoding="utf-8-sig")
    header = text.partition("\n")[0]
    delimiter = max(",;\t", key=header.count)
    cells = [cell for row in csv.reader(text.splitlines(), delimiter=delimiter) for cell in row]
    return [c for c in cells if spreadsheet.neutralised(c) != c]


def test_text_a_spreadsheet_would_run_is_written_with_an_apostrophe():
    for risky in ("=1+1", "+33612345678", "-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        assert spreadsheet.neutralised(risky) == "'" + risky
    for harmless in ("-12", "-1.5", "Élodie", "", 42, -3, None, "L4415", "a=b"):
        assert spreadsheet.neutralised(harmless) == harmless


def test_a_frame_keeps_its_numbers_and_missing_values_and_neutralises_its_texts(tmp_path):
    frame = pd.DataFrame({"name": [LINK, "Zoë", None], "quantity": [-1, 2, 3]})
    spreadsheet.write_frame(frame, tmp_path / "out.csv")
    back = pd.read_csv(tmp_path / "out.csv", dtype={"name": str})
    assert back["name"].tolist()[:2] == ["'" + LINK, "Zoë"] and pd.isna(back["name"][2])
    assert back["quantity"].tolist() == [-1, 2, 3]


@pytest.fixture
def hostile(engine, tmp_path):
    """A recall whose store id, card number and customer name are formulas, launched, called
    for, lettered and reported on."""
    seed(
        engine,
        Store(store_id=STORE, name="=cmd|' /C calc'!A0", city="Lyon", row_hash="x"),
        customer(CARD, first_name=LINK, phone="06 12 34 56 78", postal_code="01000"),
        line(CARD, "2026-02-01", store_id=STORE),
        customer("NOTICE", first_name=LINK, address_line1=None),
        line("NOTICE", "2026-02-01", store_id=STORE),
        agent("A1"),
    )
    recall = launch(engine)
    assign_call_list(engine=engine, recall_id=recall.id, home_language="fr", clock=clock)
    config = config_for(tmp_path)
    make_letters(engine, recall, config)
    return recall, config


def test_every_csv_of_a_launched_recall_neutralises_formulas(engine, hostile, tmp_path):
    recall, config = hostile
    export_cases(engine=engine, recall_id=recall.id, out=tmp_path / "cases.csv")
    templates = TemplateSet(config.templates_dir)
    notices = make_notices(
        engine=engine, definition=recall, config=config, templates=templates, clock=clock
    )
    report = write_progress_report(
        engine=engine, recall_id=recall.id, out_dir=tmp_path / "report",
        fonts_dir=PROJECT_TEMPLATES / "fonts", clock=clock,
    )  # fmt: skip
    written = {
        "cases.csv": tmp_path / "cases.csv",
        "manifest.csv": config.out_dir / "manifest.csv",
        "notice-only.csv": notices.notice_only,
        **{f"{name}.csv": path for name, path in report.csvs.items()},
    }
    for name, path in written.items():
        assert live_formulas(path) == [], name
    # Each file shows the values, made harmless, not left out.
    assert f"'{CARD}" in written["cases.csv"].read_text(encoding="utf-8")
    assert f"'{CARD}" in written["manifest.csv"].read_text(encoding="utf-8")
    for name in ("notice-only.csv", "completion.csv", "stores.csv"):
        assert f"'{STORE}" in written[name].read_text(encoding="utf-8-sig"), name


def test_the_consoles_completion_csv_neutralises_formulas(engine, hostile):
    recall, _ = hostile
    text = completion_csv(completion(engine=engine, recall_id=recall.id))
    rows = list(csv.reader(text.splitlines()))
    assert [cell for row in rows for cell in row if spreadsheet.neutralised(cell) != cell] == []
    assert any(row[1:3] == ["store", f"'{STORE}"] for row in rows)


def test_a_call_sheet_neutralises_the_customers_name_and_lots(tmp_path):
    row = SheetRow(
        position=1, case_ref="R-2026-014-000001", customer=LINK, phone="+33612345678",
        language="fr", quantity=1, lots="-1+1", last_purchase=dt.date(2026, 5, 14),
        attempts=0, callback_at="", status="identified",
    )  # fmt: skip
    files = write_call_sheet(
        rows=[row], recall_id="R-2026-014", recall_title="Perceuse", agent_id="A1",
        agent_name="Jean", out_dir=tmp_path, fonts_dir=PROJECT_TEMPLATES / "fonts",
        generated_at=dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC),
    )  # fmt: skip
    assert live_formulas(files.csv) == []
    values = next(iter(pd.read_csv(files.csv, dtype=str, encoding="utf-8-sig").itertuples()))
    assert (values.customer, values.phone, values.lots) == ("'" + LINK, "'+33612345678", "'-1+1")


def test_rejects_files_neutralise_the_rows_they_give_back(engine, hostile, tmp_path):
    customers = tmp_path / "customers.csv"
    customers.write_text(f'customer_id,first_name\n,"{LINK.replace(chr(34), chr(34) * 2)}"\n')
    purchases = tmp_path / "purchases.csv"
    purchases.write_text(
        "transaction_id,line_no,customer_id,sku,lot,store_id,purchased_at,quantity\n"
        f"T1,1,{CARD},3276000123456,L4415,{STORE},2026-02-01,0\n"
    )
    import_export(engine=engine, files={"customers": customers, "purchases": purchases})
    roster = tmp_path / "agents.csv"
    roster.write_text(f"agent_id;name;languages;capacity\n{STORE};=1+1;fr;many\n")
    import_agents(engine=engine, path=roster)
    returned = tmp_path / "returned.csv"
    returned.write_text(f"case_ref,motif\n{STORE},=1+1\n")
    record_returned(engine=engine, path=returned, clock=clock)
    for name in ("customers", "purchases", "agents", "returned"):
        rejects = tmp_path / f"{name}.rejects.csv"
        assert live_formulas(rejects) == [], name
        assert "'=" in rejects.read_text(encoding="utf-8-sig"), name


def test_a_rejects_file_corrected_and_imported_again_gives_back_the_values_as_read(
    engine, tmp_path
):
    customers = tmp_path / "customers.csv"
    customers.write_text(
        f'customer_id,first_name,phone\n,"{LINK.replace(chr(34), chr(34) * 2)}",+33612345678\n'
    )
    purchases = tmp_path / "purchases.csv"
    purchases.write_text(
        "transaction_id,line_no,customer_id,sku,lot,store_id,purchased_at,quantity\n"
        f"T1,1,42,3276000123456,L4415,{STORE},2026-02-01,0\n"
    )
    import_export(engine=engine, files={"customers": customers, "purchases": purchases})
    fixed_customers = tmp_path / "customers-fixed.csv"
    rejected = (tmp_path / "customers.rejects.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in rejected and "'+33612345678" in rejected
    fixed_customers.write_text(rejected.replace("\n,", "\n42,", 1), encoding="utf-8")
    fixed_purchases = tmp_path / "purchases-fixed.csv"
    rejected = (tmp_path / "purchases.rejects.csv").read_text(encoding="utf-8-sig")
    assert f"'{STORE}" in rejected
    fixed_purchases.write_text(rejected.replace(",0,", ",1,"), encoding="utf-8")
    import_export(engine=engine, files={"customers": fixed_customers, "purchases": fixed_purchases})
    with Session(engine) as session:
        card = session.get(Customer, "42")
        line_in = session.scalars(select(Purchase)).one()
    assert (card.first_name, card.phone) == (LINK, "+33612345678")
    assert (line_in.store_id, line_in.quantity) == (STORE, 1)
