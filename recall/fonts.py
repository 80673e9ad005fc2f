"""The fonts every PDF of ours embeds (letters, posters, call sheets, progress reports).

DejaVu Sans prints accents, apostrophes and the euro sign; it is registered with ReportLab
once per process, under one pair of names, as a family so that <b> in a paragraph works.
"""

from __future__ import annotations

import os
from functools import cache

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from recall.domain.errors import Unavailable

FONT, BOLD = "RecallSans", "RecallSans-Bold"


class FontsMissing(Unavailable):
    """The fonts folder lacks a font file, or holds one ReportLab can't read."""


@cache
def register_fonts(folder: str) -> None:
    """Embed the project's TTF fonts from `folder`, once per process."""
    try:
        pdfmetrics.registerFont(TTFont(FONT, os.path.join(folder, "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, os.path.join(folder, "DejaVuSans-Bold.ttf")))
    except Exception as exc:
        raise FontsMissing(f"fonts in {folder} can't be loaded: {exc}") from exc
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)
