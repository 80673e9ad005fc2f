"""After the call, from the command line: fulfilments by hand and by file, returns at the till
after an import, incidents, the effectiveness check and the monthly report."""

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recall.calling.assignment import assign_call_list
from recall.calling.claiming import claim_case
from recall.calling.outcomes import record_disposition
from recall.db.engine import make_engine
from recall.db.models import Case
from tests.support import agent, callers, command_line, launch, seed

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
LAUNCHED = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def run(database_url, tmp_path, monkeypatch):
    return command_line(monkeypatch, database_url, tmp_path / "var", NOW)


@pytest.fixture
def refs(database_url):
    """Three callers: C00000 agreed a refund, C00001 and C00002 not reached yet."""
    engine = make_engine(database_url)
    seed(engine, *callers(3), agent("A1"), agent("H1", skills="health"))
    launch(engine, clock=lambda: LAUNCHED)
    assign_call_list(engine=engine, recall_id="R-2026-014", home_language="fr",
                     clock=lambda: LAUNCHED)  # fmt: skip
    with Session(engine) as session:
        found = dict(session.execute(select(Case.customer_id, Case.case_ref)).tuples().all())
        first = session.scalar(select(Case).where(Case.customer_id == "C00000"))
    claim_case(engine=engine, agent_id=first.agent_id, case_id=first.id, clock=lambda: LAUNCHED)
    record_disposition(engine=engine, agent_id=first.agent_id, case_id=first.id,
                       disposition="reached", outcome="refund", clock=lambda: LAUNCHED)  # fmt: skip
    engine.dispose()
    return found


def status_of(database_url, ref):
    engine = make_engine(database_url)
    with Session(engine) as session:
        case = session.scalar(select(Case).where(Case.case_ref == ref))
        found = (case.status, case.outcome, case.agent_id)
    engine.dispose()
    return found


def test_fulfilments_by_hand_and_by_file(run, refs, tmp_path):
    ref = refs["C00000"]
    early = run("fulfilment", "record", ref, "--kind", "refund_paid", "--on", "2026-11-24")
    assert early.exit_code == 2 and "a refund paid needs its amount" in early.output
    done = run("fulfilment", "record", ref, "--kind", "refund_paid", "--on", "24/11/2026",
               "--amount", "49,90")  # fmt: skip
    assert (
        done.exit_code == 0 and f"{ref}: refund_paid recorded, 1 unit(s) corrected" in done.output
    )
    again = run("fulfilment", "record", ref, "--kind", "refund_paid", "--on", "24/11/2026",
                "--amount", "49.90")  # fmt: skip
    assert "already recorded; nothing changed" in again.output
    future = run(
        "fulfilment", "record", refs["C00001"], "--kind", "destroyed", "--on", "2026-12-24"
    )
    assert future.exit_code == 2 and "in the future" in future.output
    file = tmp_path / "done.csv"
    file.write_text(f"case_ref,kind,done_on\n{ref},destroyed,2026-11-24\n{refs['C00001']},"
                    "destroyed,2026-11-24\n", encoding="utf-8")  # fmt: skip
    imported = run("fulfilment", "import", file)
    assert "1 recorded (0 unit(s) corrected), 0 already recorded, 1 rejected" in imported.output
    rejects = pd.read_csv(tmp_path / "done.rejects.csv", dtype=str)
    assert rejects.reject_reason.tolist() == [f"case {refs['C00001']} has no remedy agreed yet "
                                              "(identified)"]  # fmt: skip
    elsewhere = run("fulfilment", "import", file, "--recall", "R-2026-099")
    assert "0 recorded (0 unit(s) corrected), 0 already recorded, 2 rejected" in elsewhere.output
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("reference;date\nx;y\n", encoding="utf-8")
    refused = run("fulfilment", "import", wrong)
    assert (
        refused.exit_code == 2 and "needs the column(s) case_ref, kind, done_on" in refused.output
    )


def test_a_till_return_in_the_next_export_closes_the_case(run, refs, tmp_path, database_url):
    purchases = tmp_path / "purchases.csv"
    purchases.write_text(
        "transaction_id,line_no,customer_id,sku,lot,store_id,purchased_at,quantity\n"
        "T900,1,C00001,3276000123456,L4415,S002,2026-11-24,-1\n",
        encoding="utf-8",
    )
    imported = run("import", "--purchases", purchases)
    assert "R-2026-014: 1 case(s) with units back at a till, 1 unit(s); 1 closed" in imported.output
    assert status_of(database_url, refs["C00001"])[:2] == ("resolved", "returned_in_store")
    again = run("till-returns", "R-2026-014").output  # never twice
    assert "0 case(s) with units back at a till, 0 unit(s); 0 closed" in again


def test_an_injury_reported_from_the_command_line_reaches_the_specialist(run, refs, database_url):
    said = run("incident", refs["C00002"], "--kind", "burn", "--severity", "injury", "--on",
               "2026-11-20", "--text", "burned fingers")  # fmt: skip
    assert said.exit_code == 0 and "escalated to a health specialist (agent H1)" in said.output
    assert status_of(database_url, refs["C00002"]) == ("escalated", "escalated", "H1")
    twice = run("incident", refs["C00002"], "--kind", "burn", "--severity", "injury", "--on",
                "2026-11-20", "--text", "burned fingers")  # fmt: skip
    assert twice.exit_code == 0 and "escalated" not in twice.output  # the same report: once
    bad = run(
        "incident", refs["C00002"], "--kind", "burn", "--severity", "bad", "--on", "2026-11-20"
    )
    assert bad.exit_code == 2 and "severity 'bad' is not one of" in bad.output
    typed = run("incident", refs["C00001"], "--kind", "fire", "--severity", "property_damage",
                "--on", "20 novembre 2026")  # fmt: skip
    assert typed.exit_code == 0 and "incident recorded" in typed.output
    unreadable = run("incident", refs["C00001"], "--kind", "fire", "--severity", "none",
                     "--on", "demain matin")  # fmt: skip
    assert unreadable.exit_code == 2 and "'demain matin' is not a date" in unreadable.output


def test_the_check_and_the_monthly_report(run, refs, tmp_path):
    drawn = run("checks", "draw", "R-2026-014", "--out", tmp_path / "checks")
    assert "level B (25% of 1 notified): 1 drawn now, 1 in all" in drawn.output
    listed = pd.read_csv(tmp_path / "checks" / "effectiveness-checks-R-2026-014.csv", dtype=str)
    assert listed.case_ref.tolist() == [refs["C00000"]]
    unknown = run("checks", "record", refs["C00001"], "--received", "yes", "--acted", "yes")
    assert unknown.exit_code == 2 and "was not drawn for the effectiveness check" in unknown.output
    half = run("checks", "record", refs["C00000"], "--received", "yes")
    assert half.exit_code == 2 and "needs received and acted" in half.output
    done = run("checks", "record", refs["C00000"], "--received", "yes", "--acted", "no")
    assert "1 of 1 checks made" in done.output
    report = run("monthly-report", "R-2026-014", "--language", "en", "--out", tmp_path / "m")
    assert report.exit_code == 0
    table = pd.read_csv(tmp_path / "m" / "monthly-R-2026-014-2026-11.en.csv", dtype=str)
    figures = dict(zip(table.section + "." + table.key, table.cumulative, strict=True))
    assert (figures["effectiveness.received"], figures["effectiveness.acted"]) == ("1", "0")
    assert figures["notified.phone"] == "1" and figures["calls.call_attempts"] == "1"
    early = run("monthly-report", "R-2026-014", "--month", "2026-10")
    assert early.exit_code == 2 and "was launched on 2026-11-23, after 2026-10" in early.output
