"""Importing the loyalty export: every file checked before anything is written."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from recall.db.models import ImportRun
from recall.domain.errors import Unavailable
from recall.importing.checking import checked_batches
from recall.importing.sources import BadFile, Source, open_source
from recall.importing.tables import TABLES, Context, TableSpec
from recall.importing.writers import writer_for
from recall.spreadsheet import rejects_path, write_frame

Progress = Callable[[str, int, int], None]  # (table, done, total)


@dataclass
class TableReport:
    table: str
    source: str
    rows_read: int = 0
    rows_accepted: int = 0
    rows_written: int = 0
    rows_rejected: int = 0
    rejects_file: str | None = None
    warnings: Counter[str] = field(default_factory=Counter)


@dataclass
class ImportReport:
    tables: list[TableReport]

    @property
    def rows_rejected(self) -> int:
        return sum(t.rows_rejected for t in self.tables)


def _no_progress(_table: str, _done: int, _total: int) -> None:
    return None


def open_checked(spec: TableSpec, path: Path) -> Source:
    """Open a file and make sure it carries the table's required columns."""
    source = open_source(path)
    missing = [name for name in spec.required if name not in source.columns]
    if missing:
        found = ", ".join(source.columns) or "none"
        raise BadFile(
            path,
            f"not a {spec.name} file: required column(s) {', '.join(missing)} missing "
            f"(found: {found})",
        )
    return source


def import_export(
    *,
    engine: Engine,
    files: dict[str, Path],
    home_country: str = "FR",
    home_language: str = "fr",
    progress: Progress = _no_progress,
) -> ImportReport:
    """Import the given tables ({"customers": path, ...}); a bad file stops all before writing."""
    unknown = sorted(set(files) - set(TABLES))
    if unknown:
        raise ValueError(f"unknown table(s): {', '.join(unknown)}")
    sources = {name: open_checked(TABLES[name], Path(path)) for name, path in files.items()}
    reports = []
    for name, source in sources.items():
        ctx = Context(home_country=home_country, home_language=home_language)
        reports.append(_import_table(engine, TABLES[name], source, ctx, progress))
    return ImportReport(reports)


class ImportStopped(Unavailable):
    """A file's import stopped before its end; its run stays marked unfinished."""

    def __init__(self, spec: TableSpec, source: Source, cause: BaseException) -> None:
        super().__init__(
            f"{source.path}: the {spec.name} import stopped before the end of the file "
            f"({type(cause).__name__}: {cause}); it is marked unfinished and a launch waits "
            "for it: run the same import again to finish it (rows already in are not "
            "duplicated)"
        )


def _import_table(
    engine: Engine, spec: TableSpec, source: Source, ctx: Context, progress: Progress
) -> TableReport:
    run_id = _start_run(engine, spec, source)
    try:
        report = _load_file(engine, spec, source, ctx, progress)
    except Exception as exc:
        raise ImportStopped(spec, source, exc) from exc
    _finish_run(engine, run_id, report)
    return report


def _load_file(
    engine: Engine, spec: TableSpec, source: Source, ctx: Context, progress: Progress
) -> TableReport:
    report = TableReport(spec.name, str(source.path))
    writer = writer_for(engine)
    rejects = _RejectsFile(rejects_path(source.path), source.delimiter, source.columns)
    total = source.size if source.kind == "csv" else _parquet_rows(source)
    try:
        writer.start(spec, source.size)
        for batch in checked_batches(spec.name, source, ctx, writer.encode):
            report.rows_read += batch.rows_read
            report.rows_accepted += batch.accepted
            report.rows_rejected += len(batch.rejects)
            report.warnings.update(batch.warnings)
            if batch.accepted:
                report.rows_written += writer.write(spec, batch.rows)
            rejects.add(batch.rejects)
            progress(spec.name, batch.progress, total)
        writer.finish(spec, report.rows_written)
    finally:
        writer.close()
    report.rejects_file = rejects.close()
    return report


def _parquet_rows(source: Source) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(source.path).metadata.num_rows)


class _RejectsFile:
    """Rejected rows as read, plus reject_reason; opened only if there is something to say."""

    def __init__(self, path: Path, delimiter: str, columns: list[str]) -> None:
        self.path, self.delimiter, self.written = path, delimiter, False
        self.columns = [*columns, "reject_reason"]
        path.unlink(missing_ok=True)  # a stale file from an earlier run would mislead

    def add(self, rows: pd.DataFrame) -> None:
        if rows.empty:
            return
        write_frame(
            rows.reindex(columns=self.columns, fill_value=""),
            self.path,
            mode="a" if self.written else "w",
            header=not self.written,
            sep=self.delimiter,
            encoding="utf-8" if self.written else "utf-8-sig",
        )
        self.written = True

    def close(self) -> str | None:
        return str(self.path) if self.written else None


def _start_run(engine: Engine, spec: TableSpec, source: Source) -> int:
    """A run is written before its first row and finished after its last: one left without
    an end is a file partly in (a crash, an error), which `unfinished_imports` reports."""
    with Session(engine) as session, session.begin():
        run = ImportRun(table_name=spec.name, source=str(source.path), started_at=_now())
        session.add(run)
        session.flush()
        return run.id


def _finish_run(engine: Engine, run_id: int, report: TableReport) -> None:
    with Session(engine) as session, session.begin():
        session.execute(
            update(ImportRun)
            .where(ImportRun.id == run_id)
            .values(
                rows_read=report.rows_read,
                rows_loaded=report.rows_accepted,
                rows_rejected=report.rows_rejected,
                rejects_file=report.rejects_file,
                finished_at=_now(),
            )
        )


@dataclass(frozen=True)
class UnfinishedImport:
    table: str
    source: str
    started_at: dt.datetime

    def __str__(self) -> str:
        return (
            f"the {self.table} import of {self.source} started {self.started_at:%Y-%m-%d %H:%M} "
            "UTC did not finish (or is still running)"
        )


def unfinished_imports(session: Session) -> list[UnfinishedImport]:
    """Files whose latest import run has no end: partly in, until imported again."""
    latest = (
        select(func.max(ImportRun.id).label("id"))
        .group_by(ImportRun.table_name, ImportRun.source)
        .subquery()
    )
    runs = session.scalars(
        select(ImportRun)
        .join(latest, latest.c.id == ImportRun.id)
        .where(ImportRun.finished_at.is_(None))
        .order_by(ImportRun.id)
    )
    return [UnfinishedImport(r.table_name, r.source, r.started_at) for r in runs]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
