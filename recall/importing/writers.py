"""Bulk writers: each dialect's fastest idempotent way to put a validated batch in its table."""

from __future__ import annotations

from typing import Protocol

import pandas as pd
from sqlalchemy import Engine

from recall.importing.tables import TableSpec


class BulkWriter(Protocol):
    def write(self, spec: TableSpec, rows: pd.DataFrame) -> int:
        """Insert new rows, update changed ones; return how many rows changed."""
        ...


def upsert_sql(spec: TableSpec, columns: list[str], source: str) -> str:
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


class PostgresBulkWriter:
    """COPY into a transaction-scoped staging table, then one INSERT ... ON CONFLICT."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def write(self, spec: TableSpec, rows: pd.DataFrame) -> int:
        columns = bound_columns(spec, rows)
        names = ", ".join(columns)
        stage = f"stage_{spec.name}"
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(
                f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS "
                f"SELECT {names} FROM {spec.name} WITH NO DATA"
            )
            with cursor.copy(f"COPY {stage} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(rows[columns].to_csv(index=False, header=False))
            cursor.execute(upsert_sql(spec, columns, f"SELECT {names} FROM {stage}"))
            changed = cursor.rowcount
            connection.commit()
        finally:
            connection.close()
        return max(changed, 0)


def writer_for(engine: Engine) -> BulkWriter:
    if engine.dialect.name == "postgresql":
        return PostgresBulkWriter(engine)
    return SqliteBulkWriter(engine)
