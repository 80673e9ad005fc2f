"""Reading an export file as batches of text columns, whatever its format and encoding."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from recall.domain.errors import Refused

BATCH_ROWS = 500_000
BLOCK_BYTES = 32 << 20  # what pyarrow parses at once
_SNIFF_BYTES = 64 * 1024
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_PARQUET_MAGIC = b"PAR1"
_BINARY_MAGICS = {
    b"PK\x03\x04": "a ZIP or Excel workbook",
    b"%PDF": "a PDF",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook",
}


class BadFile(Refused):
    """A file that can't be imported at all; nothing was written."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


@dataclass
class Source:
    """An opened export: its columns (lower-cased) and how to read it."""

    path: Path
    kind: str  # csv | parquet
    columns: list[str]
    encoding: str = "utf-8"
    delimiter: str = ","
    size: int = 0
    broken_rows: list[tuple[str, str]] = field(default_factory=list)  # (raw text, why)

    def batches(self, batch_rows: int | None = None) -> Iterator[tuple[pd.DataFrame, int]]:
        """Yield (batch of text columns, bytes or rows read so far)."""
        batch_rows = batch_rows or BATCH_ROWS
        if self.kind == "parquet":
            yield from self._parquet_batches(batch_rows)
        else:
            yield from self._csv_batches(batch_rows)

    def _parquet_batches(self, batch_rows: int) -> Iterator[tuple[pd.DataFrame, int]]:
        done = 0
        for batch in pq.ParquetFile(self.path).iter_batches(batch_size=batch_rows):
            frame = _as_text(batch)
            frame.columns = self.columns
            done += len(frame)
            yield frame, done

    def _csv_batches(self, batch_rows: int) -> Iterator[tuple[pd.DataFrame, int]]:
        raw_names = _header(self.path, self.encoding, self.delimiter)
        stream = pa.OSFile(str(self.path))
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(
                encoding=self.encoding,
                column_names=raw_names,
                skip_rows=1,
                block_size=BLOCK_BYTES,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=self.delimiter,
                newlines_in_values=True,
                invalid_row_handler=self._keep_broken_row,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in raw_names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        pending: list[pd.DataFrame] = []
        rows = 0
        for batch in reader:
            pending.append(batch.to_pandas())
            rows += batch.num_rows
            if rows >= batch_rows:
                yield self._frame(pending), min(stream.tell(), self.size)
                pending, rows = [], 0
        if pending:
            yield self._frame(pending), self.size
        stream.close()

    def _frame(self, parts: list[pd.DataFrame]) -> pd.DataFrame:
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        frame.columns = self.columns
        return frame

    def _keep_broken_row(self, row: pacsv.InvalidRow) -> str:
        # No line number: pyarrow knows it only when it parses on one thread, and the same file
        # should give the same reasons on every machine. The reject carries the row's text.
        why = f"has {row.actual_columns} fields, expected {row.expected_columns}"
        self.broken_rows.append((row.text, why))
        return "skip"


def _as_text(batch: pa.RecordBatch) -> pd.DataFrame:
    """Every column as text, as a CSV would give it; missing values become empty strings."""
    columns = [pc.cast(column, pa.string()).fill_null("") for column in batch.columns]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names).to_pandas()


def open_source(path: Path | str) -> Source:
    """Sniff a file's format, encoding and delimiter; raise BadFile for what can't be read."""
    path = Path(path)
    if not path.is_file():
        raise BadFile(path, "no such file")
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    size = path.stat().st_size
    if head[:4] == _PARQUET_MAGIC:
        return _open_parquet(path, size)
    for magic, what in _BINARY_MAGICS.items():
        if head.startswith(magic):
            raise BadFile(path, f"this is {what}, not a CSV or Parquet file")
    if b"\x00" in head:
        raise BadFile(path, "this is a binary file, not a CSV or Parquet file")
    if not head.strip():
        raise BadFile(path, "the file is empty")
    encoding = _encoding(path)
    delimiter = _delimiter(path, encoding)
    names = _unique_names(path, _header(path, encoding, delimiter))
    return Source(path, "csv", names, encoding, delimiter, size)


def _open_parquet(path: Path, size: int) -> Source:
    try:
        schema = pq.ParquetFile(path).schema_arrow
    except (pa.ArrowInvalid, OSError) as exc:
        raise BadFile(path, f"not a readable Parquet file ({exc})") from None
    return Source(path, "parquet", _unique_names(path, schema.names), size=size)


def _unique_names(path: Path, raw: list[str]) -> list[str]:
    """Column names compare case-insensitively; the same name twice is ambiguous."""
    names = [n.strip().lower() for n in raw]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise BadFile(path, f"column {twice[0]!r} appears more than once in the header")
    return names


def _encoding(path: Path) -> str:
    """UTF-8 (BOM or not) when every byte decodes as such, Windows-1252 when the file has no
    UTF-8 text at all; a file that holds both is refused, naming the first line of each,
    rather than misread whole (Windows-1252 reads UTF-8's "é" as "Ã©" without a complaint).
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    first_utf8: int | None = None  # offset of the first non-ASCII text that was UTF-8
    offset = 0
    with path.open("rb") as handle:
        try:
            while block := handle.read(8 << 20):
                if first_utf8 is None and not block.isascii():
                    first_utf8 = offset + _first_non_ascii(block)
                decoder.decode(block)
                offset += len(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            bad = offset + error.start
            if first_utf8 is not None and first_utf8 < bad:
                raise BadFile(
                    path,
                    f"the encoding changes within the file: line {_line_at(path, first_utf8)} "
                    f"is UTF-8 but line {_line_at(path, bad)} is not (Windows-1252?); save "
                    "the whole file in one encoding and import it again (nothing was written)",
                ) from None
            return "cp1252"
    return "utf-8"


def _first_non_ascii(block: bytes) -> int:
    found = _NON_ASCII.search(block)
    return found.start() if found else len(block)


def _line_at(path: Path, offset: int) -> int:
    """The 1-based line number of the byte at `offset`."""
    lines, done = 1, 0
    with path.open("rb") as handle:
        while done < offset and (block := handle.read(min(8 << 20, offset - done))):
            lines += block.count(b"\n")
            done += len(block)
    return lines


def _first_line(path: Path, encoding: str) -> str:
    with path.open("r", encoding="utf-8-sig" if encoding == "utf-8" else encoding, newline="") as f:
        return f.readline()


def _delimiter(path: Path, encoding: str) -> str:
    line = _first_line(path, encoding)
    counts = {d: line.count(d) for d in (";", ",", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header(path: Path, encoding: str, delimiter: str) -> list[str]:
    line = _first_line(path, encoding)
    names = next(csv.reader([line], delimiter=delimiter), [])
    return names or [""]
