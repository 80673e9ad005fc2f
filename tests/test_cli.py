"""The command line end to end: import, launch (the Prefect flow), status and cases export."""

import json

import httpx
import pandas as pd
import pytest
from prefect.settings import PREFECT_API_URL
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recall.bootstrap import current_app
from recall.db.models import Case, CaseEvent, Recall
from tests.support import command_line

CUSTOMERS = (
    "customer_id;first_name;last_name;phone;address_line1;postal_code;city;country;do_not_call\n"
    "00017;Élodie;Lefèvre;06 12 34 56 78;3 rue de l'Église;69001;Lyon;;non\n"
    "00018;Jérôme;D'Angelo;0033612345679;;;;;\n"
    "00019;Anaïs;Müller;;;;Besançon;;\n"
    "00020;Noël;Le Gall;+32 470 12 34 56;;;;BE;oui\n"
    "00021;Zoé;Martin;06 11 11 11 11;1 place Bellecour;69002;Lyon;;\n"
)
PURCHASES = (
    "transaction_id,line_no,customer_id,sku,lot,store_id,purchased_at,quantity\n"
    "T1,1,00017,3276000123456,L4415,S001,2026-02-03,1\n"
    "T2,1,00018,3276000123456,l4433,S002,14/03/2026,2\n"
    "T3,1,00019,3276000123456,L4419,S001,2026-03-20T10:22:00,1\n"
    "T4,1,00020,3276000123456,L4410,S003,2026-04-01,1\n"
    "T5,1,00021,3276000123456,L4411,S001,2026-02-03,1\n"
    "T6,1,00021,3276000123456,L4411,S001,2026-07-09,-1\n"
    "T7,1,,3276000123456,L4412,S001,2026-03-14,3\n"
    "T8,1,00017,3276000999999,L4415,S001,2026-02-03,1\n"
    "T9,1,00017,3276000123456,L4415,S001,31/02/2026,1\n"
)
RECALL = """
id: R-2026-014
title: "Perceuse X200 - risque de brûlure"
hazard: high
products:
  - sku: "3276000123456"
    lots: ["L4410..L4420", "L4433"]
sold_from: 2026-01-01
sold_to: 2026-06-30
remedies: [refund, replacement, repair]
hotline: "01 80 00 00 00"
product_name: "Perceuse-visseuse X200 18 V"
risk: "La batterie peut surchauffer pendant la charge et brûler."
"""
AGENTS = (
    "agent_id;name;languages;skills;capacity;phone;active\n"
    "A1;Amélie Roux;fr;;1;06 12 00 00 01;oui\n"
    "A2;Karim Benali;fr,en;;1;;oui\n"
)


@pytest.fixture
def prefect_server(flow_engine_url):
    return flow_engine_url


@pytest.fixture
def run(database_url, tmp_path, monkeypatch):
    # A Monday, within calling hours.
    yield command_line(monkeypatch, database_url, tmp_path / "var", "2026-11-23T10:00+01:00",
                       RECALL_LETTER_WORKERS="1")  # fmt: skip


@pytest.fixture
def export(tmp_path):
    (tmp_path / "customers.csv").write_bytes(CUSTOMERS.encode("cp1252"))
    (tmp_path / "purchases.csv").write_text(PURCHASES, encoding="utf-8")
    (tmp_path / "recall.yaml").write_text(RECALL, encoding="utf-8")
    (tmp_path / "agents.csv").write_bytes(AGENTS.encode("cp1252"))
    return tmp_path


def counts(url):
    engine = current_app().engine
    with Session(engine) as session:
        return (
            session.scalar(select(func.count(Case.id))),
            session.scalar(select(func.count(CaseEvent.id))),
        )


@pytest.mark.flow
def test_import_launch_status_and_cases_end_to_end(run, export, prefect_server, database_url):
    imported = run(
        "import", "--customers", export / "customers.csv", "--purchases", export / "purchases.csv"
    )
    assert imported.exit_code == 0, imported.output
    assert "rejected" in imported.output
    assert (export / "purchases.rejects.csv").exists()

    agents = run("agents", "import", export / "agents.csv")
    assert "2 added" in agents.output, agents.output
    launched = run("launch", export / "recall.yaml")
    assert launched.exit_code == 0, launched.output

    status = json.loads(run("status", "R-2026-014", "--json").stdout)
    assert {k: status[k] for k in ("cases", "letter", "call", "notice_only")} == {
        "cases": 4,
        "letter": 1,
        "call": 1,
        "notice_only": 2,
    }
    assert (status["already_returned"], status["untraceable_units"]) == (1, 3)
    assert status["import_rejected_rows"] == {"customers": 0, "purchases": 1}

    out = export / "cases.csv"
    assert run("cases", "R-2026-014", "--csv", out).exit_code == 0
    cases = pd.read_csv(out, dtype=str, keep_default_na=False).set_index("customer_id")
    expected = {
        "customer_id",
        "status",
        "letter",
        "call",
        "notice_only",
        "phone_e164",
        "quantity",
        "agent_id",
    }
    assert expected <= set(cases.reset_index().columns)
    # A leading + is a formula to a spreadsheet: written as text (docs/decisions.md).
    assert cases.loc["00018", "phone_e164"] == "'+33612345679"
    assert cases.loc["00018", "quantity"] == "2"
    assert cases.loc["00017", ["letter", "call"]].tolist() == ["1", "0"]
    assert cases.loc["00020", "notice_only"] == "1"  # do_not_call and no address
    on_call_list = cases[cases["call"] == "1"]
    assert len(on_call_list) == 1 and (on_call_list["agent_id"] != "").all()
    assert set(cases["status"]) == {"identified"}

    letters = export / "var" / "letters" / "R-2026-014"
    manifest = pd.read_csv(letters / "manifest.csv", dtype=str)
    assert manifest["customer_id"].tolist() == ["00017"]
    assert status["letters"] == {"planned": 1, "rendered": 1, "mailed": 0, "returned": 0}
    assert (letters / "letters-0001.pdf").exists() and list((letters / "posters").glob("*.pdf"))

    before = counts(database_url)
    assert run("launch", export / "recall.yaml").exit_code == 0
    assert counts(database_url) == before == (4, 4)
    assert len(pd.read_csv(letters / "manifest.csv")) == 1

    mailed = run("letters", "mailed", "R-2026-014")
    assert "1 case(s) now notified" in mailed.output
    returned = export / "returned.csv"
    returned.write_text(f"case_ref\n{manifest['case_ref'][0]}\n")
    assert "1 moved to the call list" in run("letters", "returned", returned).output
    assert json.loads(run("status", "R-2026-014", "--json").stdout)["call"] == 2


def test_a_malformed_recall_names_its_fields_and_writes_nothing(run, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: R-1\ntitle: x\nhazard: extreme\nproducts: []\nsold_from: 2026-13-01\n",
        encoding="utf-8",
    )
    result = run("launch", bad)
    assert result.exit_code == 2
    for field in ("hazard", "products", "sold_from", "sold_to"):
        assert field in result.stderr
    with Session(current_app().engine) as session:
        assert session.scalar(select(func.count()).select_from(Recall)) == 0


def test_a_recall_that_is_not_yaml_says_where(run, tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("id: R-1\ntitle: [unclosed\n", encoding="utf-8")
    result = run("launch", bad)
    assert result.exit_code == 2
    assert "broken.yaml" in result.stderr and "line" in result.stderr


def test_a_recall_of_aliases_or_deep_nesting_is_one_field_error(run, tmp_path):
    from tests.test_definition_file import BOMB, DEEP

    for name, content in {"bomb.yaml": BOMB, "deep.yaml": DEEP}.items():
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        result = run("launch", path)
        assert result.exit_code == 2, result.output
        assert name in result.stderr and "Traceback" not in result.stderr
        assert "aliases" in result.stderr or "nested deeper" in result.stderr


def test_importing_a_workbook_is_refused_with_its_name(run, tmp_path):
    workbook = tmp_path / "customers.xlsx"
    workbook.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    result = run("import", "--customers", workbook)
    assert result.exit_code == 2
    assert "customers.xlsx" in result.stderr and "not a CSV or Parquet" in result.stderr


def test_the_next_case_of_an_unknown_agent_is_a_clear_error(run):
    result = run("calls", "next", "--agent", "NOPE")
    assert result.exit_code == 2
    assert "no agent 'NOPE'" in result.stderr and "Traceback" not in result.stderr


def test_status_of_an_unknown_recall_is_a_clear_error(run):
    result = run("status", "R-NOPE")
    assert result.exit_code == 2
    assert "R-NOPE" in result.stderr


@pytest.mark.flow
def test_working_the_call_list_from_the_command_line(run, export, prefect_server):
    run("import", "--customers", export / "customers.csv", "--purchases", export / "purchases.csv")
    run("agents", "import", export / "agents.csv")
    assert run("launch", export / "recall.yaml").exit_code == 0
    run("agents", "deactivate", "A1")  # the one call-list case was A1's
    assert "1 case(s) assigned" in run("assign", "R-2026-014").output
    run("agents", "activate", "A1")
    run("agents", "deactivate", "A2")
    assert "1 case(s) assigned" in run("assign", "R-2026-014").output  # back to A1

    sheet = run("calls", "sheet", "R-2026-014", "--agent", "A1", "--out", export / "sheets")
    assert "1 case(s)" in sheet.output
    rows = pd.read_csv(export / "sheets" / "R-2026-014-A1.csv", dtype=str)
    assert rows["phone"].tolist() == ["'+33612345679"]
    ref = rows["case_ref"][0]

    dialled = run("calls", "dial", ref, "--agent", "A1")
    assert "call OFFLINE-call-" in dialled.output, dialled.output
    recorded = run(
        "calls", "record", ref, "--agent", "A1", "--disposition", "reached", "--outcome", "refund"
    )
    assert f"{ref}: resolved, off the call list" in recorded.output
    inactive = run("calls", "record", ref, "--agent", "A2", "--disposition", "busy")
    assert inactive.exit_code == 2 and "agent A2 is no longer active" in inactive.output
    run("agents", "activate", "A2")
    refused = run("calls", "record", ref, "--agent", "A2", "--disposition", "busy")
    assert refused.exit_code == 2
    assert f"case {ref} is not on the list of agent A2" in " ".join(refused.output.split())


def test_console_users_are_added_from_the_command_line(run, export, monkeypatch):
    run("agents", "import", export / "agents.csv")
    monkeypatch.setenv("NEW_PASSWORD", "a long enough secret")
    added = run("users", "add", "amelie", "--role", "agent", "--agent", "A1",
                "--password-env", "NEW_PASSWORD")  # fmt: skip
    assert added.exit_code == 0 and "user amelie added (agent, agent A1)" in added.output
    again = run("users", "add", "amelie", "--role", "lead", "--password-env", "NEW_PASSWORD")
    assert again.exit_code == 2 and "already exists" in again.output
    unknown = run("users", "add", "x", "--role", "agent", "--agent", "A99",
                  "--password-env", "NEW_PASSWORD")  # fmt: skip
    assert unknown.exit_code == 2 and "no agent 'A99'" in unknown.output
    monkeypatch.setenv("SHORT", "short")
    weak = run("users", "add", "y", "--role", "lead", "--password-env", "SHORT")
    assert weak.exit_code == 2 and "at least 10 characters" in weak.output
    listed = run("users", "list")
    assert "amelie" in listed.output and "A1" in listed.output
    assert "a long enough secret" not in listed.output


@pytest.mark.flow
def test_follow_up_report_and_closing_from_the_command_line(
    run, export, prefect_server, tmp_path, monkeypatch
):
    run("import", "--customers", export / "customers.csv", "--purchases", export / "purchases.csv")
    run("agents", "import", export / "agents.csv")
    assert run("launch", export / "recall.yaml").exit_code == 0
    followed = run("follow-up", "R-2026-014")
    assert followed.exit_code == 0, followed.output
    said = " ".join(followed.output.split())  # the terminal's width wraps the line
    assert (
        "R-2026-014: 0 case(s) closed by a till return, 0 letter(s) to the call list, "
        "0 callback(s) overdue" in said
    )
    reported = run("report", "R-2026-014")
    assert reported.exit_code == 0, reported.output
    reports = tmp_path / "var" / "reports" / "R-2026-014"
    assert len(list(reports.glob("progress-*.pdf"))) == 1
    assert {p.name.rsplit("-", 1)[0] for p in reports.glob("*.csv")} == {
        "completion", "burn-down", "regulator", "stores",
    }  # fmt: skip

    body = {"limit": 50, "offset": 0, "sort": "CREATED_DESC"}
    found = httpx.post(f"{PREFECT_API_URL.value()}/artifacts/filter", json=body, timeout=10)
    keys = {artifact["key"] for artifact in found.json()}
    assert {"funnel-r-2026-014", "progress-r-2026-014"} <= keys
    monkeypatch.setenv("RECALL_NOW", "2027-01-04T10:00+01:00")  # weeks later, nobody called
    late = run("follow-up")
    assert "high-hazard case(s) not contacted within 48 h" in late.output, late.output
    found = httpx.post(f"{PREFECT_API_URL.value()}/artifacts/filter", json=body, timeout=10)
    sla = next(a for a in found.json() if a["key"] == "sla-r-2026-014")
    assert "contact SLA missed" in sla["data"] and "R-2026-014-0000" in sla["data"]
    assert "+33" not in sla["data"]
    closed = run("close", "R-2026-014")
    assert closed.exit_code == 0 and "R-2026-014 closed" in closed.output
    assert "was closed" in run("close", "R-2026-014").output
    assert "kept until" in run("purge", "R-2026-014").output
