"""Every imported value checked to its column, and an import that stops never passes unseen."""

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from recall.bootstrap import current_app
from recall.cli import cli
from recall.db.models import ImportRun
from recall.importing.service import ImportStopped, import_export, unfinished_imports
from recall.importing.sources import BadFile
from tests.support import sample_recall
from tests.test_import import (
    CUSTOMERS_HEADER,
    customers_file,
    customers_in,
    purchases_file,
    purchases_in,
    rejects_of,
)


def reasons_by_id(path, column="transaction_id"):
    rejects = rejects_of(path)
    return dict(zip(rejects[column], rejects["reject_reason"], strict=True))


def test_values_beyond_their_column_are_rejected_rows_not_a_failed_import(engine, tmp_path):
    long_id = "T" * 65
    path = purchases_file(
        tmp_path,
        "T01,1,42,3276000123456,L4415,S001,2026-02-01,1",
        "T02,1,42,3276000123456,L4415,S001,2026-02-01,inf",
        "T03,inf,42,3276000123456,L4415,S001,2026-02-01,1",
        "T04,3000000000,42,3276000123456,L4415,S001,2026-02-01,1",
        "T05,100000000000000000000,42,3276000123456,L4415,S001,2026-02-01,1",
        f"{long_id},1,42,3276000123456,L4415,S001,2026-02-01,1",
        "T07,1,42,3276000123456,L4415," + "S" * 65 + ",2026-02-01,1",
        "T08,1,42,3276000123456,L4415,S001,2026-02-01,-100001",
        "T09,2147483647,42,3276000123456,L4415,S001,2026-02-01,-100000",
    )
    report = import_export(engine=engine, files={"purchases": path})
    assert (report.tables[0].rows_accepted, report.tables[0].rows_rejected) == (2, 7)
    reasons = reasons_by_id(path)
    assert "quantity 'inf' is not a whole number" in reasons["T02"]
    assert "line_no 'inf' is not a whole number" in reasons["T03"]
    assert "line_no '3000000000' is outside 0 to 2,147,483,647" in reasons["T04"]
    assert "outside" in reasons["T05"] or "not a whole number" in reasons["T05"]
    assert reasons[long_id] == "transaction_id is longer than 64 characters"
    assert reasons["T07"] == "store_id is longer than 64 characters"
    assert "beyond 100,000 units" in reasons["T08"]
    stored = [(p.transaction_id, p.line_no, p.quantity) for p in purchases_in(engine)]
    assert stored == [("T01", 1, 1), ("T09", 2147483647, -100000)]


def test_customer_texts_longer_than_their_column_are_rejected_by_characters(engine, tmp_path):
    path = customers_file(
        tmp_path,
        "1;Ana;Lopes;;1 rue Haute;01000;" + "é" * 200 + ";non",  # 200 letters, 400 bytes: fits
        "2;Ana;Lopes;;1 rue Haute;01000;" + "C" * 201 + ";non",
        "3;Ana;Lopes;;1 rue Haute;" + "0" * 21 + ";Bourg;non",
        encoding="utf-8",
    )
    report = import_export(engine=engine, files={"customers": path})
    assert report.tables[0].rows_rejected == 2
    reasons = reasons_by_id(path, "customer_id")
    assert reasons == {
        "2": "city is longer than 200 characters",
        "3": "postal_code is longer than 20 characters",
    }
    assert customers_in(engine)["1"].city == "é" * 200


@pytest.mark.parametrize("written", ["0x10", "0X10", "1e3", "-1e2", "2.0", "²", "1 000", "٣"])
def test_a_quantity_is_decimal_digits_or_a_reject(engine, tmp_path, written):
    path = purchases_file(
        tmp_path,
        "T1,1,42,3276000123456,L4415,S001,2026-02-01,3",
        f"T2,1,42,3276000123456,L4415,S001,2026-02-01,{written}",
    )
    import_export(engine=engine, files={"purchases": path})
    assert reasons_by_id(path) == {"T2": f"quantity '{written}' is not a whole number of units"}
    assert [(p.transaction_id, p.quantity) for p in purchases_in(engine)] == [("T1", 3)]


def test_a_quantity_may_carry_its_sign(engine, tmp_path):
    path = purchases_file(
        tmp_path,
        "T1,1,42,3276000123456,L4415,S001,2026-02-01,+2",
        "T2,1,42,3276000123456,L4415,S001,2026-02-01,-1",
    )
    import_export(engine=engine, files={"purchases": path})
    assert [(p.transaction_id, p.quantity) for p in purchases_in(engine)] == [("T1", 2), ("T2", -1)]


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("2026-02-01T23:59", True),
        ("2026-02-01 00:00:60.5+01:00", True),
        ("2026-02-01T25:10", False),
        ("2026-02-01T10:61", False),
        ("2026-02-01T10:10:61", False),
        ("2026-02-01T10:10+24:00", False),
    ],
)
def test_a_time_after_the_date_must_be_a_real_time_of_day(engine, tmp_path, written, read):
    path = purchases_file(tmp_path, f"T1,1,42,3276000123456,L4415,S001,{written},1")
    import_export(engine=engine, files={"purchases": path})
    assert len(purchases_in(engine)) == (1 if read else 0)
    if not read:
        assert "is not a date" in reasons_by_id(path)["T1"]


def test_a_file_whose_encoding_changes_midway_is_refused_naming_both_lines(engine, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(
        (CUSTOMERS_HEADER + "\n").encode()
        + "1;Hélène;Roux;;;;;non\n".encode()
        + "2;Zoé;Roux;;;;;non\n".encode("cp1252")
    )
    with pytest.raises(BadFile, match="line 2 is UTF-8 but line 3 is not"):
        import_export(engine=engine, files={"customers": path})
    assert customers_in(engine) == {}


def test_a_whole_windows_1252_file_is_still_read_as_such(engine, tmp_path):
    path = customers_file(tmp_path, "1;Hélène;Roux;;;;;non", "2;Zoé;Roux;;;;;non")
    import_export(engine=engine, files={"customers": path})
    assert customers_in(engine)["1"].first_name == "Hélène"


def stop_after_first_batch():
    batches = []

    def progress(table, _done, _total):
        batches.append(table)
        if batches.count("purchases") == 2:
            raise OSError("disk full")

    return progress


def test_an_import_that_stops_is_named_and_left_marked_unfinished(engine, tmp_path, monkeypatch):
    from recall.importing import sources

    monkeypatch.setattr(sources, "BATCH_ROWS", 10)
    monkeypatch.setattr(sources, "BLOCK_BYTES", 256)
    customers = customers_file(tmp_path, "42;Ana;Lopes;;;;;non")
    rows = [f"T{i},1,42,3276000123456,L4415,S001,2026-02-01,1" for i in range(30)]
    purchases = purchases_file(tmp_path, *rows)
    files = {"customers": customers, "purchases": purchases}
    with pytest.raises(
        ImportStopped, match=r"purchases\.csv: the purchases import stopped"
    ) as info:
        import_export(engine=engine, files=files, progress=stop_after_first_batch())
    assert "OSError: disk full" in str(info.value)
    with Session(engine) as session:
        unfinished = unfinished_imports(session)
    assert [(run.table, run.source) for run in unfinished] == [("purchases", str(purchases))]
    assert "did not finish" in str(unfinished[0])
    assert len(purchases_in(engine)) < 30  # part of the file in, or none

    import_export(engine=engine, files=files)  # the same command again finishes it
    with Session(engine) as session:
        assert unfinished_imports(session) == []
        runs = session.scalars(select(ImportRun).order_by(ImportRun.id)).all()
    assert [(r.table_name, r.finished_at is not None) for r in runs] == [
        ("customers", True),
        ("purchases", False),
        ("customers", True),
        ("purchases", True),
    ]
    assert len(purchases_in(engine)) == 30


@pytest.fixture
def run(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("RECALL_DATABASE_URL", database_url)
    monkeypatch.setenv("RECALL_DATA_DIR", str(tmp_path / "var"))
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_a_launch_waits_for_a_file_partly_imported(run, tmp_path, monkeypatch):
    purchases = purchases_file(tmp_path, "T1,1,42,3276000123456,L4415,S001,2026-02-01,1")
    engine = current_app().engine
    with pytest.raises(ImportStopped):
        import_export(
            engine=engine,
            files={"purchases": purchases},
            progress=lambda *_: (_ for _ in ()).throw(OSError("gone")),
        )
    recall = tmp_path / "recall.yaml"
    recall.write_text(yaml.safe_dump(sample_recall()), encoding="utf-8")
    refused = run("launch", recall)
    assert refused.exit_code == 2
    said = " ".join(refused.output.split())
    assert "purchases import of" in said and "did not finish" in said
    assert "run that import again" in said
    again = run("import", "--purchases", purchases)
    assert again.exit_code == 0, again.output
    assert "importing it again finishes it" in " ".join(again.output.split())
    with Session(engine) as session:
        assert unfinished_imports(session) == []
