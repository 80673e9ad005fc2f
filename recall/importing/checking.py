"""Checking a whole file batch by batch, in this process or in a helper process.

On a large file the checking runs in a second process while this one writes to the
database, so the import takes about as long as the slower of the two, not their sum.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from recall.importing.sources import Source
from recall.importing.tables import TABLES, Checked, Context, check_batch

PARALLEL_FROM_BYTES = 64 << 20
_POLL_SECONDS = 1.0


@dataclass
class CheckedBatch:
    checked: Checked
    rows_read: int
    progress: int  # bytes (CSV) or rows (Parquet) read so far


def check_source(table: str, source: Source, ctx: Context) -> Iterator[CheckedBatch]:
    """Checked batches of the file, then one batch of the lines that could not be parsed."""
    spec = TABLES[table]
    done = 0
    for raw, done in source.batches():
        yield CheckedBatch(check_batch(spec, raw, ctx), len(raw), done)
    if source.broken_rows:
        # The row can't be split into columns: its text goes in the first column, as read.
        texts, reasons = zip(*source.broken_rows, strict=True)
        rejects = pd.DataFrame({source.columns[0]: texts, "reject_reason": reasons})
        empty = pd.DataFrame(columns=list(spec.columns))
        yield CheckedBatch(Checked(empty, rejects), len(rejects), done)


def checked_batches(table: str, source: Source, ctx: Context) -> Iterator[CheckedBatch]:
    """check_source, moved to a helper process when the file is large enough to gain."""
    if source.size < PARALLEL_FROM_BYTES:
        return check_source(table, source, ctx)
    return _in_helper_process(table, source, ctx)


class _Done:
    pass


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _produce(results: multiprocessing.Queue, table: str, source: Source, ctx: Context) -> None:
    try:
        for batch in check_source(table, source, ctx):
            results.put(batch)
    except BaseException as error:
        results.put(_Failed(error))
        return
    results.put(_Done())


def _in_helper_process(table: str, source: Source, ctx: Context) -> Iterator[CheckedBatch]:
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue(maxsize=2)
    helper = spawn.Process(target=_produce, args=(results, table, source, ctx), daemon=True)
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
