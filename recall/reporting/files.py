"""The progress report's files: the PDF and its CSV tables, written side by side. The PDF is
for people, in the home language (or the one asked for); the CSVs are for machines and other
tools: their columns are codes and their days ISO, whatever the language."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from recall.clock import Clock, utc_now
from recall.reporting.completion import completion_csv
from recall.reporting.progress import Progress, progress
from recall.reporting.progress_pdf import write_progress_pdf
from recall.spreadsheet import write_frame


@dataclass(frozen=True)
class ReportFiles:
    progress: Progress
    pdf: Path
    csvs: dict[str, Path]
    seconds: float


def write_progress_report(
    *,
    engine: Engine,
    recall_id: str,
    out_dir: Path,
    fonts_dir: Path,
    clock: Clock = utc_now,
    language: str = "fr",
    zone: str = "Europe/Paris",
) -> ReportFiles:
    """The PDF (in `language`, its instants on the clock of `zone`) and the CSVs of the
    recall's progress, in `out_dir` (replaced if there)."""
    started = dt.datetime.now(dt.UTC)
    report = progress(engine=engine, recall_id=recall_id, clock=clock)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = f"{report.as_of:%Y%m%d}"
    csvs = {
        "completion": _text(out_dir / f"completion-{stamp}.csv", completion_csv(report.completion)),
        "burn_down": _frame(out_dir / f"burn-down-{stamp}.csv", pd.DataFrame(
            report.burn_down, columns=["day", "open_cases"])),
        "regulator": _frame(out_dir / f"regulator-{stamp}.csv", regulator_frame(report)),
        "stores": _frame(out_dir / f"stores-{stamp}.csv", pd.DataFrame(
            [asdict(s) for s in report.stores],
            columns=["store_id", "units_sold", "untraceable_units", "notice_only_cases"])),
    }  # fmt: skip
    pdf = write_progress_pdf(report, out_dir / f"progress-{stamp}.pdf", fonts_dir, language, zone)
    seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    return ReportFiles(report, pdf, csvs, seconds)


def regulator_frame(report: Progress) -> pd.DataFrame:
    """The regulator's fields per week, with running totals, and the units affected."""
    frame = pd.DataFrame([asdict(p) for p in report.periods])
    if frame.empty:
        return frame
    for column in ("units_corrected", "notified_mail", "notified_phone", "notified_email",
                   "notified_sms", "answered", "call_attempts"):  # fmt: skip
        frame[f"cumulative_{column}"] = frame[column].cumsum()
    frame.insert(2, "units_affected", report.units.affected)
    return frame


def _text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _frame(path: Path, frame: pd.DataFrame) -> Path:
    write_frame(frame, path, encoding="utf-8")
    return path
