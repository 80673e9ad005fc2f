"""The import's peers: the same checked purchase lines loaded the plainest way each database
knows, into a table with no key and no index (a bare COPY on PostgreSQL, pandas.to_sql on
SQLite), timed beside the real import in the same run.

    rows = checked_rows_csv(export / "purchases.csv", work / "checked-purchases.csv")
    seconds = bare_copy_seconds(postgres_url, work / "checked-purchases.csv")
    seconds = to_sql_seconds(sqlite_url, work / "checked-purchases.csv")

Only the loading is timed: the file is checked and written once, beforehand, and to_sql's
rows are read into memory before its clock starts.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from recall.importing.checking import check_source
from recall.importing.service import open_checked
from recall.importing.sources import BATCH_ROWS
from recall.importing.tables import TABLES, Context
from recall.importing.writers import csv_bytes

# The columns of recall.db.models.Purchase, without its key.
PURCHASE_COLUMNS = {
    "transaction_id": "VARCHAR(64) NOT NULL",
    "line_no": "INTEGER NOT NULL",
    "customer_id": "VARCHAR(64)",
    "sku": "VARCHAR(64) NOT NULL",
    "lot": "VARCHAR(64)",
    "store_id": "VARCHAR(64)",
    "purchased_on": "DATE NOT NULL",
    "quantity": "INTEGER NOT NULL",
    "extra": "TEXT",
}
_TEXT = {"transaction_id", "customer_id", "sku", "lot", "store_id", "purchased_on", "extra"}


def checked_rows_csv(source: Path, out: Path) -> int:
    """Write the purchase lines of `source` that the import would accept, as its COPY gets
    them (a header line first), to `out`; return how many."""
    spec = TABLES["purchases"]
    opened = open_checked(spec, source)
    # `extra` holds the columns the contract does not know: left out when there are none.
    has_extra = bool(set(opened.columns) - set(spec.known))
    columns = [c for c in spec.columns if c != "extra" or has_extra]
    written = 0
    with out.open("wb") as handle:
        handle.write((",".join(columns) + "\n").encode())
        for batch in check_source(spec.name, opened, Context()):
            if batch.accepted:
                handle.write(csv_bytes(batch.rows[columns]))
                written += batch.accepted
    return written


def bare_copy_seconds(database_url: str, rows_csv: Path) -> float:
    """Seconds one COPY ... FROM STDIN takes to stream `rows_csv` into a new PostgreSQL table
    with the purchases' columns and no index; the table is dropped afterwards."""
    table = f"peer_copy_{uuid.uuid4().hex[:8]}"
    columns = _header(rows_csv)
    engine = create_engine(database_url)
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        body = ", ".join(f"{name} {kind}" for name, kind in PURCHASE_COLUMNS.items())
        cursor.execute(f"CREATE TABLE {table} ({body})")
        cursor.execute("CHECKPOINT")  # the import's dirty pages are not written on our clock
        connection.commit()
        started = time.perf_counter()
        copy_sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, HEADER)"
        with rows_csv.open("rb") as handle, cursor.copy(copy_sql) as copy:
            while block := handle.read(1 << 20):
                copy.write(block)
        connection.commit()
        seconds = time.perf_counter() - started
        cursor.execute(f"DROP TABLE {table}")
        connection.commit()
    finally:
        connection.close()
        engine.dispose()
    return seconds


def to_sql_seconds(database_url: str, rows_csv: Path) -> float:
    """Seconds pandas.to_sql takes to put the rows of `rows_csv` in a new SQLite table (no key,
    no index); the table is dropped afterwards."""
    columns = _header(rows_csv)
    rows = pd.read_csv(
        rows_csv,
        dtype={name: "str" if name in _TEXT else "int64" for name in columns},
        keep_default_na=False,
        na_values=[""],
    )
    table = f"peer_to_sql_{uuid.uuid4().hex[:8]}"
    # On a bare sqlite3 connection, in batches the size of the import's, to_sql is at its
    # fastest: over twice as fast as through an SQLAlchemy engine, faster than in one go.
    connection = sqlite3.connect(str(make_url(database_url).database))
    try:
        started = time.perf_counter()
        rows.to_sql(table, connection, index=False, chunksize=BATCH_ROWS)
        connection.commit()
        seconds = time.perf_counter() - started
        connection.execute(f"DROP TABLE {table}")
        connection.commit()
    finally:
        connection.close()
    return seconds


def in_child(peer: str, database_url: str, rows_csv: Path) -> float:
    """`peer` ("bare_copy" or "to_sql") timed in a process of its own, so that what it holds
    in memory is not counted as the import's; returns its seconds."""
    code = (
        "import sys; from pathlib import Path; from benchmarks import import_peers as p; "
        f"print(p.{peer}_seconds(sys.argv[1], Path(sys.argv[2])))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, database_url, str(rows_csv)],
        check=True, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    return float(done.stdout.strip().splitlines()[-1])


def _header(rows_csv: Path) -> list[str]:
    with rows_csv.open(encoding="utf-8") as handle:
        return handle.readline().strip().split(",")
