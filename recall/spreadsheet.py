"""CSV files as a spreadsheet opens them: no text cell runs as a formula.

Excel, LibreOffice and Google Sheets run a cell that starts with `=`, `+`, `-` or `@` (or a
tab or carriage return before one) as a formula, quoted or not: a first name
`=HYPERLINK("http://...")` in a call sheet is a live link on an agent's screen. As OWASP's
"CSV Injection" page advises, such a text cell is written with a leading apostrophe, which
the spreadsheet shows as text and does not display. A plain negative number (a return's
quantity, read as text in a rejects file) is not a formula and stays as it is. Every CSV the
project writes goes through `write_frame` or `writer`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is only imported by those who hand a frame
    import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-\d+(\.\d+)?")


def neutralised(value: object) -> object:
    """`value`, with an apostrophe before it if it is text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells are neutralised; numbers, dates and flags untouched."""
    from pandas.api.types import is_object_dtype, is_string_dtype

    safe = frame  # copied only once a column has something to neutralise
    for name in frame.columns:
        column = frame[name]
        if is_object_dtype(column) or is_string_dtype(column):
            text = column.astype("string")
            risky = text.str.startswith(FORMULA_STARTS, na=False) & ~text.str.fullmatch(
                _NUMBER.pattern, na=False
            )
            if risky.any():
                safe = safe.copy() if safe is frame else safe
                safe[name] = column.where(~risky, "'" + text)
    return safe


def write_frame(frame: pd.DataFrame, path_or_buffer: Any, **options: Any) -> None:
    """`frame.to_csv(path_or_buffer, index=False, **options)` with its text cells neutralised."""
    safe_frame(frame).to_csv(path_or_buffer, index=False, **options)


class _SafeWriter:
    def __init__(self, out: IO[str], **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([neutralised(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: IO[str], **options: Any) -> _SafeWriter:
    """csv.writer(out, **options), neutralising every text cell it is given."""
    return _SafeWriter(out, **options)


class UnreadableFile(ValueError):
    """A small CSV that can't be read; its message names the file and why."""


def rejects_path(path: Path) -> Path:
    """`purchases.csv` -> `purchases.rejects.csv`, next to the input."""
    return path.with_name(f"{path.stem}.rejects.csv")


def read_small_csv(path: Path) -> pd.DataFrame:
    """A small CSV from a partner (a print house's returns, a retailer's fulfilments): `,`,
    `;` or tab, UTF-8 with or without BOM or Windows-1252; every cell as text, column names
    stripped and lower-cased."""
    import pandas as pd

    if not path.is_file():
        raise UnreadableFile(f"{path}: no such file")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            with path.open(encoding=encoding) as handle:
                header = handle.readline()
            sep = max((",", ";", "\t"), key=header.count)
            frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise UnreadableFile(f"{path}: not a readable CSV file ({exc})") from None
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        return frame
    raise UnreadableFile(f"{path}: neither UTF-8 nor Windows-1252 text")
