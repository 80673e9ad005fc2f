"""The monthly report's files: a PDF to sign and file, and its CSV, named by recall, month
and language."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from recall import i18n, spreadsheet
from recall.reporting.monthly.figures import MonthlyReport
from recall.reporting.monthly.layout import NOT_RECORDED, sections
from recall.reporting.monthly.pdf import write_pdf


@dataclass(frozen=True)
class MonthlyFiles:
    report: MonthlyReport
    pdf: Path
    csv: Path


def write_monthly_report(
    report: MonthlyReport, *, out_dir: Path, fonts_dir: Path, language: str = "fr"
) -> MonthlyFiles:
    """The PDF and the CSV of one month in `language` (fr or en), in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"monthly-{report.recall_id}-{report.month_start:%Y-%m}.{language}"
    csv = out_dir / f"{stem}.csv"
    csv.write_text(monthly_csv(report, language), encoding="utf-8-sig")
    pdf = write_pdf(report, out_dir / f"{stem}.pdf", fonts_dir, language)
    return MonthlyFiles(report, pdf, csv)


def monthly_csv(report: MonthlyReport, language: str) -> str:
    """One row per figure: section, key, label (in `language`), this month, cumulative."""
    _ = i18n.gettext_for(language)
    out = io.StringIO()
    writer = spreadsheet.writer(out, lineterminator="\n")
    writer.writerow(("recall_id", "month", "section", "key", "label", "this_month", "cumulative"))
    month = f"{report.month_start:%Y-%m}"
    for section in sections(report):
        for line in section.lines:
            writer.writerow((report.recall_id, month, section.key, line.key, _(line.label),
                             _cell(line.month, _), _cell(line.total, _)))  # fmt: skip
    return out.getvalue()


def _cell(value: object, _: Callable[[str], str]) -> object:
    if value is NOT_RECORDED:
        return _("not recorded")
    if isinstance(value, dt.date):
        return value.isoformat()
    return _(value) if isinstance(value, str) and value else value
