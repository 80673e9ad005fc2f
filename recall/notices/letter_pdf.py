"""ReportLab adapter: print-ready letter batches and in-store posters.

A letter page is mostly the same for every customer of a recall (header, title, risk,
remedies, signature). Those sections are drawn once per batch file as PDF form XObjects and
placed on each page; only the address, the opening paragraph, the answer block and the QR
code are drawn per letter. That keeps a batch fast to render and small on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from reportlab import rl_config
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from recall import fonts
from recall.domain.errors import Unavailable
from recall.fonts import BOLD, FONT
from recall.notices import qr
from recall.notices import text as markup
from recall.notices.templates import Template

PAGE_W, PAGE_H = A4
LEFT = 20 * mm
WIDTH = PAGE_W - 40 * mm
BOTTOM = 22 * mm
RED = Color(0.72, 0.07, 0.09)
GREY = Color(0.35, 0.35, 0.35)
# The window of a DL window envelope (ISO 269 DL, 110 x 220 mm; window 45 x 100 mm, 20 mm from
# the right edge and 15 mm from the bottom, La Poste's usual layout), the A4 sheet folded in
# three resting against the envelope's top and right edges: its left, top, right and bottom on
# the page, from the page's top-left corner. The address keeps clear of the window's edges
# by the sheet's slack in the envelope.
WINDOW = (90 * mm, 50 * mm, 190 * mm, 95 * mm)
WINDOW_QUIET = 5 * mm
ADDRESS_SIZE, ADDRESS_LEADING = 10.0, 1.2  # points; leading as a multiple of the size
QR_SIZE = 26 * mm
PICTURE_W, PICTURE_H = 40 * mm, 30 * mm
POSTER_PHOTO = 55 * mm  # the product photo on a poster: a square it fits in


rl_config.useA85 = 0  # binary streams: smaller files, no base-85 pass over every page


class RenderError(Unavailable):
    """A letter or poster could not be drawn."""


def register_fonts(folder: str) -> None:
    """The shared fonts, their failure said as a drawing one."""
    try:
        fonts.register_fonts(folder)
    except fonts.FontsMissing as exc:
        raise RenderError(str(exc)) from exc


# Bounded: names and case references are new words on almost every letter.
@lru_cache(maxsize=65_536)
def measure(text: str, bold: bool) -> float:
    """Width of `text` at font size 1."""
    return pdfmetrics.stringWidth(text, BOLD if bold else FONT, 1.0)


@dataclass(frozen=True)
class Style:
    size: float
    leading: float
    heading_size: float
    gap: float  # between paragraphs
    force_bold: bool = False


LETTER_TEXT = Style(size=9.6, leading=12.6, heading_size=10.6, gap=5.0)
LETTER_TITLE = Style(size=15, leading=19, heading_size=15, gap=4, force_bold=True)


@dataclass
class LetterPage:
    """What one letter needs beyond its template: the personal fields, already formatted."""

    case_ref: str
    language: str
    address: list[str]
    context: dict[str, Any]
    qr: str = ""  # the QR code's text: the self-service link, else the case reference


class Flow:
    """Draws blocks of marked-up text down the page, starting new pages as needed."""

    def __init__(self, canvas: Canvas, style: Style) -> None:
        self.canvas, self.style = canvas, style

    @staticmethod
    def height(laid: list[tuple[Any, float]]) -> float:
        return sum(h for _, h in laid)

    def draw(self, laid: list[tuple[Any, float]], x: float, top: float) -> float:
        """Draw laid-out blocks at (x, top) going down; return the y below the text."""
        y = top
        text = self.canvas.beginText()
        for item, _height in laid:
            if item is None:
                y -= self.style.gap
                continue
            kind, lines, size = item
            indent = 4 * mm if kind == "bullet" else 0.0
            y -= 3 if kind == "heading" else 0
            for number, line in enumerate(lines):
                y -= self.style.leading
                if kind == "bullet" and number == 0:
                    text.setTextOrigin(x, y)
                    text.setFont(FONT, size)
                    text.textOut("•")
                text.setTextOrigin(x + indent, y)
                for words, bold in line:
                    text.setFont(BOLD if bold else FONT, size)
                    text.textOut(words)
        self.canvas.drawText(text)
        return y

    def layout(self, blocks: list[markup.Block], width: float) -> list[tuple[Any, float]]:
        """Blocks wrapped to `width`, each with its height."""
        out: list[tuple[Any, float]] = []
        style = self.style
        for block in blocks:
            if block.kind == "gap":
                out.append((None, style.gap))
                continue
            size = style.heading_size if block.kind == "heading" else style.size
            indent = 4 * mm if block.kind == "bullet" else 0.0
            runs = tuple((t, True) for t, _ in block.runs) if style.force_bold else block.runs
            lines = markup.wrap(runs, width - indent, size, measure)
            extra = 3 if block.kind == "heading" else 0
            out.append(((block.kind, lines, size), len(lines) * style.leading + extra))
        return out


class LetterBatchWriter:
    """One batch file of letters; static sections become forms shared by every page."""

    def __init__(self, path: Path, *, title: str, sender: list[str], footer: str) -> None:
        self.path = path
        self.canvas = Canvas(str(path), pagesize=A4, invariant=1, pageCompression=1)
        self.canvas.setTitle(title)
        self.canvas.setAuthor(sender[0])
        self.sender, self.footer = sender, footer
        self.forms: dict[tuple[str, str], float] = {}  # (language, section) -> height
        self.flow = Flow(self.canvas, LETTER_TEXT)
        self.page = 0

    def add(self, template: Template, letter: LetterPage) -> tuple[int, int]:
        """Draw one letter; return (its first page in the file, its number of pages)."""
        first = self.page + 1
        self._new_page()
        self._address(letter.address)
        self._meta(letter)
        top = PAGE_H - 103 * mm
        y = top
        for name in ("title", "subject", "opening", "body", "answer", "signature"):
            y = self._section(template, name, letter, y)
            if name == "subject" and letter.context.get("image"):  # text below the photo
                y = min(y, top - PICTURE_H - 6 * mm)
        self.canvas.showPage()
        return first, self.page - first + 1

    def close(self) -> int:
        self.canvas.save()
        return self.page

    def _new_page(self) -> None:
        self.page += 1
        self._static("", "header", self._draw_header, PAGE_H - 12 * mm)
        self._static("", "footer", self._draw_footer, BOTTOM - 6 * mm)

    def _section(self, template: Template, name: str, letter: LetterPage, y: float) -> float:
        section = template.sections[name]
        picture = letter.context.get("image") or ""
        width = WIDTH - (QR_SIZE + 6 * mm if name == "answer" else 0)
        width -= PICTURE_W + 4 * mm if picture and name in ("title", "subject") else 0
        if section.personal:
            laid = self.flow.layout(markup.parse(template.render(name, letter.context)), width)
            height = self.flow.height(laid)
            if name != "answer":
                return self.flow.draw(laid, LEFT, self._room(y, height)) - 8
            y = self._room(y, max(height, QR_SIZE + 10))
            self._qr(letter.qr or letter.case_ref, LEFT + WIDTH - QR_SIZE, y - 2)
            return min(self.flow.draw(laid, LEFT, y), y - QR_SIZE - 12) - 8
        key = (template.language, name)
        if key not in self.forms:
            blocks = markup.parse(template.render(name, letter.context))
            self.forms[key] = self._form(
                f"{template.language}-{name}", blocks, width, name, picture
            )
        height = self.forms[key]
        y = self._room(y, height)
        self.canvas.saveState()
        self.canvas.translate(LEFT, y - height)
        self.canvas.doForm(f"{template.language}-{name}")
        self.canvas.restoreState()
        return y - height - 8

    def _form(
        self, name: str, blocks: list[markup.Block], width: float, section: str, picture: str
    ) -> float:
        """Draw a section that is the same in every letter once, as a form; return its height."""
        title = section == "title"
        flow = Flow(self.canvas, LETTER_TITLE if title else LETTER_TEXT)
        laid = flow.layout(blocks, width)
        height = flow.height(laid) + (6 if title else 0)
        low = min(-4.0, height - PICTURE_H) if title and picture else -4.0  # descenders
        self.canvas.beginForm(name, 0, low, WIDTH, max(height, 1))
        self.canvas.setFillColor(RED if title else black)
        flow.draw(laid, 0, height)
        if title:
            self.canvas.setStrokeColor(RED)
            self.canvas.setLineWidth(1.2)
            self.canvas.line(0, 1, width, 1)
            if picture:
                self._picture(picture, WIDTH - PICTURE_W, height - PICTURE_H)
        self.canvas.endForm()
        return height

    def _picture(self, path: str, x: float, y: float) -> None:
        """The product's photo, whole, in its box (no photo given, no box at all)."""
        try:
            self.canvas.drawImage(path, x, y, PICTURE_W, PICTURE_H, preserveAspectRatio=True,
                                  anchor="c", mask="auto")  # fmt: skip
        except (OSError, ValueError) as exc:
            raise RenderError(f"the product photo {path} can't be drawn: {exc}") from exc

    def _static(self, language: str, name: str, draw: Any, y: float) -> None:
        key = (language, name)
        if key not in self.forms:
            self.canvas.beginForm(name, 0, -40 * mm, PAGE_W, 20 * mm)
            draw()
            self.canvas.endForm()
            self.forms[key] = 0
        self.canvas.saveState()
        self.canvas.translate(0, y)
        self.canvas.doForm(name)
        self.canvas.restoreState()

    def _draw_header(self) -> None:
        c = self.canvas
        c.setFillColor(RED)
        c.setFont(BOLD, 14)
        c.drawString(LEFT, -4, self.sender[0])
        c.setFillColor(GREY)
        c.setFont(FONT, 8.5)
        for number, line in enumerate(self.sender[1:], start=1):
            c.drawString(LEFT, -4 - number * 11, line)

    def _draw_footer(self) -> None:
        c = self.canvas
        c.setFillColor(GREY)
        c.setFont(FONT, 7.5)
        c.drawCentredString(PAGE_W / 2, 0, self.footer)

    def _address(self, lines: list[str]) -> None:
        left, top, right, _ = WINDOW
        room = right - left - 2 * WINDOW_QUIET
        widest = max((measure(line, False) for line in lines), default=1.0)
        size = min(ADDRESS_SIZE, room / widest)  # 38 wide capitals (W, M) get a smaller size
        text = self.canvas.beginText(left + WINDOW_QUIET, PAGE_H - top - WINDOW_QUIET - size)
        text.setFont(FONT, size)
        text.setLeading(size * ADDRESS_LEADING)
        for line in lines:  # at most 7: the block was checked when the letter was planned
            text.textLine(line)
        self.canvas.drawText(text)

    def _meta(self, letter: LetterPage) -> None:
        c = self.canvas
        c.setFillColor(black)
        c.setFont(FONT, 9.5)
        # Above the window's top: nothing but the address may show through it.
        c.drawString(LEFT, PAGE_H - 38 * mm, letter.context["letter_line"])
        c.setFont(BOLD, 9.5)
        c.drawString(LEFT, PAGE_H - 44 * mm, letter.context["reference_line"])

    def _room(self, y: float, height: float) -> float:
        """Start a new page when the next block would run into the footer."""
        if y - height >= BOTTOM:
            return y
        self.canvas.showPage()
        self._new_page()
        return PAGE_H - 30 * mm

    def _qr(self, payload: str, x: float, top: float) -> None:
        draw_qr(self.canvas, payload, x, top - QR_SIZE, QR_SIZE)
        self.canvas.setFont(FONT, 7)
        self.canvas.drawCentredString(x + QR_SIZE / 2, top - QR_SIZE - 8, payload)


def draw_qr(canvas: Canvas, payload: str, x: float, y: float, size: float) -> None:
    """A QR code of `payload`, drawn as a one-bit inline image with a quiet zone.

    One image operator per code: drawing hundreds of rectangles cost more than the letter.
    """
    rows = qr.matrix(payload)
    quiet = 2
    modules = len(rows) + 2 * quiet
    stride = (modules + 7) // 8
    blank = "ff" * stride
    lines = [blank] * quiet
    for row in rows:
        bits = 0
        for dark in row:
            bits = (bits << 1) | (not dark)  # in DeviceGray 1 is white
        bits = ((((1 << quiet) - 1) << len(row) | bits) << quiet) | ((1 << quiet) - 1)
        bits <<= stride * 8 - modules
        lines.append(f"{bits:0{stride * 2}x}")
    lines += [blank] * quiet
    canvas._code.append(  # no public ReportLab call draws an inline image from raw bits
        f"q {size:.2f} 0 0 {size:.2f} {x:.2f} {y:.2f} cm BI /W {modules} /H {modules} "
        f"/BPC 1 /CS /G /F /AHx ID {''.join(lines)}> EI Q"
    )


def write_poster(path: Path, sections: dict[str, str], footer: str, picture: str = "") -> None:
    """One A4 page in large type: a red banner, the product (beside its photo when there is
    one), the danger and what to do."""
    canvas = Canvas(str(path), pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(sections["title"])
    banner = 42 * mm
    canvas.setFillColor(RED)
    canvas.rect(0, PAGE_H - banner, PAGE_W, banner, stroke=0, fill=1)
    canvas.setFillColor(Color(1, 1, 1))
    canvas.setFont(BOLD, 34)
    canvas.drawCentredString(PAGE_W / 2, PAGE_H - banner / 2 - 12, sections["title"].strip())
    blocks = [markup.parse(sections[name]) for name in ("product", "risk", "action")]
    scale = 1.8
    while True:  # the largest type that fits between the banner and the footer
        styles = [
            Style(22 * scale, 28 * scale, 26 * scale, 8 * scale, force_bold=True),
            Style(17 * scale, 22 * scale, 22 * scale, 6 * scale),
            Style(17 * scale, 22 * scale, 22 * scale, 6 * scale),
        ]
        widths = [WIDTH - (POSTER_PHOTO + 6 * mm if picture else 0), WIDTH, WIDTH]
        laid = [Flow(canvas, s).layout(b, w)
                for s, b, w in zip(styles, blocks, widths, strict=True)]  # fmt: skip
        heights = [Flow.height(one) for one in laid]
        room = PAGE_H - banner - 2 * BOTTOM - 16 * mm
        if sum(heights) + 24 * scale <= room or scale < 0.4:
            break
        scale *= 0.92
    y = PAGE_H - banner - 14 * mm
    if picture:
        _poster_photo(canvas, picture, PAGE_W - LEFT - POSTER_PHOTO, y - POSTER_PHOTO)
    canvas.setFillColor(black)
    for style, one in zip(styles, laid, strict=True):
        y = Flow(canvas, style).draw(one, LEFT, y) - 12 * scale
        y = min(y, PAGE_H - banner - 20 * mm - POSTER_PHOTO) if picture else y
    canvas.setFillColor(GREY)
    canvas.setFont(FONT, 10)
    canvas.drawCentredString(PAGE_W / 2, BOTTOM, footer)
    canvas.showPage()
    canvas.save()


def _poster_photo(canvas: Canvas, path: str, x: float, y: float) -> None:
    try:
        canvas.drawImage(path, x, y, POSTER_PHOTO, POSTER_PHOTO, preserveAspectRatio=True,
                         anchor="c", mask="auto")  # fmt: skip
    except (OSError, ValueError) as exc:
        raise RenderError(f"the product photo {path} can't be drawn: {exc}") from exc
