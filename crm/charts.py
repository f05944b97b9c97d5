"""General SVG charts drawn by the project itself (no CDN, no JavaScript).

``ladder.charts`` draws bars and funnels; this module adds what other pages
need on top, starting with a line chart of several series over time (the
campaign results' cumulative conversions per variant). Like the bar charts,
each is a labelled ``<svg role="img">`` and the page puts a data table beside
it, so the picture never holds a figure the text does not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
HEIGHT = 280
MARGIN_LEFT = 48
MARGIN_RIGHT = 16
MARGIN_TOP = 16
MARGIN_BOTTOM = 36
LEGEND_ROW = 20
# Distinct hues with at least 4.5:1 contrast on white.
COLOURS = ("#0b5cad", "#a15c00", "#17623a", "#6b3fa0", "#a11d1d", "#55606b")
# Dashes tell the series apart without relying on colour alone (WCAG 1.4.1).
DASHES = ("", "6 4", "2 3", "10 3 2 3", "1 5", "8 8")


@dataclass(frozen=True)
class Series:
    """One line: its label and its (day, value) points in any order."""

    label: str
    points: Sequence[tuple[dt.date, float]] = field(default_factory=tuple)


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _nice_ceiling(value: float) -> float:
    """The smallest 1/2/5×10^k at or above ``value`` (a readable axis top)."""
    if value <= 0:
        return 1.0
    magnitude = 1.0
    while magnitude * 10 <= value:
        magnitude *= 10
    while magnitude > value:
        magnitude /= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def line_chart(
    series: Sequence[Series], *, title: str, chart_id: str, unit: str = ""
) -> SafeString:
    """Lines over a shared date axis, y from zero to a rounded maximum.

    Days run left to right from the earliest to the latest point of any
    series; a series with one point is drawn as a dot. ``chart_id`` names
    the ``<title>`` so ``aria-labelledby`` can point at it; ``unit`` follows
    the axis figures (e.g. "%").
    """
    days = sorted({day for line in series for day, _ in line.points})
    legend_height = LEGEND_ROW * len(series)
    height = HEIGHT + legend_height
    plot_left, plot_right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    plot_top, plot_bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM
    top = _nice_ceiling(
        max((value for line in series for _, value in line.points), default=0)
    )
    span = (days[-1] - days[0]).days if days else 0

    def x_of(day: dt.date) -> float:
        if span == 0:
            return (plot_left + plot_right) / 2
        return plot_left + (plot_right - plot_left) * (day - days[0]).days / span

    def y_of(value: float) -> float:
        return plot_bottom - (plot_bottom - plot_top) * max(value, 0) / top

    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title" '
        'preserveAspectRatio="xMinYMin meet">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
    ]
    # Axes with three gridlines (0, half, top).
    for fraction in (0, 0.5, 1):
        y = y_of(top * fraction)
        parts.append(
            f'<line x1="{plot_left}" y1="{y:.1f}" x2="{plot_right}" y2="{y:.1f}" '
            f'stroke="#d8dde3" stroke-width="1"></line>'
        )
        parts.append(
            f'<text x="{plot_left - 6}" y="{y + 5:.1f}" text-anchor="end" '
            f'font-size="13" fill="#55606b">{_number(top * fraction)}{escape(unit)}</text>'
        )
    if days:
        labels = [(days[0], "start")] + ([(days[-1], "end")] if span else [])
        for day, anchor in labels:
            parts.append(
                f'<text x="{x_of(day):.1f}" y="{plot_bottom + 22}" '
                f'text-anchor="{anchor if span else "middle"}" font-size="13" '
                f'fill="#55606b">{escape(day.isoformat())}</text>'
            )
    for index, line in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        dash = DASHES[index % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        points = sorted(line.points)
        coords = " ".join(f"{x_of(day):.1f},{y_of(value):.1f}" for day, value in points)
        if len(points) > 1:
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{colour}" '
                f'stroke-width="2.5"{dash_attr}></polyline>'
            )
        elif points:
            day, value = points[0]
            parts.append(
                f'<circle cx="{x_of(day):.1f}" cy="{y_of(value):.1f}" r="4" '
                f'fill="{colour}"></circle>'
            )
        legend_y = HEIGHT + index * LEGEND_ROW + 4
        parts.append(
            f'<line x1="{plot_left}" y1="{legend_y + 6}" x2="{plot_left + 28}" '
            f'y2="{legend_y + 6}" stroke="{colour}" stroke-width="2.5"'
            f"{dash_attr}></line>"
        )
        parts.append(
            f'<text x="{plot_left + 36}" y="{legend_y + 11}" font-size="13" '
            f'fill="#1b1f24">{escape(line.label[:60])}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped
