"""Trend charts as SVG drawn on the server: no JavaScript, no chart library, the same picture
in every browser and in a screenshot.

A chart is an image (``role="img"``) whose accessible name says what it shows and how the
latest period compares; every chart on the page has a table with the same figures beside it
(docs/hotspots.md). Colour never carries meaning alone: periods above the usual range are
triangles pointing up, those below point down, the rest are circles, and the band has a
dashed edge as well as its shade.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

if TYPE_CHECKING:
    from app.hotspots.analysis import TrendPoint

# Drawn at about the size it is shown in half the page's width, so its text stays readable.
WIDTH = 460
HEIGHT = 230
LEFT, RIGHT, TOP, BOTTOM = 44, 14, 12, 36


def nice_ceiling(value: float) -> int:
    """The smallest of 1, 2, 3, 4, 5, 6, 8 or 10 times a power of ten at or above ``value``, at
    least 4, so the axis ends on a round number close above the data."""
    value = max(value, 4.0)
    power = 10 ** math.floor(math.log10(value))
    return int(next(step * power for step in (1, 2, 3, 4, 5, 6, 8, 10) if step * power >= value))


def _fmt(x: float) -> str:
    return f"{x:.1f}"


def period_label(point: TrendPoint, unit: str) -> str:
    """ "Week to 25 Nov 2026", "November 2026" or "November 2026 so far"."""
    if unit == "week":
        return f"Week to {point.end.day} {point.end.strftime('%b %Y')}"
    return point.start.strftime("%B %Y") + (" so far" if point.partial else "")


def _tick_label(point: TrendPoint, unit: str) -> str:
    if unit == "week":
        return f"{point.end.day} {point.end.strftime('%b')}"
    return point.start.strftime("%b %Y")


def describe(points: Sequence[TrendPoint], unit: str, subject: str) -> str:
    """The chart's accessible name: what it shows and where the latest period stands."""
    if not points:
        return f"{subject}: no figures"
    last = points[-1]
    text = (
        f"{subject}, {len(points)} {unit}s to {last.end.day} {last.end.strftime('%B %Y')}. "
        f"Latest {unit}: {last.count:,} report{'' if last.count == 1 else 's'}"
    )
    if last.expected is not None and last.low is not None and last.high is not None:
        where = "above" if last.above else "below" if last.below else "within"
        text += f", {where} the usual range of {math.floor(last.low):,} to {math.ceil(last.high):,}"
    above = sum(1 for p in points if p.above)
    return text + f". {above} of the {len(points)} {unit}s were above their usual range."


def trend_chart(points: Sequence[TrendPoint], *, unit: str, subject: str, chart_id: str) -> Markup:
    """An SVG line chart of ``points`` (oldest first) with each period's usual range as a
    shaded band. ``unit`` is "week" or "month"; ``subject`` names what is counted ("Fly-tipping
    reports"). Raises ValueError for another unit."""
    if unit not in ("week", "month"):
        raise ValueError(f"unit must be week or month, not {unit!r}")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_value = nice_ceiling(max([p.count for p in points] + [p.high or 0 for p in points] + [0]))
    n = len(points)

    def x(i: int) -> float:
        return LEFT + (plot_w * (i + 0.5) / n if n else 0)

    def y(v: float) -> float:
        return TOP + plot_h - plot_h * min(v, top_value) / top_value

    parts: list[str] = []
    # Horizontal grid lines and the y axis's labels: 0, a half and the top.
    for tick in (0, top_value // 2, top_value) if top_value % 2 == 0 else (0, top_value):
        ty = y(tick)
        parts.append(
            f'<line class="tellus-trend__grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_fmt(ty)}" y2="{_fmt(ty)}"/>'
        )
        parts.append(
            f'<text class="tellus-trend__tick" x="{LEFT - 6}" y="{_fmt(ty + 4)}" text-anchor="end">{tick:,}</text>'
        )
    # The band, in runs of consecutive periods that have one.
    run: list[int] = []
    runs: list[list[int]] = []
    for i, p in enumerate(points):
        if p.low is not None and p.high is not None:
            run.append(i)
        elif run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    for r in runs:
        upper = [(x(i), y(points[i].high or 0)) for i in r]
        lower = [(x(i), y(points[i].low or 0)) for i in reversed(r)]
        if len(r) == 1:  # a lone period: a short bar rather than an invisible sliver
            (ux, uy), (_, ly) = upper[0], lower[0]
            upper, lower = [(ux - 4, uy), (ux + 4, uy)], [(ux + 4, ly), (ux - 4, ly)]
        ring = " ".join(f"{_fmt(px)},{_fmt(py)}" for px, py in upper + lower)
        parts.append(f'<polygon class="tellus-trend__band" points="{ring}"/>')
    if points:
        line = " ".join(f"{_fmt(x(i))},{_fmt(y(p.count))}" for i, p in enumerate(points))
        parts.append(f'<polyline class="tellus-trend__line" points="{line}"/>')
    for i, p in enumerate(points):
        px, py = x(i), y(p.count)
        if p.above or p.below:
            tip, base = (py - 7, 11) if p.above else (py + 7, -11)
            kind = "above" if p.above else "below"
            shape = (
                f'<path class="tellus-trend__mark tellus-trend__mark--{kind}" '
                f'd="M{_fmt(px)},{_fmt(tip)} l6,{base} h-12 z"/>'
            )
        else:
            shape = f'<circle class="tellus-trend__mark" cx="{_fmt(px)}" cy="{_fmt(py)}" r="3.5"/>'
        parts.append(shape)
    # x labels: the first, the middle and the last period.
    for i in sorted({0, n // 2, n - 1} if n else set()):
        anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
        parts.append(
            f'<text class="tellus-trend__tick" x="{_fmt(x(i))}" y="{HEIGHT - BOTTOM + 22}" text-anchor="{anchor}">'
            f"{escape(_tick_label(points[i], unit))}</text>"
        )
    parts.append(
        f'<line class="tellus-trend__axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_fmt(y(0))}" y2="{_fmt(y(0))}"/>'
    )
    label = escape(describe(points, unit, subject))
    svg = (
        f'<svg class="tellus-trend" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{label}" focusable="false" preserveAspectRatio="xMidYMid meet">'
        f"<title>{label}</title>" + "".join(parts) + "</svg>"
    )
    # Markup is safe here: every text in it is escaped above and the rest are our numbers.
    return Markup(svg)  # noqa: S704
