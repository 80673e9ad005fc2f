"""The few SQL spellings SQLite and PostgreSQL don't share, for the set-based statements of
identification and case building (each checked against its Python rule in the tests)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

WORK_MEM = "256MB"


@dataclass(frozen=True)
class Spelling:
    dialect: str

    @classmethod
    def of(cls, connection: Connection) -> Spelling:
        return cls(connection.dialect.name)

    @property
    def postgres(self) -> bool:
        return self.dialect == "postgresql"

    def roomy(self, connection: Connection) -> None:
        """Give this transaction's sorts, hashes and temporary tables room to stay in memory
        (PostgreSQL's 4 MB default sends a sort of 345,000 buyers to disk; its 8 MB of
        temporary buffers, settable only before a connection's first temporary table, hold a
        fifth of a large recall's candidate lines)."""
        if self.postgres:
            connection.exec_driver_sql(f"SET LOCAL work_mem = '{WORK_MEM}'")
            connection.exec_driver_sql(f"SET LOCAL temp_buffers = '{WORK_MEM}'")

    def analyze(self, connection: Connection, table: str) -> None:
        """Fresh planner statistics for a table just filled in bulk, from a small sample: the
        plans that read it need its size and key, not the spread of its texts."""
        if self.postgres:
            connection.exec_driver_sql("SET LOCAL default_statistics_target = 10")
            connection.exec_driver_sql(f"ANALYZE {table}")
            connection.exec_driver_sql("RESET default_statistics_target")

    def binary(self, expr: str) -> str:
        """`expr` compared byte by byte, as Python compares strings (PostgreSQL's default
        collation follows the locale instead)."""
        return f'{expr} COLLATE "C"' if self.postgres else expr

    def list_of(self, column: str, where: str) -> str:
        """Aggregate: the distinct values of `column` in the rows where `where` holds,
        comma-joined; sorted on PostgreSQL (the column must be binary() collated), in no set
        order on SQLite 3.40, which has no ORDER BY in an aggregate."""
        if self.postgres:
            return f"string_agg(DISTINCT {column}, ',' ORDER BY {column}) FILTER (WHERE {where})"
        return f"group_concat(DISTINCT {column}) FILTER (WHERE {where})"

    def day_number(self, date_expr: str) -> str:
        """Python's date.toordinal(): 0001-01-01 is day 1."""
        if self.postgres:
            return f"(({date_expr}) - DATE '0001-01-01' + 1)"
        return f"CAST(julianday({date_expr}) - 1721424.5 AS INTEGER)"

    def clamp(self, expr: str, low: int, high: int) -> str:
        if self.postgres:
            return f"LEAST(GREATEST({expr}, {low}), {high})"
        return f"MIN(MAX({expr}, {low}), {high})"

    def zero_padded(self, expr: str, width: int) -> str:
        """The integer `expr` written with at least `width` digits, as f"{n:0{width}d}"."""
        if self.postgres:
            return (
                f"CASE WHEN ({expr}) < {10**width} THEN lpad(CAST({expr} AS TEXT), {width}, '0') "
                f"ELSE CAST({expr} AS TEXT) END"
            )
        return f"printf('%0{width}d', {expr})"

    def contains(self, haystack: str, needle: str) -> str:
        if self.postgres:
            return f"(strpos({haystack}, {needle}) > 0)"
        return f"(instr({haystack}, {needle}) > 0)"

    def keyed_temp_table(self, name: str, columns: Sequence[str], query: str) -> list[str]:
        """Statements making a temporary table of `query`'s rows, named `columns`, the first
        a unique key: on SQLite a WITHOUT ROWID table on that key, so that a later join or
        ORDER BY on it reads the key's b-tree instead of sorting (0.4 s on 345,000 buyers)."""
        if self.postgres:
            return [self.temp_table(name, query)]
        key, *rest = columns
        body = ", ".join([f"{key} PRIMARY KEY", *rest])
        return [
            f"CREATE TEMPORARY TABLE {name} ({body}) WITHOUT ROWID",
            f"INSERT INTO {name} ({', '.join(columns)}) {query}",
        ]

    def temp_table(self, name: str, query: str) -> str:
        """CREATE a temporary table from `query`; PostgreSQL drops it at commit by itself."""
        if self.postgres:
            return f"CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS {query}"
        return f"CREATE TEMPORARY TABLE {name} AS {query}"


def decided_by(rule: Callable[..., bool], conditions: Sequence[str]) -> str:
    """A SQL boolean equal to `rule(*inputs)`, inputs being the SQL `conditions` (never NULL):
    the rule itself is asked for every combination, so the SQL can't drift from it."""

    def spelled(known: tuple[bool, ...]) -> str:
        if len(known) == len(conditions):
            return "TRUE" if rule(*known) else "FALSE"
        when, otherwise = spelled((*known, True)), spelled((*known, False))
        if when == otherwise:
            return when
        return f"CASE WHEN {conditions[len(known)]} THEN {when} ELSE {otherwise} END"

    return spelled(())
