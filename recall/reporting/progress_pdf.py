"""The progress report as a PDF for the quality lead and the regulator's file (ReportLab), in
the home language (or the one asked for), numbers and dates as that language writes them,
instants on the home clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_skeleton, get_timezone, get_timezone_location
from babel.numbers import format_percent
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from recall import i18n
from recall.domain.cases import STAGES
from recall.fonts import BOLD, FONT, register_fonts
from recall.reporting.progress import Progress
from recall.words import VOCABULARY

WIDTH = A4[0] - 36 * mm
TEXT = ParagraphStyle("text", fontName=FONT, fontSize=9.5, leading=13)
HEAD = ParagraphStyle("head", fontName=BOLD, fontSize=13, leading=17, spaceBefore=8, spaceAfter=4)
TITLE = ParagraphStyle("title", fontName=BOLD, fontSize=17, leading=22)
STAGE_COLOURS = [colors.HexColor(c) for c in ("#7d8b96", "#4f83b8", "#e0a400", "#2f8f4e")]
FUNNEL = ("identified", "notified", "contacted", "resolved", "unreachable", "declined")


@dataclass(frozen=True)
class Say:
    """The report's words, figures and instants in one language, on one clock."""

    language: str
    zone: str

    def gettext(self, message: str, **values: Any) -> str:
        said = i18n.gettext_for(self.language)(message)
        return said % values if values else said

    __call__ = gettext

    def ngettext(self, singular: str, plural: str, count: int, **values: Any) -> str:
        said = i18n.ngettext_for(self.language)(singular, plural, count)
        return said.replace("%(num)d", "%(num)s") % {"num": self.n(count), **values}

    def n(self, value: float) -> str:
        return i18n.number(value, self.language)

    def pct(self, share: float, decimals: int = 1) -> str:
        """A share with `decimals` decimals: "30,8 %" in French, "30.8%" in English."""
        pattern = Locale.parse(self.language).percent_formats[None].pattern
        digits = "0." + "0" * decimals if decimals else "0"
        return format_percent(share, pattern.replace("0", digits, 1), locale=self.language)

    def code(self, kind: str, code: str) -> str:
        message = VOCABULARY[kind].get(code)
        return self(message) if message else code.replace("_", " ")

    def at(self, instant: dt.datetime) -> str:
        """An instant on the report's clock, said so: "1 déc. 2026 10:00 (heure de Paris)"."""
        city = get_timezone_location(get_timezone(self.zone), self.language, return_city=True)
        when = i18n.moment(instant, self.zone, self.language)
        return self.gettext("%(time)s (%(city)s time)", time=when, city=city)

    def day(self, day: dt.date) -> str:
        """A day and month: "23/11" in French, "11/23" in English."""
        return format_skeleton("dM", day, locale=self.language)


def write_progress_pdf(
    report: Progress, out: Path, fonts_dir: Path, language: str = "fr", zone: str = "Europe/Paris"
) -> Path:
    """Write the report in `language`, its instants on the clock of `zone`; its path."""
    register_fonts(str(fonts_dir))
    out.parent.mkdir(parents=True, exist_ok=True)
    _ = Say(i18n.language_or(language, "fr"), zone)
    c = report.completion
    doc = SimpleDocTemplate(
        str(out), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
        bottomMargin=16 * mm, title=_("%(recall)s progress report", recall=c.recall_id),
        author="recall",
    )  # fmt: skip
    doc.build(_story(report, _))
    return out


def _story(report: Progress, _: Say) -> list[Flowable]:
    c = report.completion
    return [
        Paragraph(f"{xml_text(c.recall_id)} - {xml_text(c.title)}", TITLE),
        _text(_("Progress report as of %(when)s; hazard: %(hazard)s; launched %(launched)s.",
                when=_.at(report.as_of), hazard=_.code("hazard", c.hazard),
                launched=i18n.long_date(c.launched_at.date(), _.language))),
        Spacer(1, 4 * mm),
        _table([[*_funnel_heads(_)[:4], _("Share resolved"), _("Units corrected"),
                 _("Effectiveness")],
                [*(_.n(getattr(c.total, s)) for s in STAGES), _.pct(c.total.resolved_share),
                 f"{_.n(report.units.corrected)} / {_.n(report.units.affected)}",
                 _.pct(report.units.effectiveness)]]),
        _head(_("Funnel")), _funnel_chart(report, _),
        _head(_("Open cases per day (burn-down)")), _burn_down_chart(report, _),
        _head(_("Forecast")), Paragraph(_forecast_text(report, _), TEXT),
        _head(_("Contact SLA (high hazard)")), Paragraph(_sla_text(report, _), TEXT),
        _head(_("By channel (the one each case started with)")),
        _table([[_("Channel"), *_funnel_heads(_)],
                *([_.code("channel", k), *(_.n(getattr(f, s)) for s in FUNNEL)]
                  for k, f in c.by_channel.items())]),
        _text(_moves_text(report, _)),
        _head(_("Reach by channel")), _reach_table(report, _), _text(_outbox_text(report, _)),
        _head(_("Remedies")), _text(_agreed_text(report, _)), _outcomes(report, _),
        _head(_("Regulator progress report (per week, UTC days)")), _regulator_table(report, _),
        _head(_("Stores: public notice and untraceable units")), _stores_table(report, _),
        _head(_("Per agent")), _agents_table(report, _),
    ]  # fmt: skip


def _funnel_heads(_: Say) -> list[str]:
    return [_("Identified"), _("Notified"), _("Contacted"), _("Resolved"), _("Unreachable"),
            _("Declined")]  # fmt: skip


def _head(text: str) -> Paragraph:
    return Paragraph(xml_text(text), HEAD)


def _text(text: str) -> Paragraph:
    return Paragraph(xml_text(text), TEXT)


def _reach_table(report: Progress, _: Say) -> LongTable:
    lines = report.completion.reach.by_channel.items()
    rows = [[_.code("channel", k), _.n(r.notified), _.n(r.contacted), _.n(r.resolved)]
            for k, r in lines]  # fmt: skip
    return _table([[_("Channel"), _("Notified"), _("Got in touch"), _("Settled")], *rows])


def _outbox_text(report: Progress, _: Say) -> str:
    def said(kind: str, states: dict[str, int]) -> str:
        return ", ".join(f"{_.code(kind, k)} {_.n(v)}" for k, v in states.items()) or _("none")

    reach = report.completion.reach
    return _("E-mail notices: %(emails)s. SMS notices: %(texts)s.",
             emails=said("email", reach.emails), texts=said("sms", reach.texts))  # fmt: skip


def _moves_text(report: Progress, _: Say) -> str:
    moves = report.completion.moves
    if not moves:
        return _("No case has moved to another channel.")
    said = ", ".join(
        _("%(first)s to %(now)s", first=_.code("channel", first), now=_.code("channel", now))
        + f" ({_.n(count)})"
        for (first, now), count in moves.items()
    )
    return _("Channel moves since identification: %(moves)s.", moves=said)


def _agreed_text(report: Progress, _: Say) -> str:
    agreed, units = report.units.agreed, report.units
    done = ", ".join(f"{_.code('fulfilment', k)} {_.n(v)}" for k, v in units.by_kind.items())
    text = _("Units carried out by kind: %(done)s.", done=done or _("none"))
    if not agreed.cases:
        return text + " " + _("No remedy agreed is waiting to be carried out.")
    return f"{text} " + _(
        "Agreed, not carried out yet: %(cases)s, %(units)s; oldest %(oldest)s days, "
        "median %(median)s days.",
        cases=_.ngettext("%(num)d case", "%(num)d cases", agreed.cases),
        units=_.ngettext("%(num)s unit", "%(num)s units", agreed.units),
        oldest=_.n(round(agreed.oldest_days or 0, 1)),
        median=_.n(round(agreed.median_days or 0, 1)),
    )


def _outcomes(report: Progress, _: Say) -> Flowable:
    outcomes = report.completion.outcomes
    if not outcomes:
        return _text(_("No outcome recorded yet."))
    rows = [[_.code("outcome", k), _.n(v)] for k, v in outcomes.items()]
    return _table([[_("Outcome"), _("Cases")], *rows])


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


def _funnel_chart(report: Progress, _: Say) -> Drawing:
    total = report.completion.total
    drawing = Drawing(WIDTH, 62 * mm)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 28 * mm, 4 * mm, WIDTH - 40 * mm, 54 * mm
    chart.data = [[getattr(total, s) for s in reversed(STAGES)]]
    chart.categoryAxis.categoryNames = [_.code("stage", s) for s in reversed(STAGES)]
    chart.categoryAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = STAGE_COLOURS[1]
    for i, colour in enumerate(reversed(STAGE_COLOURS)):
        chart.bars[(0, i)].fillColor = colour
    chart.barLabelFormat = _.n
    chart.barLabels.fontName = FONT
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    return drawing


def _burn_down_chart(report: Progress, _: Say) -> Drawing:
    drawing = Drawing(WIDTH, 58 * mm)
    points = [(n, left) for n, (_day, left) in enumerate(report.burn_down)]
    if len(points) < 2:
        drawing.add(String(0, 20 * mm, _("One day so far: the line starts tomorrow."),
                           fontName=FONT, fontSize=9))  # fmt: skip
        return drawing
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 18 * mm, 8 * mm, WIDTH - 24 * mm, 46 * mm
    plot.data = [points]
    plot.lines[0].strokeColor = STAGE_COLOURS[1]
    plot.lines[0].strokeWidth = 1.5
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0, len(points) - 1
    plot.yValueAxis.valueMin = 0
    plot.xValueAxis.labels.fontName = plot.yValueAxis.labels.fontName = FONT
    plot.xValueAxis.labelTextFormat = lambda n: _.day(report.burn_down[int(n)][0])
    plot.yValueAxis.labelTextFormat = _.n
    drawing.add(plot)
    return drawing


def _forecast_text(report: Progress, _: Say) -> str:
    f = report.forecast
    done = (
        _("expected done by <b>%(when)s</b>, within the recall's calling hours",
          when=_.at(f.done_by))
        if f.done_by else _("the end is not computable (no active agent)")
    )  # fmt: skip
    held = _("; no call before %(when)s, while customers may answer their e-mail or SMS",
             when=_.at(f.held_until)) if f.held_until else ""  # fmt: skip
    return _(
        "%(left)s, %(calls)s (%(rate)s of calls reach the customer, %(minutes)s min per call, "
        "%(basis)s), %(hours)s: %(done)s%(held)s.",
        left=_.ngettext("%(num)s case left on the call list", "%(num)s cases left on the call list",
                      f.cases_left),
        calls=_.ngettext("about %(num)s call", "about %(num)s calls", round(f.calls_needed)),
        rate=_.pct(f.contact_rate, 0),
        minutes=_.n(round(f.handle_minutes, 1)),
        basis=_("measured so far") if f.measured else _("defaults until calls are timed"),
        hours=_.ngettext("%(hours)s h of calling for %(num)s active agent",
                         "%(hours)s h of calling for %(num)s active agents", f.agents,
                       hours=_.n(round(f.agent_hours, 1))),
        done=done, held=held,
    )  # fmt: skip


def _sla_text(report: Progress, _: Say) -> str:
    if report.completion.hazard != "high":
        return xml_text(_("Not a high-hazard recall: no contact SLA."))
    breach = report.breach
    if breach is None:
        return xml_text(_("Every high-hazard case was contacted within %(hours)s h, or is younger.",
                          hours=_.n(round(report.sla_hours))))  # fmt: skip
    late = _.ngettext("%(num)s case not contacted within %(hours)s h",
                    "%(num)s cases not contacted within %(hours)s h", breach.cases,
                    hours=_.n(round(breach.sla_hours)))  # fmt: skip
    rest = _("(oldest %(oldest)s h), e.g. %(refs)s.", oldest=_.n(round(breach.oldest_hours)),
             refs=", ".join(breach.case_refs[:5]))  # fmt: skip
    return f"<b>{xml_text(late)}</b> {xml_text(rest)}"


def _regulator_table(report: Progress, _: Say) -> LongTable:
    rows: list[list[object]] = [[
        _("Week"), _("Units corrected"), _("Notified by mail"), _("by phone"), _("by e-mail"),
        _("by SMS"), _("Answered"), _("Call attempts"), _("Corrected, cumulated"),
        _("Answered, cumulated")]]  # fmt: skip
    corrected = answered = 0
    for p in report.periods:
        corrected += p.units_corrected
        answered += p.answered
        figures = (p.units_corrected, p.notified_mail, p.notified_phone, p.notified_email,
                   p.notified_sms, p.answered, p.call_attempts, corrected, answered)  # fmt: skip
        rows.append([f"{_.day(p.start)}-{_.day(p.end)}", *(_.n(v) for v in figures)])
    rows.append([_("Units affected"), _.n(report.units.affected), *[""] * 8])
    return _table(rows)


def _stores_table(report: Progress, _: Say) -> LongTable | Paragraph:
    if not report.stores:
        return _text(_("No store notice made yet."))
    head = [_("Store"), _("Units sold"), _("Untraceable units"), _("Notice-only cases")]
    rows = [[s.store_id, *(_.n(v) for v in (s.units_sold, s.untraceable_units,
                                             s.notice_only_cases))]
            for s in report.stores]  # fmt: skip
    return _table([head, *rows])


def _agents_table(report: Progress, _: Say) -> LongTable:
    head = [_("Agent"), _("Cases"), _("To call"), _("Calls"), _("Contacted"), _("Resolved"),
            _("Declined"), _("Escalated")]  # fmt: skip
    rows = [[a.agent_id, *(_.n(v) for v in (a.funnel.identified, a.to_call, a.calls,
             a.funnel.contacted, a.funnel.resolved, a.funnel.declined, a.funnel.escalated))]
            for a in report.completion.by_agent]  # fmt: skip
    return _table([head, *rows])
