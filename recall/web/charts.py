"""Small server-rendered SVG charts: no JavaScript, no image files, readable in any browser."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from recall.domain.cases import STAGES
from recall.reporting.completion import DayLine, Funnel

COLOURS = {"identified": "#7d8b96", "notified": "#4f83b8", "contacted": "#e0a400",
           "resolved": "#2f8f4e"}  # fmt: skip


def bars(rows: Sequence[tuple[str, int, str]], *, width: int = 480) -> Markup:
    """Horizontal bars, one per (label, value, colour), scaled to the largest value."""
    top = max((value for _, value, _ in rows), default=0) or 1
    height, label_w = 26, 110
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height * len(rows) + 4}" viewBox="0 0 {width} {height * len(rows) + 4}">'
    ]
    for i, (label, value, colour) in enumerate(rows):
        y, w = i * height + 2, round((width - label_w - 70) * value / top)
        parts.append(
            f'<text x="0" y="{y + 17}" font-size="13">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="18" fill="{colour}">'
            f"<title>{escape(label)}: {value:,}</title></rect>"
            f'<text x="{label_w + w + 6}" y="{y + 17}" font-size="13">{value:,}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def funnel_chart(funnel: Funnel) -> Markup:
    return bars([(stage, getattr(funnel, stage), COLOURS[stage]) for stage in STAGES])


def channel_chart(by_channel: dict[str, Funnel]) -> Markup:
    rows = []
    for channel, funnel in by_channel.items():
        rows.append((f"{channel}: all", funnel.identified, COLOURS["identified"]))
        rows.append((f"{channel}: resolved", funnel.resolved, COLOURS["resolved"]))
    return bars(rows)


def day_chart(days: Sequence[DayLine], *, width: int = 480, height: int = 180) -> Markup:
    """Columns per day: cases first notified, contacted and resolved that day."""
    if not days:
        return Markup('<p class="muted">Nothing has happened yet.</p>')
    shown = list(days)[-30:]
    top = max(max(d.notified, d.contacted, d.resolved) for d in shown) or 1
    slot = min((width - 40) / len(shown), 60)
    bar = max(slot / 3 - 1, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height + 30}" viewBox="0 0 {width} {height + 30}">'
        f'<text x="0" y="12" font-size="11">{top:,}</text>'
    ]
    for i, day in enumerate(shown):
        for j, stage in enumerate(("notified", "contacted", "resolved")):
            value = getattr(day, stage)
            h = round(height * value / top)
            x = 40 + i * slot + j * (bar + 1)
            parts.append(
                f'<rect x="{x:.1f}" y="{height - h + 15}" width="{bar:.1f}" height="{h}" '
                f'fill="{COLOURS[stage]}"><title>{day.day}: {value:,} {stage}</title></rect>'
            )
    parts.append(f'<text x="40" y="{height + 28}" font-size="11">{shown[0].day}</text>')
    if len(shown) > 1:
        parts.append(
            f'<text x="{40 + len(shown) * slot:.0f}" y="{height + 28}" font-size="11" '
            f'text-anchor="end">{shown[-1].day}</text>'
        )
    for j, stage in enumerate(("notified", "contacted", "resolved")):  # the legend
        x = width - 95
        parts.append(
            f'<rect x="{x}" y="{4 + j * 16}" width="10" height="10" fill="{COLOURS[stage]}"/>'
            f'<text x="{x + 14}" y="{13 + j * 16}" font-size="11">{stage}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
