"""Checking a whole file batch by batch, in this process or in a helper process.

On a large file the checking runs in a second process while this one writes to the
database, so the import takes about as long as the slower of the two, not their sum. The
writer's `encode` runs there too (for PostgreSQL, the CSV that COPY reads), so what comes
back is ready to send.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.context import ForkContext, SpawnContext
from typing import Any

import pandas as pd
import pyarrow as pa

from recall.importing.sources import Source
from recall.importing.tables import TABLES, Checked, Context, TableSpec, check_batch

PARALLEL_FROM_BYTES = 64 << 20
_POLL_SECONDS = 1.0

Encode = Callable[[TableSpec, pd.DataFrame], Any]


def keep_rows(_spec: TableSpec, rows: pd.DataFrame) -> pd.DataFrame:
    """The checked rows as they are."""
    return rows


@dataclass
class CheckedBatch:
    rows: Any  # the accepted rows, as `encode` made them; None when there are none
    accepted: int
    rejects: pd.DataFrame
    warnings: Counter[str]
    rows_read: int
    progress: int  # bytes (CSV) or rows (Parquet) read so far


def _encoded(
    spec: TableSpec, checked: Checked, encode: Encode, rows_read: int, progress: int
) -> CheckedBatch:
    accepted = len(checked.rows)
    rows = encode(spec, checked.rows) if accepted else None
    return CheckedBatch(rows, accepted, checked.rejects, checked.warnings, rows_read, progress)


def check_source(
    table: str, source: Source, ctx: Context, encode: Encode = keep_rows
) -> Iterator[CheckedBatch]:
    """Checked batches of the file, then one batch of the lines that could not be parsed."""
    spec = TABLES[table]
    done = 0
    for raw, done in source.batches():
        yield _encoded(spec, check_batch(spec, raw, ctx), encode, len(raw), done)
    if source.broken_rows:
        # The row can't be split into columns: its text goes in the first column, as read.
        texts, reasons = zip(*source.broken_rows, strict=True)
        rejects = pd.DataFrame({source.columns[0]: texts, "reject_reason": reasons})
        empty = pd.DataFrame(columns=list(spec.columns))
        yield _encoded(spec, Checked(empty, rejects), encode, len(rejects), done)


def checked_batches(
    table: str, source: Source, ctx: Context, encode: Encode = keep_rows
) -> Iterator[CheckedBatch]:
    """check_source, moved to a helper process when the file is large enough to gain."""
    if source.size < PARALLEL_FROM_BYTES:
        return check_source(table, source, ctx, encode)
    return _in_helper_process(table, source, ctx, encode)


class _Done:
    pass


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _produce(
    results: multiprocessing.Queue, table: str, source: Source, ctx: Context, encode: Encode
) -> None:
    # pyarrow's default pool gives the memory of each batch back to the system, and the next
    # batch pays for fresh zeroed pages: a third of the checking time of a 10M-line file.
    # The C allocator keeps it for reuse; this process is ours alone.
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        for batch in check_source(table, source, ctx, encode):
            _put(results, batch)
    except BaseException as error:
        _put(results, _Failed(error))
        return
    _put(results, _Done())


def _put(results: multiprocessing.Queue, item: object) -> None:
    """Wait for room in the queue, but not for a parent killed with kill -9: the helper then
    ends instead of checking the rest of the file for nobody."""
    parent = multiprocessing.parent_process()
    while True:
        try:
            results.put(item, timeout=_POLL_SECONDS)
            return
        except queue.Full:
            if parent is not None and not parent.is_alive():
                results.cancel_join_thread()  # what is still buffered can never be read
                raise SystemExit(1) from None


def _helper_context() -> ForkContext | SpawnContext:
    """fork when this process runs one thread: the helper starts at once with everything
    imported, where spawn pays 1.5 s of start-up while the database waits for its first
    rows (a tenth of a large import). With other threads about (a flow engine's, a web
    server's) a forked child could inherit a lock held mid-way: spawn then."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _in_helper_process(
    table: str, source: Source, ctx: Context, encode: Encode
) -> Iterator[CheckedBatch]:
    context = _helper_context()
    results = context.Queue(maxsize=2)
    helper = context.Process(
        target=_produce, args=(results, table, source, ctx, encode), daemon=True
    )
    helper.start()
    try:
        while True:
            try:
                item = results.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if not helper.is_alive():
                    raise RuntimeError(
                        f"{source.path}: the checking process stopped unexpectedly "
                        f"(exit code {helper.exitcode}); nothing after the last batch was written"
                    ) from None
                continue
            if isinstance(item, _Done):
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        if helper.is_alive():
            helper.terminate()
        helper.join()
