"""Call sheets: one agent's call list, in calling order, as a printable PDF and a CSV.

For agents who work on paper or in another dialer. The PDF, in the agent's language, leaves
two empty columns, outcome and notes, to write in by hand, and shows each callback on the
customer's clock, said so; the CSV, for machines, carries codes, ISO days and the same two
columns to fill in.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import phonenumbers
from babel.dates import get_timezone, get_timezone_location
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from recall import i18n, spreadsheet
from recall.domain.errors import Unavailable
from recall.domain.zones import known_zone
from recall.filenames import file_part
from recall.fonts import BOLD, FONT, register_fonts
from recall.words import N_, VOCABULARY

PAGE_W, PAGE_H = landscape(A4)
MARGIN = 8 * mm  # wider than the edge office printers cannot print on
# SimpleDocTemplate's frame keeps 6 pt of padding on each side within the margins.
FRAME_PADDING = 6
TABLE_W = PAGE_W - 2 * (MARGIN + FRAME_PADDING)


# (heading, width in mm): the reference and the phone never wrap, since the agent reads them
# out; the callback wraps before its clock; outcome and notes get what is left, to write in.
FIXED_COLUMNS = (
    ("#", 8), (N_("Reference"), 31.5), (N_("Customer"), 28), (N_("Phone"), 29.5),
    (N_("Lang."), 11), (N_("Qty"), 8), (N_("Lots"), 23), (N_("Last purchase"), 19.5),
    (N_("Tries"), 12), (N_("Callback"), 29), (N_("Status"), 21), (N_("Outcome"), 26),
)  # fmt: skip
NOTES = (N_("Notes"), TABLE_W / mm - sum(width for _, width in FIXED_COLUMNS))
COLUMNS = (*FIXED_COLUMNS, NOTES)
CSV_HEADER = (
    "position", "case_ref", "customer", "phone", "language", "quantity", "lots",
    "last_purchase", "attempts", "callback_at", "status", "outcome", "notes",
)  # fmt: skip
HANDWRITING = 8 * mm  # the least row height a pen needs in the outcome and notes cells
GREY = colors.Color(0.35, 0.35, 0.35)
STRIPE = colors.Color(0.95, 0.95, 0.95)
NOTHING_TO_CALL = N_("Nothing to call: no cases are assigned to this agent.")


class SheetError(Unavailable):
    """A call sheet could not be written."""


@dataclass(frozen=True)
class SheetRow:
    position: int  # 1-based order in the agent's list
    case_ref: str
    customer: str
    phone: str  # E.164
    language: str
    quantity: int
    lots: str
    last_purchase: dt.date
    attempts: int  # unanswered calls so far
    callback_at: dt.datetime | None  # when the customer asked to be called back
    status: str
    call_zone: str | None = None  # the customer's clock; None: the sheet's own


@dataclass(frozen=True)
class SheetFiles:
    pdf: Path
    csv: Path
    rows: int


@dataclass(frozen=True)
class _Heading:
    recall_id: str
    recall_title: str
    agent_id: str
    agent_name: str
    generated_at: dt.datetime
    hotline: str
    cases: int
    language: str
    zone: str  # the agent's clock


def write_call_sheet(
    *,
    rows: Sequence[SheetRow],
    recall_id: str,
    recall_title: str,
    agent_id: str,
    agent_name: str,
    out_dir: Path,
    fonts_dir: Path,
    generated_at: dt.datetime,
    hotline: str = "",
    language: str = "fr",
    zone: str = "Europe/Paris",
) -> SheetFiles:
    """Write `<recall_id>-<agent_id>.pdf` (in `language`, times on the agent's clock, `zone`,
    and callbacks on the customer's) and `.csv` in out_dir, rows in the given order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{file_part(recall_id)}-{file_part(agent_id)}"
    zone = zone if known_zone(zone) else "Europe/Paris"
    heading = _Heading(
        recall_id=recall_id, recall_title=recall_title, agent_id=agent_id,
        agent_name=agent_name, generated_at=generated_at, hotline=hotline, cases=len(rows),
        language=i18n.language_or(language, "fr"), zone=zone,
    )  # fmt: skip
    pdf, sheet = out_dir / f"{stem}.pdf", out_dir / f"{stem}.csv"
    with _atomic(pdf) as part:
        _write_pdf(part, heading, rows, fonts_dir)
    with _atomic(sheet) as part:
        _write_csv(part, rows, zone)
    return SheetFiles(pdf=pdf, csv=sheet, rows=len(rows))


@contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """A temporary name beside `path`, renamed to `path` only when the block succeeds."""
    part = path.with_name(path.name + ".part")
    try:
        yield part
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


def _write_csv(path: Path, rows: Sequence[SheetRow], zone: str) -> None:
    # The BOM makes Excel read the file as UTF-8, so accented names open right.
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = spreadsheet.writer(out)
        writer.writerow(CSV_HEADER)
        writer.writerows(_csv_values(row, zone) for row in rows)


def _csv_values(row: SheetRow, zone: str) -> tuple[object, ...]:
    return (
        row.position, row.case_ref, row.customer, row.phone, row.language, row.quantity,
        row.lots, row.last_purchase.isoformat(), row.attempts, _local(row, zone), row.status,
        "", "",
    )  # fmt: skip


def _clock(row: SheetRow, zone: str) -> str:
    """The customer's clock: their zone when it is known, else the sheet's."""
    return row.call_zone if row.call_zone and known_zone(row.call_zone) else zone


def _local(row: SheetRow, zone: str) -> str:
    """The callback on the customer's clock, for machines: "2026-11-24 14:30 Europe/Paris"."""
    if not row.callback_at:
        return ""
    name = _clock(row, zone)
    return f"{row.callback_at.astimezone(ZoneInfo(name)):%Y-%m-%d %H:%M} {name}"


def _city(zone: str, language: str) -> str:
    return get_timezone_location(get_timezone(zone), locale=language, return_city=True)


def _write_pdf(path: Path, heading: _Heading, rows: Sequence[SheetRow], fonts: Path) -> None:
    try:
        register_fonts(str(fonts))
        doc = SimpleDocTemplate(
            str(path), pagesize=(PAGE_W, PAGE_H), leftMargin=MARGIN, rightMargin=MARGIN,
            topMargin=MARGIN, bottomMargin=14 * mm, invariant=1, title=_title(heading),
            author=heading.agent_name, initialFontName=FONT,
        )  # fmt: skip
        footer = f"{heading.recall_id} · {heading.agent_id} {heading.agent_name}"
        _ = i18n.gettext_for(heading.language)
        page = _("page %(number)s / %(total)s")
        doc.build(_story(heading, rows),
                  canvasmaker=partial(_NumberedCanvas, footer=footer, page=page))  # fmt: skip
    except Exception as exc:
        raise SheetError(f"call sheet {path.name} can't be drawn: {exc}") from exc


def _style(size: float, bold: bool = False, **more: Any) -> ParagraphStyle:
    return ParagraphStyle("call-sheet", fontName=BOLD if bold else FONT, fontSize=size, **more)


def _title(heading: _Heading) -> str:
    _ = i18n.gettext_for(heading.language)
    return _("%(recall)s %(title)s: calls for %(agent)s") % {
        "recall": heading.recall_id, "title": heading.recall_title, "agent": heading.agent_name,
    }  # fmt: skip


def _story(heading: _Heading, rows: Sequence[SheetRow]) -> list[Flowable]:
    story: list[Flowable] = _heading(heading)
    if not rows:
        said = i18n.gettext_for(heading.language)(NOTHING_TO_CALL)
        return [*story, Paragraph(escape(said), _style(12, leading=16))]
    return [*story, _table(rows, heading)]


def _heading(heading: _Heading) -> list[Flowable]:
    _ = i18n.gettext_for(heading.language)
    ngettext = i18n.ngettext_for(heading.language)
    when = i18n.moment(heading.generated_at, heading.zone, heading.language)
    clock = _("your time (%(city)s)") % {"city": _city(heading.zone, heading.language)}
    facts = [
        _("Agent %(id)s: %(name)s") % {"id": heading.agent_id, "name": heading.agent_name},
        ngettext("%(num)d case", "%(num)d cases", heading.cases) % {"num": heading.cases},
        _("printed %(when)s, %(clock)s") % {"when": when, "clock": clock},
    ]
    if heading.hotline:
        facts.append(_("hotline %(number)s") % {"number": heading.hotline})
    title = f"{heading.recall_id} · {heading.recall_title}"
    return [
        Paragraph(escape(title), _style(14, bold=True, leading=18)),
        Paragraph(escape("   ·   ".join(facts)), _style(9.5, leading=13, textColor=GREY)),
        Spacer(1, 4 * mm),
    ]


def _table(rows: Sequence[SheetRow], heading: _Heading) -> LongTable:
    head = _style(7.5, bold=True, leading=9)
    _ = i18n.gettext_for(heading.language)
    data = [[Paragraph(escape(_(name)), head) for name, _width in COLUMNS]]
    data += [_cells(row, heading) for row in rows]
    table = LongTable(data, colWidths=[width * mm for _, width in COLUMNS], repeatRows=1)
    table.setStyle(_TABLE_STYLE)
    return table


def _cells(row: SheetRow, heading: _Heading) -> list[Any]:
    text, language = _style(8, leading=10), heading.language
    status = i18n.gettext_for(language)(VOCABULARY["status"].get(row.status, row.status))
    wrap = [row.customer, row.lots, _callback(row, heading), status]
    customer, lots, callback, said = (Paragraph(escape(value), text) for value in wrap)
    return [
        str(row.position), row.case_ref, customer, reading_phone(row.phone), row.language,
        i18n.number(row.quantity, language), lots, i18n.short_date(row.last_purchase, language),
        i18n.number(row.attempts, language), callback, said, Spacer(1, HANDWRITING), "",
    ]  # fmt: skip


def _callback(row: SheetRow, heading: _Heading) -> str:
    """On the customer's clock, said so: "24 nov. 2026 14:30, heure du client (Paris)"."""
    if not row.callback_at:
        return ""
    zone = _clock(row, heading.zone)
    _ = i18n.gettext_for(heading.language)
    return _("%(time)s, customer's time (%(city)s)") % {
        "time": i18n.moment(row.callback_at, zone, heading.language),
        "city": _city(zone, heading.language),
    }


def reading_phone(e164: str) -> str:
    """The number grouped for reading aloud ("+33 6 12 34 56 78"), or as given if unparsable."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


_TABLE_STYLE = TableStyle(
    [
        ("FONT", (0, 0), (-1, -1), FONT, 8, 10),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 1), (0, -1), "RIGHT"),
        ("ALIGN", (4, 1), (5, -1), "CENTER"),
        ("ALIGN", (8, 1), (8, -1), "CENTER"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.85, 0.85, 0.85)),
        ("ROWBACKGROUNDS", (0, 1), (10, -1), [colors.white, STRIPE]),
        ("GRID", (0, 0), (-1, -1), 0.4, GREY),
        ("LINEBEFORE", (11, 0), (11, -1), 1.2, colors.black),
    ]
)


class _NumberedCanvas(Canvas):
    """Holds pages back until the end so each footer can say "page N / M"."""

    def __init__(self, *args: Any, footer: str, page: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer, self._page = footer, page
        self._held: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._held.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._held)
        for number, state in enumerate(self._held, start=1):
            self.__dict__.update(state)
            self.setFont(FONT, 8)
            self.setFillColor(GREY)
            self.drawString(MARGIN + FRAME_PADDING, 7 * mm, self._footer)
            self.drawRightString(
                PAGE_W - MARGIN - FRAME_PADDING, 7 * mm,
                self._page % {"number": number, "total": total},
            )  # fmt: skip
            super().showPage()
        super().save()
