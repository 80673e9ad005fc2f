"""Bulk writers: each dialect's fastest idempotent way to put a validated batch in its table.

A writer's `encode` runs where the batch was checked (a helper process, on a large file), so
the process that writes only hands the database what `encode` made of the batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Engine

from recall.importing.tables import TableSpec

# Below this many new rows autovacuum's own ANALYZE, in its time, is soon enough.
ANALYZE_FROM_ROWS = 100_000
# A file this large going into an empty PostgreSQL table is loaded first, keyed after.
FIRST_LOAD_FROM_BYTES = 64 << 20
# The first load's key sorted in memory: about 1.1 GB for 10M receipt lines, 10 % faster than
# 512 MB (spilled runs merged); the sort takes what it needs, up to this, for this transaction.
KEY_BUILD_MEM = "2GB"


class BulkWriter(Protocol):
    def start(self, spec: TableSpec, size: int) -> None:
        """Before the first batch of a file of `size` bytes."""
        ...

    @staticmethod
    def encode(spec: TableSpec, rows: pd.DataFrame) -> Any:
        """The checked rows as write() takes them; must pickle, as it may run in a helper."""
        ...

    def write(self, spec: TableSpec, rows: Any) -> int:
        """Insert new rows, update changed ones; return how many rows changed."""
        ...

    def finish(self, spec: TableSpec, written: int) -> None:
        """After the last batch of a file: whatever the database needs once loaded."""
        ...

    def close(self) -> None:
        """Always, last: a load left unfinished (an error, an interruption) is undone."""
        ...


def upsert_sql(spec: TableSpec, columns: list[str] | tuple[str, ...], source: str) -> str:
    """INSERT ... ON CONFLICT: reference rows update when their content hash changed;
    receipt lines are facts and are never rewritten."""
    names = ", ".join(columns)
    key = ", ".join(spec.key)
    head = f"INSERT INTO {spec.name} ({names}) {source} ON CONFLICT ({key}) DO "
    if "row_hash" not in columns:
        return head + "NOTHING"
    updates = ", ".join(f"{c} = excluded.{c}" for c in spec.columns if c not in spec.key)
    return head + f"UPDATE SET {updates} WHERE {spec.name}.row_hash <> excluded.row_hash"


def bound_columns(spec: TableSpec, rows: pd.DataFrame) -> list[str]:
    """The columns worth sending: an `extra` column that is empty throughout is left out
    (it is NULL by default, and binding it costs a tenth of a large import)."""
    if "extra" in rows and rows["extra"].isna().all():
        return [c for c in spec.columns if c != "extra"]
    return list(spec.columns)


def python_rows(rows: pd.DataFrame) -> list[tuple[object, ...]]:
    """Rows as tuples of plain Python values, None for missing, as DB-API drivers want them."""
    columns = []
    for name in rows.columns:
        column = rows[name]
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_integer_dtype(column):
            columns.append(column.tolist())
        else:
            columns.append(column.astype(object).where(column.notna(), None).tolist())
    return list(zip(*columns, strict=True))


class SqliteBulkWriter:
    """executemany on the raw sqlite3 connection: no per-row SQLAlchemy overhead."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(self, spec: TableSpec, size: int) -> None:
        return None

    @staticmethod
    def encode(spec: TableSpec, rows: pd.DataFrame) -> pd.DataFrame:
        return rows

    def write(self, spec: TableSpec, rows: pd.DataFrame) -> int:
        columns = bound_columns(spec, rows)
        sql = upsert_sql(spec, columns, f"VALUES ({', '.join('?' for _ in columns)})")
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            # A large page cache keeps the key indexes in memory during bulk loads.
            cursor.execute("PRAGMA cache_size=-262144")
            cursor.executemany(sql, python_rows(rows[columns]))
            changed = cursor.rowcount
            connection.commit()
        finally:
            connection.close()
        return max(changed, 0)

    def finish(self, spec: TableSpec, written: int) -> None:
        return None

    def close(self) -> None:
        return None


@dataclass(frozen=True)
class CopyBatch:
    """A checked batch as `COPY ... FROM STDIN WITH (FORMAT csv)` reads it."""

    columns: tuple[str, ...]
    data: bytes
    rows: int


def csv_bytes(rows: pd.DataFrame) -> bytes:
    """The rows as COPY reads them from pandas' to_csv, in a fifth of its time: nothing quoted
    unless it must be, and a missing value and an empty text alike left empty (NULL)."""
    table = pa.Table.from_pandas(rows, preserve_index=False)
    try:
        return _csv(table, "none")
    except pa.ArrowInvalid:  # a comma, quote or line break in some text: quote the texts
        return _csv(_empty_as_missing(table), "needed")


def _csv(table: pa.Table, quoting: str) -> bytes:
    sink = pa.BufferOutputStream()
    options = pacsv.WriteOptions(include_header=False, quoting_style=quoting)
    pacsv.write_csv(table, sink, write_options=options)
    return bytes(sink.getvalue())


def _empty_as_missing(table: pa.Table) -> pa.Table:
    """Quoted, an empty text would reach the database as '' where to_csv leaves it NULL."""
    columns = [
        pc.if_else(pc.equal(column, ""), pa.scalar(None, column.type), column)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        else column
        for column in table.columns
    ]
    return pa.Table.from_arrays(columns, names=table.column_names)


class PostgresBulkWriter:
    """COPY straight into the table; a batch meeting rows already there (a re-import, a re-run
    after a crash, a newer export) is loaded again through a staging table and one
    INSERT ... ON CONFLICT. Each batch is one transaction: a crash keeps whole batches.

    A large file going into an empty table (the first load of a loyalty export) is loaded as
    one transaction instead, with the table's key index built once at the end rather than
    kept up to date row by row (PostgreSQL's "Populating a Database": a third of the COPY's
    time on 10M lines). The file's own duplicates are rejects already, so the key holds; a
    crash or an error undoes the whole load, and the next run starts it again. The empty
    table is truncated in that transaction so that COPY may FREEZE its rows: written once,
    already visible to all, instead of rewritten by their first reader and again by the
    vacuum that freezes them.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._load: Any = None  # the raw connection of a first load, open until finish()
        self._key: tuple[str, str] | None = None  # its key constraint: (name, columns)

    def start(self, spec: TableSpec, size: int) -> None:
        if size < FIRST_LOAD_FROM_BYTES:
            return
        connection = self.engine.raw_connection()
        cursor = connection.cursor()
        cursor.execute(f"LOCK TABLE {spec.name} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {spec.name})")
        (has_rows,) = cursor.fetchone() or (False,)
        key = None if has_rows else _key_constraint(cursor, spec.name)
        if key is None:
            connection.rollback()
            connection.close()
            return
        cursor.execute(f'ALTER TABLE {spec.name} DROP CONSTRAINT "{key[0]}"')
        cursor.execute(f"TRUNCATE {spec.name}")
        self._load, self._key = connection, key

    @staticmethod
    def encode(spec: TableSpec, rows: pd.DataFrame) -> CopyBatch:
        """The rows worth sending, as CSV."""
        columns = bound_columns(spec, rows)
        return CopyBatch(tuple(columns), csv_bytes(rows[columns]), len(rows))

    def write(self, spec: TableSpec, rows: CopyBatch) -> int:
        if self._load is not None:
            return _copy(self._load.cursor(), spec.name, rows, freeze=True)
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                changed = _copy(cursor, spec.name, rows)
            except psycopg.errors.UniqueViolation:
                connection.rollback()
                changed = self._staged(cursor, spec, rows)
            connection.commit()
        finally:
            connection.close()
        return max(changed, 0)

    def _staged(self, cursor: Any, spec: TableSpec, rows: CopyBatch) -> int:
        names = ", ".join(rows.columns)
        stage = f"stage_{spec.name}"
        cursor.execute(
            f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS "
            f"SELECT {names} FROM {spec.name} WITH NO DATA"
        )
        _copy(cursor, stage, rows)
        cursor.execute(upsert_sql(spec, rows.columns, f"SELECT {names} FROM {stage}"))
        return int(cursor.rowcount)

    def finish(self, spec: TableSpec, written: int) -> None:
        """The first load's key built and committed; then, after a large load, the
        planner's idea of the table's size (far behind by now) refreshed."""
        if self._load is not None and self._key is not None:
            cursor = self._load.cursor()
            cursor.execute(f"SET LOCAL maintenance_work_mem = '{KEY_BUILD_MEM}'")
            name, columns = self._key
            key = f'CONSTRAINT "{name}" PRIMARY KEY ({columns})'
            cursor.execute(f"ALTER TABLE {spec.name} ADD {key}")
            self._load.commit()
            self.close()
        if written < ANALYZE_FROM_ROWS:
            return
        connection = self.engine.raw_connection()
        try:
            connection.cursor().execute(f"ANALYZE {spec.name}")
            connection.commit()
        finally:
            connection.close()

    def close(self) -> None:
        if self._load is not None:
            self._load.rollback()  # nothing to undo after finish()'s commit
            self._load.close()
        self._load = self._key = None


def _key_constraint(cursor: Any, table: str) -> tuple[str, str] | None:
    """The name of `table`'s primary key and its columns, in order, as SQL."""
    cursor.execute(
        "SELECT c.conname, string_agg(quote_ident(a.attname), ', ' ORDER BY k.n) "
        "FROM pg_constraint c CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(num, n) "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num "
        "WHERE c.conrelid = %s::regclass AND c.contype = 'p' GROUP BY c.conname",
        (table,),
    )
    found = cursor.fetchone()
    return (found[0], found[1]) if found else None


def _copy(cursor: Any, table: str, rows: CopyBatch, *, freeze: bool = False) -> int:
    names = ", ".join(rows.columns)
    options = "FORMAT csv, FREEZE" if freeze else "FORMAT csv"
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN WITH ({options})") as copy:
        copy.write(rows.data)
    return rows.rows


def writer_for(engine: Engine) -> BulkWriter:
    if engine.dialect.name == "postgresql":
        return PostgresBulkWriter(engine)
    return SqliteBulkWriter(engine)
