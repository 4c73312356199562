"""Trend charts drawn on the server as small, accessible SVG (pure: no Django, no database)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from defectdesk.policy.metrics import percent

WIDTH, HEIGHT = 320, 96
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 36, 8, 8, 18


# The text alternative; callers pass translated formats with the same fields.
SUMMARY_TEXTS = {
    "empty": "{label}: no orders in the window from {first} to {last}.",
    "trend": "{label} from {first} to {last}: {start} to {end}; target {sign} {target}.",
}


@dataclass(frozen=True, slots=True)
class TrendPoint:
    day: date
    rate: float | None


@dataclass(frozen=True, slots=True)
class _Plot:
    """Where a chart's points land: the drawing area's left and top edges and size, the value
    at its bottom edge, the values it spans, and how many steps between the first and last day."""

    left: float
    top: float
    width: float
    height: float
    bottom: float
    span: float
    steps: int

    def x(self, i: int) -> float:
        return self.left + self.width * i / self.steps

    def y(self, v: float) -> float:
        return self.top + self.height * (1 - (v - self.bottom) / self.span)


def _segments(rates: Sequence[float | None], plot: _Plot) -> list[list[str]]:
    """The "x,y" coordinates of the line, in runs broken where a day has no rate."""
    segments: list[list[str]] = [[]]
    for i, rate in enumerate(rates):
        if rate is None:
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append(f"{plot.x(i):.1f},{plot.y(rate):.1f}")
    return segments


def trend_svg(
    points: Sequence[TrendPoint],
    *,
    target: float,
    condition: str,
    label: str,
    status: str = "none",
    texts: dict[str, str] | None = None,
) -> str:
    """A line of the daily rate with a dashed target line; text alternative in <title>."""
    rates = [p.rate for p in points if p.rate is not None]
    top = max([target, *rates]) * 1.2 if rates else target * 1.5
    top = top or 1.0
    if condition == "gt":
        low = min([target, *rates]) if rates else target
        bottom = max(0.0, low - (1.0 - low) * 0.5 - 0.02)
        top = 1.0
    else:
        bottom = 0.0
    plot = _Plot(
        PAD_LEFT,
        PAD_TOP,
        WIDTH - PAD_LEFT - PAD_RIGHT,
        HEIGHT - PAD_TOP - PAD_BOTTOM,
        bottom,
        top - bottom or 1.0,
        max(len(points) - 1, 1),
    )
    colour = {"good": "#146c3c", "bad": "#b3261e"}.get(status, "#5b6475")
    line_attrs = f'fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round"'
    segments = _segments([p.rate for p in points], plot)
    lines = "".join(
        f'<polyline points="{" ".join(seg)}" {line_attrs}/>' for seg in segments if len(seg) > 1
    )
    dots = "".join(
        f'<circle fill="{colour}" cx="{seg[0].split(",")[0]}" cy="{seg[0].split(",")[1]}" r="2"/>'
        for seg in segments
        if len(seg) == 1
    )
    ty = plot.y(target)
    first = points[0].day.isoformat() if points else ""
    last = points[-1].day.isoformat() if points else ""
    start_rate = next((p.rate for p in points if p.rate is not None), None)
    end_rate = next((p.rate for p in reversed(points) if p.rate is not None), None)
    sign = "<" if condition == "lt" else ">"
    words = {**SUMMARY_TEXTS, **(texts or {})}
    if start_rate is None or end_rate is None:
        summary = words["empty"].format(label=label, first=first, last=last)
    else:
        summary = words["trend"].format(
            label=label,
            first=first,
            last=last,
            start=percent(start_rate),
            end=percent(end_rate),
            sign=sign,
            target=percent(target),
        )
    axis = 'font-family="system-ui,sans-serif" font-size="10" fill="#545d6e"'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(summary)}" focusable="false">'
        f"<title>{escape(summary)}</title>"
        f'<line stroke="#d9dee7" x1="{PAD_LEFT}" y1="{HEIGHT - PAD_BOTTOM}" '
        f'x2="{WIDTH - PAD_RIGHT}" y2="{HEIGHT - PAD_BOTTOM}"/>'
        f'<line stroke="#1b2231" stroke-dasharray="4 3" x1="{PAD_LEFT}" y1="{ty:.1f}" '
        f'x2="{WIDTH - PAD_RIGHT}" y2="{ty:.1f}"/>'
        f'<text {axis} x="{PAD_LEFT - 4}" y="{ty + 3:.1f}" text-anchor="end">'
        f"{escape(percent(target))}</text>"
        f"{lines}{dots}"
        f'<text {axis} x="{PAD_LEFT}" y="{HEIGHT - 4}">{escape(first[5:])}</text>'
        f'<text {axis} x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 4}" text-anchor="end">'
        f"{escape(last[5:])}</text>"
        "</svg>"
    )


@dataclass(frozen=True, slots=True)
class ChartPoint:
    day: date
    rate: float | None
    numerator: int = 0
    denominator: int = 0


CHART_W, CHART_H = 720, 260
C_LEFT, C_RIGHT, C_TOP, C_BOTTOM = 58, 16, 14, 40
TICKS = 5

# Words of the full chart; callers pass translated formats with the same fields.
CHART_TEXTS = {
    "summary": "{label}, daily from {first} to {last}; target {sign} {target}.",
    "point": "{day}: {rate} ({numerator} / {denominator})",
    "none": "{day}: no orders",
    "target": "target {sign} {target}",
}


def _bounds(rates: list[float], target: float, condition: str) -> tuple[float, float]:
    if condition == "gt":
        low = min([target, *rates])
        bottom = max(0.0, low - max((1.0 - low) * 0.5, 0.02))
        return bottom, 1.0
    return 0.0, max([target, *rates]) * 1.25 or 1.0


def _value_axis(plot: _Plot, text: str) -> list[str]:
    """Gridlines with their values, bottom to top."""
    out = []
    for t in range(TICKS + 1):
        v = plot.bottom + plot.span * t / TICKS
        ty = plot.y(v)
        out.append(
            f'<line stroke="#e6e9ef" x1="{C_LEFT}" y1="{ty:.1f}" x2="{CHART_W - C_RIGHT}" '
            f'y2="{ty:.1f}"/><text {text} x="{C_LEFT - 6}" y="{ty + 4:.1f}" '
            f'text-anchor="end">{escape(percent(v))}</text>'
        )
    return out


def _date_axis(points: Sequence[ChartPoint], plot: _Plot, text: str, base: int) -> list[str]:
    """About six dates, always the first and the last."""
    if not points:
        return []
    out = []
    step = max(1, len(points) // 6)
    shown = sorted({*range(0, len(points), step), len(points) - 1})
    if len(shown) > 1 and shown[-1] - shown[-2] < step / 2:
        shown.pop(-2)
    for i in shown:
        tx = plot.x(i) if len(points) > 1 else C_LEFT + plot.width / 2
        anchor = "start" if i == 0 else "end" if i == len(points) - 1 else "middle"
        out.append(
            f'<line stroke="#8a93a3" x1="{tx:.1f}" y1="{base}" x2="{tx:.1f}" y2="{base + 4}"/>'
            f'<text {text} x="{tx:.1f}" y="{base + 18}" text-anchor="{anchor}">'
            f"{escape(points[i].day.isoformat())}</text>"
        )
    return out


def _markers(
    points: Sequence[ChartPoint],
    plot: _Plot,
    *,
    target: float,
    condition: str,
    words: dict[str, str],
    base: int,
) -> list[str]:
    """A marker a day, red where the rate misses the target, hollow on the axis where the day
    has no orders; its words in its <title>."""
    out = []
    for i, p in enumerate(points):
        day = p.day.isoformat()
        if p.rate is None:
            tip = words["none"].format(day=day)
            out.append(
                f'<circle cx="{plot.x(i):.1f}" cy="{base:.1f}" r="3" fill="#ffffff" '
                f'stroke="#8a93a3"><title>{escape(tip)}</title></circle>'
            )
            continue
        bad = (p.rate >= target) if condition == "lt" else (p.rate <= target)
        tip = words["point"].format(
            day=day, rate=percent(p.rate), numerator=p.numerator, denominator=p.denominator
        )
        out.append(
            f'<circle cx="{plot.x(i):.1f}" cy="{plot.y(p.rate):.1f}" r="3.5" '
            f'fill="{"#b3261e" if bad else "#2457c5"}"><title>{escape(tip)}</title></circle>'
        )
    return out


def chart_svg(
    points: Sequence[ChartPoint],
    *,
    target: float,
    condition: str,
    label: str,
    texts: dict[str, str] | None = None,
) -> str:
    """A metric's daily trend with axes, the target line and one marker a day (its value in
    the marker's <title>, shown on hover); the caller puts the same values in a table."""
    words = {**CHART_TEXTS, **(texts or {})}
    rates = [p.rate for p in points if p.rate is not None]
    bottom, top = _bounds(rates, target, condition)
    plot = _Plot(
        C_LEFT,
        C_TOP,
        CHART_W - C_LEFT - C_RIGHT,
        CHART_H - C_TOP - C_BOTTOM,
        bottom,
        top - bottom or 1.0,
        max(len(points) - 1, 1),
    )
    sign = "<" if condition == "lt" else ">"
    first = points[0].day.isoformat() if points else ""
    last = points[-1].day.isoformat() if points else ""
    summary = words["summary"].format(
        label=label, first=first, last=last, sign=sign, target=percent(target)
    )
    text = 'font-family="system-ui,sans-serif" font-size="11" fill="#545d6e"'
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_W} {CHART_H}" '
        f'class="trend-chart" role="img" aria-label="{escape(summary)}">',
        f"<title>{escape(summary)}</title>",
        *_value_axis(plot, text),
    ]
    base = CHART_H - C_BOTTOM
    out.append(
        f'<line stroke="#8a93a3" x1="{C_LEFT}" y1="{C_TOP}" x2="{C_LEFT}" y2="{base}"/>'
        f'<line stroke="#8a93a3" x1="{C_LEFT}" y1="{base}" x2="{CHART_W - C_RIGHT}" y2="{base}"/>'
    )
    out += _date_axis(points, plot, text, base)
    ty = plot.y(target)
    target_text = words["target"].format(sign=sign, target=percent(target))
    out.append(
        f'<line stroke="#1b2231" stroke-dasharray="5 4" x1="{C_LEFT}" y1="{ty:.1f}" '
        f'x2="{CHART_W - C_RIGHT}" y2="{ty:.1f}"><title>{escape(target_text)}</title></line>'
        f'<text {text} x="{CHART_W - C_RIGHT}" y="{ty - 5:.1f}" text-anchor="end">'
        f"{escape(target_text)}</text>"
    )
    # The line, broken where a day has no orders, then the markers over it.
    out.extend(
        f'<polyline points="{" ".join(seg)}" fill="none" stroke="#2457c5" stroke-width="2" '
        'stroke-linejoin="round"/>'
        for seg in _segments([p.rate for p in points], plot)
        if len(seg) > 1
    )
    out += _markers(points, plot, target=target, condition=condition, words=words, base=base)
    out.append("</svg>")
    return "".join(out)
