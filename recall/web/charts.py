"""Small server-rendered SVG charts: no script, no image files, readable in any browser, their
words in the reader's language and their labels never drawn over one another."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from html import escape

from babel.dates import format_skeleton
from markupsafe import Markup

from recall import i18n
from recall.domain.cases import STAGES
from recall.reporting.completion import DayLine, Funnel
from recall.web.report_words import Words

COLOURS = {"identified": "#7d8b96", "notified": "#4f83b8", "contacted": "#e0a400",
           "resolved": "#2f8f4e"}  # fmt: skip
DAILY = ("notified", "contacted", "resolved")
# A generous width of one character, in ems: no label of ours is wider than this says (the
# widest letters of a day's label, "M" of "mai", are narrower), so labels spaced by it never
# touch, whatever the browser's font.
CHAR_EM = 0.7
DAY_FONT = 11  # px
LABEL_GAP = 8  # px between two day labels


def text_width(text: str, size: float) -> float:
    """The most room `text` can take at font size `size` (px)."""
    return len(text) * size * CHAR_EM


def _svg(width: float, height: float, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'style="max-width:100%;height:auto"><title>{escape(title)}</title>'
    )


def bars(
    rows: Sequence[tuple[str, int, str]], *, title: str, language: str, width: int = 480
) -> Markup:
    """Horizontal bars, one per (label, value, colour), scaled to the largest value."""
    top = max((value for _, value, _ in rows), default=0) or 1
    said = [i18n.number(value, language) for _, value, _ in rows]
    label_w = min(max((text_width(label, 13) for label, _, _ in rows), default=0) + 8, width / 2)
    value_w = max((text_width(s, 13) for s in said), default=0) + 8
    height = 26
    parts = [_svg(width, height * len(rows) + 4, title)]
    for i, ((label, value, colour), shown) in enumerate(zip(rows, said, strict=True)):
        y, w = i * height + 2, round((width - label_w - value_w) * value / top)
        parts.append(
            f'<text x="0" y="{y + 17}" font-size="13">{escape(label)}</text>'
            f'<rect x="{label_w:.0f}" y="{y + 3}" width="{w}" height="18" fill="{colour}">'
            f"<title>{escape(label)}: {shown}</title></rect>"
            f'<text x="{label_w + w + 6:.0f}" y="{y + 17}" font-size="13">{shown}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def funnel_chart(funnel: Funnel, words: Words) -> Markup:
    """The cases at each stage of the funnel."""
    _ = i18n.gettext_for(words.language)
    rows = [(words("stage", stage), getattr(funnel, stage), COLOURS[stage]) for stage in STAGES]
    return bars(rows, title=_("Cases at each stage"), language=words.language)


def channel_chart(by_channel: dict[str, Funnel], words: Words) -> Markup:
    """All the cases of each channel at identification, and those resolved."""
    _ = i18n.gettext_for(words.language)
    rows = []
    for channel, funnel in by_channel.items():
        named = words("channel", channel)
        rows.append((_("%(channel)s: all") % {"channel": named}, funnel.identified,
                     COLOURS["identified"]))  # fmt: skip
        rows.append((_("%(channel)s: resolved") % {"channel": named}, funnel.resolved,
                     COLOURS["resolved"]))  # fmt: skip
    title = _("Cases by channel at identification: all, and resolved")
    return bars(rows, title=title, language=words.language)


def every_day(days: Sequence[DayLine]) -> list[DayLine]:
    """The days from the first to the last, those with nothing happening counted as zero."""
    if not days:
        return []
    known = {d.day: d for d in days}
    first, span = days[0].day, (days[-1].day - days[0].day).days + 1
    dates = (first + dt.timedelta(days=i) for i in range(span))
    return [known.get(day) or DayLine(day, 0, 0, 0) for day in dates]


def day_label(day: dt.date, language: str) -> str:
    """A day as a chart's axis says it: "3 déc.", "Dec 3"."""
    return format_skeleton("MMMd", day, locale=language)


def label_places(labels: Sequence[str], left: float, slot: float, width: float) -> list[tuple]:
    """(index, centre x) of the labels to show under columns `slot` wide from `left`: every
    k-th, counted back from the last day, k so that two neighbours never touch, each kept
    within the chart; one that would still touch its neighbour (at an edge) is left out."""
    widest = max(text_width(label, DAY_FONT) for label in labels)
    k = max(1, math.ceil((widest + LABEL_GAP) / slot))
    places: list[tuple] = []
    limit = width
    for i in range(len(labels) - 1, -1, -k):
        half = text_width(labels[i], DAY_FONT) / 2
        centre = min(max(left + (i + 0.5) * slot, half + 1), width - half - 1)
        if centre + half <= limit:
            places.append((i, centre))
            limit = centre - half - LABEL_GAP
    return places[::-1]


def day_chart(
    days: Sequence[DayLine], words: Words, *, width: int = 480, height: int = 180
) -> Markup:
    """Columns per day: the cases first notified, contacted and resolved that day, one column
    in front of the other (the widest at the back), so any number of days fits."""
    _ = i18n.gettext_for(words.language)
    shown = every_day(days)
    if not shown:
        nothing = _("Nothing has happened yet.")
        return Markup(f'<p class="muted">{escape(nothing)}</p>')
    top = max(max(d.notified, d.contacted, d.resolved) for d in shown) or 1
    left, language = 44.0, words.language
    slot = min((width - left - 8) / len(shown), 60)
    title = _("Cases first notified, contacted and resolved each day, from %(first)s to %(last)s")
    title %= {"first": i18n.long_date(shown[0].day, language),
              "last": i18n.long_date(shown[-1].day, language)}  # fmt: skip
    parts = [_svg(width, height + 58, title),
             f'<text x="0" y="20" font-size="{DAY_FONT}">{i18n.number(top, language)}</text>',
             f'<line x1="{left}" y1="{height + 15}" x2="{width - 8}" y2="{height + 15}" '
             'stroke="#999"/>']  # fmt: skip
    labels = [day_label(d.day, language) for d in shown]
    for i, day in enumerate(shown):
        parts += _columns(day, labels[i], left + i * slot, slot, height, top, words)
    for i, centre in label_places(labels, left, slot, width):
        parts.append(
            f'<text class="day-label" x="{centre:.1f}" y="{height + 30}" font-size="{DAY_FONT}" '
            f'text-anchor="middle">{escape(labels[i])}</text>'
        )
    parts += _legend(words, y=height + 50)
    parts.append("</svg>")
    return Markup("".join(parts))


def _columns(
    day: DayLine, label: str, x: float, slot: float, height: int, top: int, words: Words
) -> list[str]:
    _ = i18n.gettext_for(words.language)
    parts = []
    for j, stage in enumerate(DAILY):
        value = getattr(day, stage)
        h, w = round(height * value / top), max(slot * (0.85 - 0.3 * j), 0.5)
        said = _("%(day)s, %(what)s: %(count)s") % {
            "day": label, "what": words("stage", stage), "count": i18n.number(value, words.language)
        }  # fmt: skip
        parts.append(
            f'<rect x="{x + (slot - w) / 2:.2f}" y="{height - h + 15}" width="{w:.2f}" '
            f'height="{h}" fill="{COLOURS[stage]}"><title>{escape(said)}</title></rect>'
        )
    return parts


def _legend(words: Words, *, y: int) -> list[str]:
    parts, x = [], 44.0
    for stage in DAILY:
        name = words("stage", stage)
        parts.append(
            f'<rect x="{x:.0f}" y="{y - 9}" width="10" height="10" fill="{COLOURS[stage]}"/>'
            f'<text x="{x + 14:.0f}" y="{y}" font-size="{DAY_FONT}">{escape(name)}</text>'
        )
        x += 14 + text_width(name, DAY_FONT) + 12
    return parts
