"""Line charts as inline SVG: no library, no download, readable in any browser and in a diff."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

from boxoffice.bench.stats import nice_step

COLOURS = {
    "DB": "#1f77b4",
    "REDIS": "#d62728",
    "ATOMIC": "#2ca02c",
    "pgbench-ATOMIC": "#111111",
    "pgbench-DB": "#7f7f7f",
    "asyncpg-ATOMIC": "#9467bd",
    "asyncpg-DB": "#c5b0d5",
}
SPARE = ("#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
WIDTH, HEIGHT = 760, 330
LEFT, RIGHT, TOP, BOTTOM = 64, 190, 34, 46
"""Margins: axis labels left and below, the legend on the right."""


@dataclass
class Series:
    name: str
    points: list[tuple[float, float]]
    dashed: bool = False
    legend: str | None = None
    """Legend text when it should say more than the name (which also picks the colour)."""


@dataclass
class Chart:
    title: str
    x_label: str
    y_label: str
    series: list[Series]
    log_x: bool = False
    references: list[tuple[str, float]] = field(default_factory=list)
    """Horizontal dashed lines (name, y), e.g. a throughput limit."""


def colour(name: str, index: int) -> str:
    return COLOURS.get(name, SPARE[index % len(SPARE)])


def linear_ticks(low: float, high: float, count: int = 5) -> list[float]:
    step = nice_step((high - low) / count)
    first = math.floor(low / step) * step
    ticks, k = [], 0
    while first + k * step <= high * (1 + 1e-9):
        ticks.append(round(first + k * step, 10))
        k += 1
    return ticks


def log_ticks(low: float, high: float) -> list[float]:
    """1, 2, 5 in every decade when there are few decades, else the decades alone."""
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    steps = (1, 2, 5) if len(decades) <= 4 else (1,)
    return [m * 10.0**d for d in decades for m in steps if low <= m * 10.0**d <= high]


def label(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}"


def scale(low: float, high: float, start: float, end: float, log: bool) -> Callable[[float], float]:
    if log:
        low, high = math.log10(low), math.log10(high)
    span = (high - low) or 1.0

    def to_pixel(value: float) -> float:
        v = math.log10(value) if log else value
        return start + (v - low) / span * (end - start)

    return to_pixel


def bounds(values: Sequence[float], log: bool) -> tuple[float, float]:
    if log:
        positive = [v for v in values if v > 0] or [1.0]
        low, high = 10 ** math.floor(math.log10(min(positive))), 10 ** math.ceil(math.log10(max(positive)))
        return low, max(high, low * 10)
    high = max(values, default=1.0)
    return 0.0, high * 1.05 if high > 0 else 1.0


def render(chart: Chart) -> str:
    """The chart as an `<svg>` element, sized by viewBox so it scales with the page."""
    xs = [x for s in chart.series for x, _ in s.points]
    ys = [y for s in chart.series for _, y in s.points] + [y for _, y in chart.references]
    x_low, x_high = bounds(xs, chart.log_x)
    y_low, y_high = bounds(ys, False)
    plot_right, plot_bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    px = scale(x_low, x_high, LEFT, plot_right, chart.log_x)
    py = scale(y_low, y_high, plot_bottom, TOP, False)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(chart.title)}" font-family="system-ui, sans-serif" font-size="11">',
        f'<text x="{LEFT}" y="20" font-size="13" font-weight="600">{escape(chart.title)}</text>',
    ]
    for tick in log_ticks(x_low, x_high) if chart.log_x else linear_ticks(x_low, x_high):
        x = px(tick)
        out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{plot_bottom}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{x:.1f}" y="{plot_bottom + 14}" text-anchor="middle">{label(tick)}</text>')
    for tick in linear_ticks(y_low, y_high):
        y = py(tick)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{plot_right}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{label(tick)}</text>')
    box = f'width="{plot_right - LEFT}" height="{plot_bottom - TOP}"'
    out.append(f'<rect x="{LEFT}" y="{TOP}" {box} fill="none" stroke="#999"/>')
    out.append(
        f'<text x="{(LEFT + plot_right) / 2}" y="{HEIGHT - 10}" text-anchor="middle">{escape(chart.x_label)}</text>'
    )
    out.append(
        f'<text transform="translate(14 {(TOP + plot_bottom) / 2}) rotate(-90)" text-anchor="middle">'
        f"{escape(chart.y_label)}</text>"
    )
    legend: list[tuple[str, str, bool]] = []
    for index, s in enumerate(chart.series):
        stroke = colour(s.name, index)
        points = " ".join(f"{px(max(x, x_low)):.1f},{py(y):.1f}" for x, y in s.points)
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        out.append(f'<polyline points="{points}" fill="none" stroke="{stroke}" stroke-width="1.8"{dash}/>')
        legend.append((s.legend or s.name, stroke, s.dashed))
    for index, (name, value) in enumerate(chart.references):
        stroke = colour(name, index)
        y = py(value)
        out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{plot_right}" y2="{y:.1f}" stroke="{stroke}" '
            'stroke-width="1.5" stroke-dasharray="6 4"/>'
        )
        legend.append((f"{name} {value:,.0f}", stroke, True))
    for index, (name, stroke, dashed) in enumerate(legend):
        y = TOP + 8 + index * 18
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        out.append(
            f'<line x1="{plot_right + 12}" y1="{y}" x2="{plot_right + 36}" y2="{y}" stroke="{stroke}" '
            f'stroke-width="2"{dash}/>'
        )
        out.append(f'<text x="{plot_right + 42}" y="{y + 4}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out)
