"""The monthly progress report's files: a PDF to sign and file, and its CSV, in French or
English (gettext catalogues), numbers and dates in the reader's locale (Babel)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from recall import i18n, spreadsheet
from recall.fonts import BOLD, FONT, register_fonts
from recall.reporting.monthly import MonthlyReport

WIDTH = A4[0] - 36 * mm
TEXT = ParagraphStyle("m-text", fontName=FONT, fontSize=9, leading=12)
SMALL = ParagraphStyle("m-small", fontName=FONT, fontSize=7.5, leading=10, textColor="#555555")
HEAD = ParagraphStyle(
    "m-head", fontName=BOLD, fontSize=11.5, leading=15, spaceBefore=7, spaceAfter=3
)
TITLE = ParagraphStyle("m-title", fontName=BOLD, fontSize=16, leading=20)
CELL = ParagraphStyle("m-cell", fontName=FONT, fontSize=8.5, leading=10.5)
CELL_HEAD = ParagraphStyle("m-cell-head", fontName=BOLD, fontSize=8, leading=10)
CELL_FIGURE = ParagraphStyle("m-cell-figure", parent=CELL, alignment=TA_RIGHT)
HEAD_FIGURE = ParagraphStyle("m-cell-head-figure", parent=CELL_HEAD, alignment=TA_RIGHT)

KIND_LABELS = {
    "refund_paid": "Refund paid", "replacement_shipped": "Replacement shipped",
    "repair_done": "Repair done", "returned_to_store": "Returned to a store",
    "collected": "Collected", "destroyed": "Destroyed",
}  # fmt: skip
NOTICE_LABELS = {"phone": "Phone", "email": "E-mail", "mail": "Regular mail", "sms": "SMS"}
CONTACT_LABELS = {"hotline": "Phone (hotline)", "store": "In a store", "web": "Self-service page",
                  "email": "E-mail", "letter": "Regular mail"}  # fmt: skip
INCIDENT_LABELS = {"incidents": "Incidents", "injuries": "Injuries", "deaths": "Deaths"}


@dataclass(frozen=True)
class MonthlyFiles:
    report: MonthlyReport
    pdf: Path
    csv: Path


def write_monthly_report(
    report: MonthlyReport, out_dir: Path, fonts_dir: Path, language: str = "fr"
) -> MonthlyFiles:
    """The PDF and the CSV of one month, named by recall, month and language."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"monthly-{report.recall_id}-{report.month_start:%Y-%m}.{language}"
    csv = out_dir / f"{stem}.csv"
    csv.write_text(monthly_csv(report, language), encoding="utf-8-sig")
    pdf = out_dir / f"{stem}.pdf"
    _write_pdf(report, pdf, fonts_dir, language)
    return MonthlyFiles(report, pdf, csv)


def rows_of(
    report: MonthlyReport, _: Callable[[str], str]
) -> list[tuple[str, str, str, object, object]]:
    """(section, key, label, this month, cumulative): every figure of the report once."""
    rows: list[tuple[str, str, str, object, object]] = [
        ("products", "affected", _("Total products affected by the recall"),
         "", report.units_affected),
        ("products", "untraceable", _("of which untraceable (sold without a loyalty card)"),
         "", report.untraceable_units),
        ("products", "corrected_consumers", _("Corrected, with consumers"),
         report.corrected.month, report.corrected.cumulative),
    ]  # fmt: skip
    rows += [("corrected_by_remedy", f.key, _(KIND_LABELS[f.key]), f.month, f.cumulative)
             for f in report.corrected_by_kind]  # fmt: skip
    a = report.agreed
    rows += [
        ("agreed_not_done", "cases", _("Remedies agreed, not carried out yet: cases"), "", a.cases),
        ("agreed_not_done", "units", _("Remedies agreed, not carried out yet: units"), "", a.units),
        ("agreed_not_done", "oldest_days", _("Oldest waiting (days)"), "", _days(a.oldest_days)),
        ("agreed_not_done", "median_days", _("Median wait (days)"), "", _days(a.median_days)),
    ]  # fmt: skip
    for line in report.incidents:
        label = _(INCIDENT_LABELS[line.key])
        rows += [
            ("incidents", f"{line.key}.before_recall",
             f"{label}, {_('occurred before the recall')}", line.before_month, line.before_total),
            ("incidents", f"{line.key}.after_recall",
             f"{label}, {_('occurred after the recall')}", line.after_month, line.after_total),
        ]  # fmt: skip
    rows += [("notified", f.key, _(NOTICE_LABELS[f.key]), f.month, f.cumulative)
             for f in report.notified]  # fmt: skip
    rows.append(("calls", "call_attempts", _("Calls made, answered or not"),
                 report.attempts.month, report.attempts.cumulative))  # fmt: skip
    rows += [("contacted_firm", f.key, _(CONTACT_LABELS[f.key]), f.month, f.cumulative)
             for f in report.contacted_firm]  # fmt: skip
    c = report.checks
    rows += [
        ("effectiveness", "level", _("Effectiveness check level"), "", c.level),
        ("effectiveness", "drawn", _("Consumers drawn for a check"), "", c.sample),
        ("effectiveness", "checked", _("Checks made"), "", c.checked),
        ("effectiveness", "answered", _("Checks that reached the consumer"), "", c.answered),
        ("effectiveness", "received", _("Said the notice reached them"), "", c.received),
        ("effectiveness", "acted", _("Said they acted on it"), "", c.acted),
        ("completion", "cases", _("Consumers identified"), "", report.cases),
        ("completion", "resolved", _("Remedy agreed or product no longer held"), "",
         report.resolved),
    ]  # fmt: skip
    return rows


def _days(value: float | None) -> object:
    return "" if value is None else round(value, 1)


def monthly_csv(report: MonthlyReport, language: str) -> str:
    _ = i18n.gettext(language)
    out = io.StringIO()
    writer = spreadsheet.writer(out, lineterminator="\n")
    writer.writerow(("recall_id", "month", "section", "key", "label", "this_month", "cumulative"))
    for section, key, label, month, total in rows_of(report, _):
        writer.writerow((report.recall_id, f"{report.month_start:%Y-%m}", section, key, label,
                         month, total))  # fmt: skip
    return out.getvalue()


def _write_pdf(report: MonthlyReport, out: Path, fonts_dir: Path, language: str) -> None:
    register_fonts(str(fonts_dir))
    _ = i18n.gettext(language)

    def n(value: int) -> str:
        return i18n.number(value, language)

    doc = SimpleDocTemplate(
        str(out), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=15 * mm,
        bottomMargin=15 * mm, title=f"{report.recall_id} {report.month_start:%Y-%m}",
        author="recall",
    )  # fmt: skip
    first, last = (i18n.long_date(d, language) for d in (report.month_start, report.month_end))
    month = f"{first} - {last}"
    story = [
        Paragraph(_x(_("Monthly progress report")), TITLE),
        Paragraph(f"<b>{_x(report.recall_id)}</b> - {_x(report.title)}", TEXT),
        Paragraph(
            _x(
                _(
                    "Reporting period: {month}. Launched on {launched}; hazard: {hazard}. "
                    "Figures as of {as_of} UTC."
                ).format(
                    month=month,
                    launched=i18n.long_date(report.launched_on, language),
                    hazard=_(report.hazard),
                    as_of=f"{report.as_of:%Y-%m-%d %H:%M}",
                )
            ),
            TEXT,
        ),
        Spacer(1, 3 * mm),
        Paragraph(_x(_("I. Products corrected")), HEAD),
        _table(
            [
                [
                    _("Location of products"),
                    _("Total products affected by the recall"),
                    _("Corrections this reporting period"),
                    _("Total cumulative corrections"),
                ],
                [_("With manufacturer"), _("not recorded"), "", ""],
                [_("With distributor"), _("not recorded"), "", ""],
                [_("With retailers"), _("not recorded"), "", ""],
                [
                    _("With consumers"),
                    n(report.units_affected),
                    n(report.corrected.month),
                    n(report.corrected.cumulative),
                ],
            ],
            first=1.6,
        ),
        Paragraph(
            _x(
                _(
                    "Units count as corrected when the remedy was carried out, not when it "
                    "was agreed. Untraceable units (sold without a loyalty card): "
                )
                + n(report.untraceable_units)
                + "."
            ),
            SMALL,
        ),
        Spacer(1, 2 * mm),
        _table(
            [[_("Corrections by remedy"), _("This period"), _("Cumulative")]]
            + [
                [_(KIND_LABELS[f.key]), n(f.month), n(f.cumulative)]
                for f in report.corrected_by_kind
            ],
            first=2,
        ),
        Spacer(1, 2 * mm),
        _agreed_table(report, _, n, language),
        Paragraph(_x(_("II. Incident update")), HEAD),
        _table(
            [
                [
                    "",
                    _("Reported this period, occurred before the recall"),
                    _("Reported this period, occurred after the recall"),
                    _("Since the launch, before"),
                    _("Since the launch, after"),
                ],
                *[
                    [
                        _(INCIDENT_LABELS[i.key]),
                        n(i.before_month),
                        n(i.after_month),
                        n(i.before_total),
                        n(i.after_total),
                    ]
                    for i in report.incidents
                ],
            ]
        ),
        Paragraph(_x(_("III. Notifications made by the firm and consumer response")), HEAD),
        _table(
            [[_("Consumers notified by"), _("This period"), _("Cumulative")]]
            + [[_(NOTICE_LABELS[f.key]), n(f.month), n(f.cumulative)] for f in report.notified]
            + [
                [
                    _("Calls made, answered or not"),
                    n(report.attempts.month),
                    n(report.attempts.cumulative),
                ]
            ],
            first=2,
        ),
        Paragraph(
            _x(
                _(
                    "A consumer counts as notified when the notice reached them: a letter "
                    "posted and not returned, a call that reached them. An unanswered call "
                    "is an attempt."
                )
            ),
            SMALL,
        ),
        Spacer(1, 2 * mm),
        _table(
            [
                [
                    _("Consumers who contacted the firm about the recall, by"),
                    _("This period"),
                    _("Cumulative"),
                ]
            ]
            + [
                [_(CONTACT_LABELS[f.key]), n(f.month), n(f.cumulative)]
                for f in report.contacted_firm
            ],
            first=2,
        ),
        Paragraph(_x(_("IV. Effectiveness check")), HEAD),
        _checks_table(report, _, n, language),
        Paragraph(_x(_("V. Completion")), HEAD),
        _completion_table(report, _, n, language),
    ]
    doc.build(story)


def _agreed_table(report: MonthlyReport, _: Callable[[str], str], n: Callable[[int], str],
                  language: str) -> LongTable:  # fmt: skip
    a = report.agreed

    def days(value: float | None) -> str:
        return "-" if value is None else i18n.number(round(value, 1), language)

    return _table([
        [_("Remedies agreed, not carried out yet"), _("Cases"), _("Units"),
         _("Oldest waiting (days)"), _("Median wait (days)")],
        ["", n(a.cases), n(a.units), days(a.oldest_days), days(a.median_days)],
    ])  # fmt: skip


def _checks_table(report: MonthlyReport, _: Callable[[str], str], n: Callable[[int], str],
                  language: str) -> LongTable:  # fmt: skip
    c = report.checks

    def share(part: int, whole: int) -> str:
        return i18n.percent(part / whole, language) if whole else "-"

    return _table([
        [_("Level (share of notified consumers)"), _("Drawn"), _("Checked"),
         _("Reached"), _("Received the notice"), _("Acted on it")],
        [f"{c.level} ({i18n.percent(c.share, language)})", n(c.sample), n(c.checked),
         n(c.answered), f"{n(c.received)} ({share(c.received, c.answered)})",
         f"{n(c.acted)} ({share(c.acted, c.answered)})"],
    ])  # fmt: skip


def _completion_table(report: MonthlyReport, _: Callable[[str], str], n: Callable[[int], str],
                      language: str) -> LongTable:  # fmt: skip
    expected = report.completion_expected
    return _table([
        [_("Consumers identified"), _("Remedy agreed or product no longer held"),
         _("Expected end of the call list"), _("Planned end of the recall")],
        [n(report.cases), n(report.resolved),
         i18n.long_date(expected.date(), language) if expected else _("not computable"),
         i18n.long_date(report.ends_on, language) if report.ends_on else _("not set")],
    ])  # fmt: skip


def _table(rows: Sequence[Sequence[object]], first: float = 1.4) -> LongTable:
    """A table as wide as the page; the first column gets `first` shares, cells wrap."""
    columns = len(rows[0])
    unit = WIDTH / (columns - 1 + first)
    styles = ((CELL_HEAD, HEAD_FIGURE), (CELL, CELL_FIGURE))  # figures to the right
    body = [
        [Paragraph(_x(str(v)), styles[r > 0][c > 0]) for c, v in enumerate(row)]
        for r, row in enumerate(rows)
    ]
    table = LongTable(body, colWidths=[first * unit] + [unit] * (columns - 1), repeatRows=1)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eceae4")),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c8c6c0")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))  # fmt: skip
    return table


def _x(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
