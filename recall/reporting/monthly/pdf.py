"""The monthly report as a PDF (ReportLab): its sections as tables, figures to the right,
numbers and dates in the reader's locale."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from recall import i18n
from recall.domain.errors import Unavailable
from recall.fonts import BOLD, FONT, register_fonts
from recall.reporting.monthly.figures import MonthlyReport
from recall.reporting.monthly.layout import NOT_RECORDED, Section, sections
from recall.reporting.progress_pdf import xml_text

WIDTH = A4[0] - 36 * mm
TEXT = ParagraphStyle("m-text", fontName=FONT, fontSize=9, leading=12)
SMALL = ParagraphStyle("m-small", fontName=FONT, fontSize=7.5, leading=10, textColor="#555555")
HEAD = ParagraphStyle("m-head", fontName=BOLD, fontSize=11.5, leading=15, spaceBefore=7,
                      spaceAfter=3)  # fmt: skip
TITLE = ParagraphStyle("m-title", fontName=BOLD, fontSize=16, leading=20)
CELL = ParagraphStyle("m-cell", fontName=FONT, fontSize=8.5, leading=10.5)
CELL_HEAD = ParagraphStyle("m-cell-head", fontName=BOLD, fontSize=8, leading=10)
CELL_FIGURE = ParagraphStyle("m-cell-figure", parent=CELL, alignment=TA_RIGHT)
HEAD_FIGURE = ParagraphStyle("m-cell-head-figure", parent=CELL_HEAD, alignment=TA_RIGHT)


class MonthlyPdfError(Unavailable):
    """The PDF could not be drawn (a font or a file that failed); nothing usable was written."""


def write_pdf(report: MonthlyReport, out: Path, fonts_dir: Path, language: str) -> Path:
    """Draw the report into `out`; its path."""
    try:
        register_fonts(str(fonts_dir))  # before any paragraph names them
    except (OSError, ValueError) as exc:
        raise MonthlyPdfError(f"{fonts_dir}: the report's fonts can't be read ({exc})") from None
    _ = i18n.gettext_for(language)
    doc = SimpleDocTemplate(
        str(out), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=15 * mm,
        bottomMargin=15 * mm, title=f"{report.recall_id} {report.month_start:%Y-%m}",
        author="recall",
    )  # fmt: skip
    story: list[Flowable] = _header(report, _, language)
    for section in sections(report):
        story += _section(section, _, language)
    try:
        doc.build(story)
    except OSError as exc:  # the file can't be written
        raise MonthlyPdfError(f"{out}: the monthly report could not be written ({exc})") from None
    return out


def _header(report: MonthlyReport, _: Callable[[str], str], language: str) -> list[Flowable]:
    first, last = (i18n.long_date(d, language) for d in (report.month_start, report.month_end))
    said = _(
        "Reporting period: {month}. Launched on {launched}; hazard: {hazard}. "
        "Figures as of {as_of} UTC."
    ).format(
        month=f"{first} - {last}", launched=i18n.long_date(report.launched_on, language),
        hazard=_(report.hazard), as_of=f"{report.as_of:%Y-%m-%d %H:%M}",
    )  # fmt: skip
    return [
        Paragraph(xml_text(_("Monthly progress report")), TITLE),
        Paragraph(f"<b>{xml_text(report.recall_id)}</b> - {xml_text(report.title)}", TEXT),
        Paragraph(xml_text(said), TEXT),
        Spacer(1, 2 * mm),
    ]


def _section(section: Section, _: Callable[[str], str], language: str) -> list[Flowable]:
    def cell(value: object) -> str:
        if value is NOT_RECORDED:
            return _("not recorded")
        if isinstance(value, bool) or value == "":
            return str(value)
        if isinstance(value, int | float):
            return i18n.number(value, language)
        if isinstance(value, dt.date):
            return i18n.long_date(value, language)
        return _(str(value))

    rows = [[_(c) for c in section.columns]]
    rows += [[_(line.label), cell(line.month), cell(line.total)] for line in section.lines]
    flow: list[Flowable] = [Paragraph(xml_text(_(section.title)), HEAD)] if section.title else []
    flow.append(_table(rows))
    if section.note:
        flow.append(Paragraph(xml_text(_(section.note)), SMALL))
    flow.append(Spacer(1, 2.5 * mm))
    return flow


def _table(rows: list[list[str]]) -> LongTable:
    """A table as wide as the page; the label column gets half of it, figures to the right."""
    unit = WIDTH / 4
    styles = ((CELL_HEAD, HEAD_FIGURE), (CELL, CELL_FIGURE))
    body = [[Paragraph(xml_text(v), styles[r > 0][c > 0]) for c, v in enumerate(row)]
            for r, row in enumerate(rows)]  # fmt: skip
    table = LongTable(body, colWidths=[2 * unit, unit, unit], repeatRows=1)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eceae4")),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c8c6c0")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))  # fmt: skip
    return table
