"""Small SVG charts drawn by the project itself (no CDN, no JavaScript).

Each chart is a labelled ``<svg role="img">``; the page puts a data table
beside it for screen readers and export, so the SVG is a picture of figures
that are also available as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BAR_HEIGHT = 34
GAP = 8
LABEL_WIDTH = 180
CHART_WIDTH = 640
PALETTE = ("#0b5cad", "#2f7bc4", "#5295d6", "#76aee2", "#9cc6ec", "#c0dbf3")


@dataclass(frozen=True)
class Bar:
    """One bar: its label, value and the value written beside it."""

    label: str
    value: float
    display: str = ""


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def funnel_chart(bars: Sequence[Bar], *, title: str, chart_id: str) -> SafeString:
    """A funnel: one centred bar per step, width proportional to its value.

    ``chart_id`` names the ``<title>`` so ``aria-labelledby`` can point at it.
    """
    return _chart(bars, title=title, chart_id=chart_id, centred=True)


def bar_chart(bars: Sequence[Bar], *, title: str, chart_id: str) -> SafeString:
    """Horizontal bars from a common left edge, width proportional to value."""
    return _chart(bars, title=title, chart_id=chart_id, centred=False)


def _chart(
    bars: Sequence[Bar], *, title: str, chart_id: str, centred: bool
) -> SafeString:
    plot_width = CHART_WIDTH - LABEL_WIDTH - 90
    height = max(len(bars), 1) * (BAR_HEIGHT + GAP) + GAP
    largest = max((bar.value for bar in bars), default=0) or 1
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {CHART_WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title" '
        'preserveAspectRatio="xMinYMin meet">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
    ]
    for index, bar in enumerate(bars):
        y = GAP + index * (BAR_HEIGHT + GAP)
        width = max(plot_width * (max(bar.value, 0) / largest), 2 if bar.value else 0)
        x = LABEL_WIDTH + ((plot_width - width) / 2 if centred else 0)
        colour = PALETTE[index % len(PALETTE)]
        text_y = y + BAR_HEIGHT / 2 + 5
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{text_y:.1f}" text-anchor="end" '
            f'font-size="14" fill="#1b1f24">{escape(bar.label[:28])}</text>'
        )
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" '
            f'rx="4" fill="{colour}"></rect>'
        )
        parts.append(
            f'<text x="{LABEL_WIDTH + plot_width + 8}" y="{text_y:.1f}" font-size="14" '
            f'fill="#1b1f24">{escape(bar.display or _number(bar.value))}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped
