"""Importing the loyalty export per the data contract, on SQLite and PostgreSQL."""

import json
import threading

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.orm import Session

from benchmarks import import_peers
from recall.db.engine import make_engine
from recall.db.models import Customer, ImportRun, Purchase
from recall.importing import checking, sources, writers
from recall.importing.service import import_export
from recall.importing.sources import BadFile

CUSTOMERS_HEADER = (
    "customer_id;first_name;last_name;phone;address_line1;postal_code;city;do_not_call"
)
PURCHASES_HEADER = "transaction_id,line_no,customer_id,sku,lot,store_id,purchased_at,quantity"


def write(path, lines, encoding="utf-8"):
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def customers_file(tmp_path, *rows, encoding="cp1252", name="customers.csv"):
    return write(tmp_path / name, [CUSTOMERS_HEADER, *rows], encoding)


def purchases_file(tmp_path, *rows, name="purchases.csv", header=PURCHASES_HEADER):
    return write(tmp_path / name, [header, *rows])


def customers_in(engine) -> dict[str, Customer]:
    with Session(engine) as session:
        return {c.customer_id: c for c in session.scalars(select(Customer))}


def purchases_in(engine) -> list[Purchase]:
    with Session(engine) as session:
        return list(
            session.scalars(select(Purchase).order_by(Purchase.transaction_id, Purchase.line_no))
        )


def rejects_of(path):
    return pd.read_csv(
        path.with_name(f"{path.stem}.rejects.csv"),
        sep=None, engine="python", dtype=str, keep_default_na=False, encoding="utf-8-sig",
    )  # fmt: skip


def test_a_cp1252_semicolon_export_keeps_accents_and_leading_zeros(engine, tmp_path):
    path = customers_file(
        tmp_path, "00042;Élodie;D'Angelo-Lefèvre;06 12 34 56 78;3 rue de l'Église;01000;Bourg;non"
    )
    import_export(engine=engine, files={"customers": path})
    elodie = customers_in(engine)["00042"]
    assert (elodie.first_name, elodie.last_name) == ("Élodie", "D'Angelo-Lefèvre")
    assert elodie.postal_code == "01000"
    assert (elodie.country, elodie.language, elodie.do_not_call) == ("FR", "fr", False)


def test_a_utf8_file_with_bom_and_comma_reads_the_same(engine, tmp_path):
    lines = [CUSTOMERS_HEADER.replace(";", ","), "00042,Zoé,Müller,,,,,"]
    path = tmp_path / "customers.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))
    import_export(engine=engine, files={"customers": path})
    assert customers_in(engine)["00042"].last_name == "Müller"


def test_column_names_are_case_insensitive_and_extra_columns_are_kept_aside(engine, tmp_path):
    path = write(tmp_path / "customers.csv", ["Customer_ID;FIRST_NAME;Loyalty_Tier", "7;Anaïs;or"])
    import_export(engine=engine, files={"customers": path})
    anais = customers_in(engine)["7"]
    assert anais.first_name == "Anaïs"
    assert json.loads(anais.extra) == {"loyalty_tier": "or"}


def test_parquet_with_typed_columns_is_imported(engine, tmp_path):
    path = tmp_path / "purchases.parquet"
    table = pa.table({
        "transaction_id": ["T1", "T1"], "line_no": [1, 2], "customer_id": ["0042", None],
        "sku": ["3276000123456"] * 2, "lot": ["L4415", None], "store_id": ["S001"] * 2,
        "purchased_at": pa.array([pd.Timestamp("2026-02-03")] * 2), "quantity": [2, -1],
    })  # fmt: skip
    pq.write_table(table, path)
    import_export(engine=engine, files={"purchases": path})
    first, second = purchases_in(engine)
    assert (first.customer_id, first.quantity, str(first.purchased_on)) == ("0042", 2, "2026-02-03")
    assert (second.customer_id, second.lot, second.quantity) == (None, None, -1)


def test_unusable_rows_go_to_a_rejects_file_with_their_reason(engine, tmp_path):
    path = purchases_file(
        tmp_path,
        "T1,1,42,3276000123456,L4415,S001,2026-02-01,1",
        "T2,1,42,3276000123456,L4415,S001,31/02/2026,1",
        "T3,1,42,3276000123456,L4415,S001,2026-02-01,deux",
        ",1,42,3276000123456,L4415,S001,2026-02-01,1",
        "T1,1,43,3276000123456,L4415,S001,2026-02-02,1",
        "T5,1,42,3276000123456,L4415,S001,2026-02-01,0",
        "T6,1,42,,L4415,S001,2026-02-01,1",
        "T7,1,42,3276000123456,L4415,S001,2026-02-01,1,surplus",
        "T8,1,42,3276000123456,L4415,S001,01/02/2026,-1",
    )
    report = import_export(engine=engine, files={"purchases": path})
    table = report.tables[0]
    assert (table.rows_read, table.rows_accepted, table.rows_rejected) == (9, 2, 7)
    rejects = rejects_of(path)
    reasons = dict(zip(rejects["transaction_id"], rejects["reject_reason"], strict=True))
    broken = "T7,1,42,3276000123456,L4415,S001,2026-02-01,1,surplus"
    assert reasons[broken] == "has 9 fields, expected 8"
    assert "31/02/2026" in reasons["T2"] and "not a date" in reasons["T2"]
    assert "deux" in reasons["T3"]
    assert "transaction_id" in reasons[""]
    assert "duplicate transaction_id + line_no" in reasons["T1"]
    assert "quantity is 0" in reasons["T5"]
    assert "sku" in reasons["T6"]
    assert [(p.transaction_id, p.quantity) for p in purchases_in(engine)] == [("T1", 1), ("T8", -1)]
    with Session(engine) as session:
        run = session.scalars(select(ImportRun)).one()
    assert (run.rows_read, run.rows_rejected) == (9, 7)


def test_a_repeated_customer_keeps_the_first_row(engine, tmp_path):
    path = customers_file(tmp_path, "42;Léa;Faure;;;;;", "42;Autre;Personne;;;;;")
    report = import_export(engine=engine, files={"customers": path})
    assert report.tables[0].rows_rejected == 1
    assert customers_in(engine)["42"].first_name == "Léa"
    assert rejects_of(path)["first_name"].tolist() == ["Autre"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04 pretend workbook", "ZIP or Excel workbook"),
        (b"%PDF-1.7 ...", "a PDF"),
        (b"", "empty"),
        ("nom;prénom\nDupont;Jean\n".encode(), "required column(s) customer_id missing"),
    ],
)
def test_a_wrong_file_is_one_clear_error_and_nothing_is_written(engine, tmp_path, content, message):
    good = purchases_file(tmp_path, "T1,1,42,3276000123456,L4415,S001,2026-02-01,1")
    bad = tmp_path / "customers.csv"
    bad.write_bytes(content)
    with pytest.raises(BadFile, match=r"customers\.csv") as raised:
        import_export(engine=engine, files={"purchases": good, "customers": bad})
    assert message in str(raised.value)
    assert purchases_in(engine) == []


def test_a_missing_file_is_named(engine, tmp_path):
    with pytest.raises(BadFile, match=r"nowhere\.csv: no such file"):
        import_export(engine=engine, files={"customers": tmp_path / "nowhere.csv"})


def test_importing_the_same_files_again_changes_nothing(engine, tmp_path):
    customers = customers_file(tmp_path, "42;Léa;Faure;;;;;", "43;Théo;Giraud;;;;;")
    purchases = purchases_file(tmp_path, "T1,1,42,3276000123456,L4415,S001,2026-02-01,1")
    files = {"customers": customers, "purchases": purchases}
    import_export(engine=engine, files=files)
    again = import_export(engine=engine, files=files)
    assert [t.rows_written for t in again.tables] == [0, 0]
    assert len(customers_in(engine)) == 2 and len(purchases_in(engine)) == 1


def test_a_newer_export_updates_customers_in_place(engine, tmp_path):
    import_export(engine=engine, files={"customers": customers_file(tmp_path, "42;Léa;Faure;;;;;")})
    newer = customers_file(
        tmp_path, "42;Léa;Faure;06 12 34 56 78;3 rue Pasteur;69003;Lyon;oui", name="newer.csv"
    )
    report = import_export(engine=engine, files={"customers": newer})
    assert report.tables[0].rows_written == 1
    lea = customers_in(engine)["42"]
    assert (lea.phone, lea.city, lea.do_not_call) == ("06 12 34 56 78", "Lyon", True)
    assert len(customers_in(engine)) == 1


def test_receipt_lines_are_numbered_in_file_order_when_line_no_is_absent(engine, tmp_path):
    header = "transaction_id,customer_id,sku,purchased_at,quantity"
    rows = ["T1,42,A,2026-02-01,1", "T2,43,B,2026-02-01,1", "T1,42,C,2026-02-01,2"]
    path = purchases_file(tmp_path, *rows, header=header)
    import_export(engine=engine, files={"purchases": path})
    import_export(engine=engine, files={"purchases": path})
    assert [(p.transaction_id, p.line_no, p.sku) for p in purchases_in(engine)] == [
        ("T1", 1, "A"),
        ("T1", 2, "C"),
        ("T2", 1, "B"),
    ]


def test_do_not_call_reads_every_spelling_and_takes_the_unreadable_as_a_refusal(engine, tmp_path):
    flags = {
        "a": "oui",
        "b": "non",
        "c": "1",
        "d": "0",
        "e": "TRUE",
        "f": "no",
        "g": "",
        "h": "peut-être",
    }
    path = customers_file(tmp_path, *(f"{cid};;;;;;;{flag}" for cid, flag in flags.items()))
    report = import_export(engine=engine, files={"customers": path})
    stored = {cid: c.do_not_call for cid, c in customers_in(engine).items()}
    assert stored == {
        "a": True,
        "b": False,
        "c": True,
        "d": False,
        "e": True,
        "f": False,
        "g": False,
        "h": True,
    }
    assert report.tables[0].warnings["do_not_call unreadable, taken as yes"] == 1


def test_a_bad_country_or_language_falls_back_to_home_with_a_warning(engine, tmp_path):
    path = write(
        tmp_path / "customers.csv", ["customer_id;country;language", "1;France;français", "2;be;EN"]
    )
    report = import_export(engine=engine, files={"customers": path})
    stored = {cid: (c.country, c.language) for cid, c in customers_in(engine).items()}
    assert stored == {"1": ("FR", "fr"), "2": ("BE", "en")}
    assert report.tables[0].warnings["country not an ISO alpha-2 code, home country used"] == 1


def test_a_duplicate_in_a_later_batch_is_still_caught(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "BATCH_ROWS", 10)
    monkeypatch.setattr(sources, "BLOCK_BYTES", 256)
    rows = [f"T{i},1,42,3276000123456,L4415,S001,2026-02-01,1" for i in range(50)]
    path = purchases_file(tmp_path, *rows, "T3,1,43,3276000123456,L4415,S001,2026-02-01,5")
    report = import_export(engine=engine, files={"purchases": path})
    assert (report.tables[0].rows_written, report.tables[0].rows_rejected) == (50, 1)
    assert rejects_of(path)["quantity"].tolist() == ["5"]


def test_a_large_file_is_checked_in_a_helper_process_with_the_same_result(
    engine, tmp_path, monkeypatch
):
    monkeypatch.setattr(checking, "PARALLEL_FROM_BYTES", 0)
    path = purchases_file(
        tmp_path,
        "T1,1,42,3276000123456,L4415,S001,2026-02-01,1",
        "T2,1,42,3276000123456,L4415,S001,2026-13-01,1",
        "T3,1,42,3276000123456,L4415,S001,2026-02-01,1,surplus",
    )
    report = import_export(engine=engine, files={"purchases": path})
    assert (report.tables[0].rows_written, report.tables[0].rows_rejected) == (1, 2)


def test_beside_other_threads_the_helper_is_spawned_with_the_same_result(
    engine, tmp_path, monkeypatch
):
    monkeypatch.setattr(checking, "PARALLEL_FROM_BYTES", 0)
    path = purchases_file(
        tmp_path,
        "T1,1,42,3276000123456,L4415,S001,2026-02-01,1",
        "T1,1,42,3276000123456,L4415,S001,2026-02-01,1",
    )
    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    try:
        assert (
            checking._helper_context().get_start_method() == "spawn"
        )  # a fork could inherit a held lock
        report = import_export(engine=engine, files={"purchases": path})
    finally:
        release.set()
        other.join()
    assert (report.tables[0].rows_written, report.tables[0].rows_rejected) == (1, 1)


def line_rows(first, last, quantity=1):
    return [f"T{i:03d},1,42,3276000123456,L4415,S001,2026-02-01,{quantity}" for i in
            range(first, last)]  # fmt: skip


def test_a_file_overlapping_lines_already_imported_loads_only_its_new_lines(engine, tmp_path):
    import_export(engine=engine, files={"purchases": purchases_file(tmp_path, *line_rows(0, 3))})
    # Lines T001 and T002 again, with another quantity: receipt lines are facts, kept as first read.
    later = purchases_file(tmp_path, *line_rows(1, 5, quantity=7), name="later.csv")
    report = import_export(engine=engine, files={"purchases": later})
    assert report.tables[0].rows_written == 2
    stored = [(p.transaction_id, p.quantity) for p in purchases_in(engine)]
    assert stored == [("T000", 1), ("T001", 1), ("T002", 1), ("T003", 7), ("T004", 7)]


def test_a_rerun_after_an_interrupted_import_writes_each_batch_once(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "BATCH_ROWS", 10)
    monkeypatch.setattr(sources, "BLOCK_BYTES", 256)
    # The first 25 lines made it before the crash: batches 1-2 are there, batch 3 in part.
    import_export(engine=engine, files={"purchases": purchases_file(tmp_path, *line_rows(0, 25))})
    whole = purchases_file(tmp_path, *line_rows(0, 60), name="whole.csv")
    report = import_export(engine=engine, files={"purchases": whole})
    again = import_export(engine=engine, files={"purchases": whole})
    assert (report.tables[0].rows_written, again.tables[0].rows_written) == (35, 0)
    assert [p.transaction_id for p in purchases_in(engine)] == [f"T{i:03d}" for i in range(60)]


def key_of(engine, table):
    return inspect(engine).get_pk_constraint(table)["constrained_columns"]


def test_a_first_load_is_keyed_once_loaded_and_a_second_finds_every_line(
    engine, tmp_path, monkeypatch
):
    monkeypatch.setattr(writers, "FIRST_LOAD_FROM_BYTES", 0)  # on PostgreSQL, as a large file
    monkeypatch.setattr(sources, "BATCH_ROWS", 10)
    monkeypatch.setattr(sources, "BLOCK_BYTES", 256)
    duplicate = "T007,1,43,3276000123456,L4415,S001,2026-02-01,5"  # in a later batch
    path = purchases_file(tmp_path, *line_rows(0, 30), duplicate, *line_rows(30, 60))
    first = import_export(engine=engine, files={"purchases": path})
    again = import_export(engine=engine, files={"purchases": path})
    assert (first.tables[0].rows_written, first.tables[0].rows_rejected) == (60, 1)
    assert again.tables[0].rows_written == 0
    assert [p.transaction_id for p in purchases_in(engine)] == [f"T{i:03d}" for i in range(60)]
    assert key_of(engine, "purchases") == ["transaction_id", "line_no"]


def test_a_first_load_on_postgresql_leaves_its_lines_frozen_for_their_first_reader(
    engine, tmp_path, monkeypatch
):
    if engine.dialect.name != "postgresql":
        pytest.skip("COPY FREEZE is PostgreSQL's")
    monkeypatch.setattr(writers, "FIRST_LOAD_FROM_BYTES", 0)
    import_export(engine=engine, files={"purchases": purchases_file(tmp_path, *line_rows(0, 60))})
    with engine.begin() as connection:
        connection.execute(text("ANALYZE purchases"))  # counts the pages marked all-visible
        pages, visible = connection.execute(
            text("SELECT relpages, relallvisible FROM pg_class WHERE relname = 'purchases'")
        ).one()
    assert pages > 0 and visible == pages


def test_an_interrupted_first_load_is_undone_and_run_again_whole(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(writers, "FIRST_LOAD_FROM_BYTES", 0)
    monkeypatch.setattr(sources, "BATCH_ROWS", 10)
    monkeypatch.setattr(sources, "BLOCK_BYTES", 256)
    path = purchases_file(tmp_path, *line_rows(0, 60))

    def interrupted(_table, done, _total):
        if done > 1000:  # a few batches in
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_export(engine=engine, files={"purchases": path}, progress=interrupted)
    kept = len(purchases_in(engine))
    report = import_export(engine=engine, files={"purchases": path})
    assert [p.transaction_id for p in purchases_in(engine)] == [f"T{i:03d}" for i in range(60)]
    assert report.tables[0].rows_written == 60 - kept
    assert key_of(engine, "purchases") == ["transaction_id", "line_no"]
    if engine.dialect.name == "postgresql":  # one transaction: nothing of it was kept
        assert kept == 0
    else:  # a batch per transaction: the batches before the interruption were kept
        assert 0 < kept < 60


def test_commas_quotes_and_line_breaks_in_values_are_stored_as_read(engine, tmp_path):
    path = purchases_file(
        tmp_path,
        'T1,1,42,3276000123456,"L4,415 ""b""",S001,2026-02-01,1,"vu, ""neuf"""',
        'T2,1,,3276000123456,"L44\n16",,2026-02-01,1,',
        header=PURCHASES_HEADER + ",note",
    )
    import_export(engine=engine, files={"purchases": path})
    first, second = purchases_in(engine)
    assert first.lot == 'L4,415 "b"' and json.loads(first.extra) == {"note": 'vu, "neuf"'}
    assert (second.customer_id, second.lot, second.store_id) == (None, "L44\n16", None)
    assert json.loads(second.extra) == {"note": ""}


def test_copy_csv_leaves_missing_and_empty_text_unquoted_as_to_csv_does():
    plain = pd.DataFrame({"lot": ["L1", "", None], "quantity": [1, 2, 3]})
    assert writers.csv_bytes(plain) == plain.to_csv(index=False, header=False).encode()
    quoted = plain.assign(lot=["L1, L2", "", None])
    assert writers.csv_bytes(quoted) == b'"L1, L2",1\n,2\n,3\n'


def test_a_large_load_leaves_postgresql_knowing_the_table_size(
    postgres_server_url, tmp_path, monkeypatch
):
    engine = make_engine(postgres_server_url)  # SQLite keeps no statistics unless asked to
    monkeypatch.setattr(writers, "ANALYZE_FROM_ROWS", 20)
    import_export(engine=engine, files={"purchases": purchases_file(tmp_path, *line_rows(0, 40))})
    with engine.connect() as connection:
        known = connection.scalar(
            text("SELECT reltuples FROM pg_class WHERE relname = 'purchases'")
        )
    with engine.begin() as connection:  # the session's database is shared: leave it empty
        connection.execute(text("TRUNCATE purchases, import_runs"))
    engine.dispose()
    assert known == 40


def test_the_peers_load_the_checked_rows_of_an_export(database_url, tmp_path):
    rows = [*line_rows(0, 4), "T009,1,42,3276000123456,L4415,S001,31/02/2026,1"]
    checked = tmp_path / "checked.csv"
    assert import_peers.checked_rows_csv(purchases_file(tmp_path, *rows), checked) == 4
    assert checked.read_text().splitlines()[:2] == [
        "transaction_id,line_no,customer_id,sku,lot,store_id,purchased_on,quantity",
        "T000,1,42,3276000123456,L4415,S001,2026-02-01,1",
    ]
    peer = import_peers.bare_copy_seconds if "postgresql" in database_url else (
        import_peers.to_sql_seconds
    )  # fmt: skip
    assert peer(database_url, checked) > 0
    probe = create_engine(database_url)
    try:
        assert [t for t in inspect(probe).get_table_names() if t.startswith("peer")] == []
    finally:
        probe.dispose()
