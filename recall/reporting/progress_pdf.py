"""The progress report as a PDF for the quality lead and the regulator's file (ReportLab)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)

from recall.domain.cases import STAGES
from recall.fonts import BOLD, FONT, register_fonts
from recall.reporting.progress import Progress

WIDTH = A4[0] - 36 * mm
TEXT = ParagraphStyle("text", fontName=FONT, fontSize=9.5, leading=13)
HEAD = ParagraphStyle("head", fontName=BOLD, fontSize=13, leading=17, spaceBefore=8, spaceAfter=4)
TITLE = ParagraphStyle("title", fontName=BOLD, fontSize=17, leading=22)
STAGE_COLOURS = [colors.HexColor(c) for c in ("#7d8b96", "#4f83b8", "#e0a400", "#2f8f4e")]


def write_progress_pdf(report: Progress, out: Path, fonts_dir: Path) -> Path:
    """Write the report; its path."""
    register_fonts(str(fonts_dir))
    out.parent.mkdir(parents=True, exist_ok=True)
    c = report.completion
    doc = SimpleDocTemplate(
        str(out), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
        bottomMargin=16 * mm, title=f"{c.recall_id} progress report", author="recall",
    )  # fmt: skip
    story = [
        Paragraph(f"{xml_text(c.recall_id)} - {xml_text(c.title)}", TITLE),
        Paragraph(
            f"Progress report as of {report.as_of:%Y-%m-%d %H:%M} UTC; {c.hazard} hazard; "
            f"launched {c.launched_at:%Y-%m-%d}.",
            TEXT,
        ),
        Spacer(1, 4 * mm),
        _table(
            [
                [
                    "Identified",
                    "Notified",
                    "Contacted",
                    "Resolved",
                    "Resolved share",
                    "Units corrected",
                    "Effectiveness",
                ],
                [
                    *(f"{getattr(c.total, s):,}" for s in STAGES),
                    f"{c.total.resolved_share:.1%}",
                    f"{report.units.corrected:,} / {report.units.affected:,}",
                    f"{report.units.effectiveness:.1%}",
                ],
            ]
        ),
        Paragraph("Funnel", HEAD),
        _funnel_chart(report),
        Paragraph("Open cases per day (burn-down)", HEAD),
        _burn_down_chart(report),
        Paragraph("Forecast", HEAD),
        Paragraph(_forecast_text(report), TEXT),
        Paragraph("Contact SLA (high hazard)", HEAD),
        Paragraph(_sla_text(report), TEXT),
        Paragraph("By channel (the one each case started with)", HEAD),
        _funnel_table("Channel", list(c.by_channel.items())),
        Paragraph(_moves_text(report), TEXT),
        Paragraph("Reach by channel", HEAD),
        _reach_table(report),
        Paragraph(_outbox_text(report), TEXT),
        Paragraph("Remedies", HEAD),
        Paragraph(_agreed_text(report), TEXT),
        _table(
            [
                ["Outcome", "Cases"],
                *([k.replace("_", " "), f"{v:,}"] for k, v in c.outcomes.items()),
            ]
        )
        if c.outcomes
        else Paragraph("No outcome recorded yet.", TEXT),
        Paragraph("Regulator progress report (per week, UTC)", HEAD),
        _regulator_table(report),
        Paragraph("Stores: public notice and untraceable units", HEAD),
        _stores_table(report),
        Paragraph("Per agent", HEAD),
        _agents_table(report),
    ]
    doc.build(story)
    return out


def _reach_table(report: Progress) -> LongTable:
    lines = report.completion.reach.by_channel.items()
    rows = [[k, f"{r.notified:,}", f"{r.contacted:,}", f"{r.resolved:,}"] for k, r in lines]
    return _table([["Channel", "Notified", "Got in touch", "Settled"], *rows])


def _outbox_text(report: Progress) -> str:
    def said(states: dict[str, int]) -> str:
        return ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in states.items()) or "none"

    reach = report.completion.reach
    return f"E-mail notices: {said(reach.emails)}. SMS notices: {said(reach.texts)}."


def _moves_text(report: Progress) -> str:
    moves = report.completion.moves
    if not moves:
        return "No case has moved to another channel."
    said = ", ".join(f"{first} to {now}: {count:,}" for (first, now), count in moves.items())
    return f"Channel moves since identification: {said}."


def _agreed_text(report: Progress) -> str:
    agreed, units = report.units.agreed, report.units
    done = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in units.by_kind.items()) or "none"
    text = f"Units carried out by kind: {done}. "
    if not agreed.cases:
        return text + "No remedy agreed is waiting to be carried out."
    return text + (
        f"Agreed, not carried out yet: {agreed.cases:,} case(s), {agreed.units:,} unit(s); "
        f"oldest {agreed.oldest_days or 0:.1f} days, median {agreed.median_days or 0:.1f} days."
    )


def xml_text(text: str) -> str:
    """`text` as a ReportLab paragraph shows it: its &, < and > are not markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


HEADER = ParagraphStyle("header", fontName=BOLD, fontSize=7.5, leading=9.5)
HEADER_RIGHT = ParagraphStyle("header-right", parent=HEADER, alignment=TA_RIGHT)  # over numbers


def _table(rows: Sequence[Sequence[object]]) -> LongTable:
    """A table as wide as the page, its header wrapped: the first column gets 1.4 shares."""
    columns = len(rows[0])
    unit = WIDTH / (columns + 0.4)
    header = [
        Paragraph(xml_text(str(v)), HEADER if i == 0 else HEADER_RIGHT)
        for i, v in enumerate(rows[0])
    ]
    body = [[str(v) for v in row] for row in rows[1:]]
    table = LongTable([header, *body], colWidths=[1.4 * unit] + [unit] * (columns - 1),
                      repeatRows=1)  # fmt: skip
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), FONT, 8.5), ("FONT", (0, 0), (-1, 0), BOLD, 8.5),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eceae4")),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c8c6c0")),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))  # fmt: skip
    return table


def _funnel_table(heading: str, items: list[tuple[str, Any]]) -> LongTable:
    rows = [[heading, "Identified", "Notified", "Contacted", "Resolved", "Unreachable", "Declined"]]
    rows += [[k, f.identified, f.notified, f.contacted, f.resolved, f.unreachable, f.declined]
             for k, f in items]  # fmt: skip
    return _table(rows)


def _funnel_chart(report: Progress) -> Drawing:
    total = report.completion.total
    drawing = Drawing(WIDTH, 62 * mm)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 28 * mm, 4 * mm, WIDTH - 40 * mm, 54 * mm
    chart.data = [[getattr(total, s) for s in reversed(STAGES)]]
    chart.categoryAxis.categoryNames = list(reversed(STAGES))
    chart.categoryAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = STAGE_COLOURS[1]
    for i, colour in enumerate(reversed(STAGE_COLOURS)):
        chart.bars[(0, i)].fillColor = colour
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = FONT
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    return drawing


def _burn_down_chart(report: Progress) -> Drawing:
    drawing = Drawing(WIDTH, 58 * mm)
    points = [(n, left) for n, (_, left) in enumerate(report.burn_down)]
    if len(points) < 2:
        drawing.add(String(0, 20 * mm, "One day so far: the line starts tomorrow.", fontName=FONT,
                           fontSize=9))  # fmt: skip
        return drawing
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 18 * mm, 8 * mm, WIDTH - 24 * mm, 46 * mm
    plot.data = [points]
    plot.lines[0].strokeColor = STAGE_COLOURS[1]
    plot.lines[0].strokeWidth = 1.5
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0, len(points) - 1
    plot.yValueAxis.valueMin = 0
    plot.xValueAxis.labels.fontName = plot.yValueAxis.labels.fontName = FONT
    plot.xValueAxis.labelTextFormat = lambda n: f"{report.burn_down[int(n)][0]:%d/%m}"
    drawing.add(plot)
    return drawing


def _forecast_text(report: Progress) -> str:
    f = report.forecast
    basis = "measured so far" if f.measured else "defaults until calls are timed"
    when = f"{f.done_by:%Y-%m-%d %H:%M} UTC" if f.done_by else "not computable (no active agent)"
    return (
        f"{f.cases_left:,} cases left on the call list, about {f.calls_needed:,.0f} calls "
        f"({f.contact_rate:.0%} of calls reach the customer, {f.handle_minutes:.1f} min per call, "
        f"{basis}), {f.agent_hours:,.1f} agent-hours for {f.agents} active agents: "
        f"expected done by <b>{when}</b>, within the recall's calling hours"
        + (f"; no call before {f.held_until:%Y-%m-%d %H:%M} UTC, while customers may answer "
           "their e-mail or SMS." if f.held_until else ".")
    )  # fmt: skip


def _sla_text(report: Progress) -> str:
    if report.completion.hazard != "high":
        return "Not a high-hazard recall: no contact SLA."
    breach = report.breach
    if breach is None:
        return (
            f"Every high-hazard case was contacted within {report.sla_hours:.0f} h, or is younger."
        )
    return (
        f"<b>{breach.cases:,} case(s) not contacted within {breach.sla_hours:.0f} h</b> "
        f"(oldest {breach.oldest_hours:.0f} h), e.g. {', '.join(breach.case_refs[:5])}."
    )


def _regulator_table(report: Progress) -> LongTable:
    rows: list[list[object]] = [["Week", "Units corrected", "Notified by mail", "by phone",
                                 "by e-mail", "by SMS", "Answered", "Call attempts",
                                 "Corrected, cumulated", "Answered, cumulated"]]  # fmt: skip
    corrected = answered = 0
    for p in report.periods:
        corrected += p.units_corrected
        answered += p.answered
        rows.append([f"{p.start:%d/%m}-{p.end:%d/%m}", p.units_corrected, p.notified_mail,
                     p.notified_phone, p.notified_email, p.notified_sms, p.answered,
                     p.call_attempts, corrected, answered])  # fmt: skip
    rows.append(["Units affected", report.units.affected, "", "", "", "", "", "", "", ""])
    return _table(rows)


def _stores_table(report: Progress) -> LongTable | Paragraph:
    if not report.stores:
        return Paragraph("No store notice made yet.", TEXT)
    rows: list[list[object]] = [["Store", "Units sold", "Untraceable units", "Notice-only cases"]]
    rows += [[s.store_id, s.units_sold, s.untraceable_units, s.notice_only_cases]
             for s in report.stores]  # fmt: skip
    return _table(rows)


def _agents_table(report: Progress) -> LongTable:
    rows: list[list[object]] = [["Agent", "Cases", "To call", "Calls", "Contacted", "Resolved",
                                 "Declined", "Escalated"]]  # fmt: skip
    rows += [[a.agent_id, a.funnel.identified, a.to_call, a.calls, a.funnel.contacted,
              a.funnel.resolved, a.funnel.declined, a.funnel.escalated]
             for a in report.completion.by_agent]  # fmt: skip
    return _table(rows)
