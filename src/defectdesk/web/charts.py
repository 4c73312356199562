"""Trend charts drawn on the server as small, accessible SVG (pure: no Django, no database)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

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


def _pct(value: float) -> str:
    text = f"{value * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


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
    span = top - bottom or 1.0
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    n = max(len(points) - 1, 1)

    def x(i: int) -> float:
        return PAD_LEFT + inner_w * i / n

    def y(v: float) -> float:
        return PAD_TOP + inner_h * (1 - (v - bottom) / span)

    colour = {"good": "#146c3c", "bad": "#b3261e"}.get(status, "#5b6475")
    line_attrs = f'fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round"'
    segments: list[list[str]] = [[]]
    for i, point in enumerate(points):
        if point.rate is None:
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append(f"{x(i):.1f},{y(point.rate):.1f}")
    lines = "".join(
        f'<polyline points="{" ".join(seg)}" {line_attrs}/>' for seg in segments if len(seg) > 1
    )
    dots = "".join(
        f'<circle fill="{colour}" cx="{seg[0].split(",")[0]}" cy="{seg[0].split(",")[1]}" r="2"/>'
        for seg in segments
        if len(seg) == 1
    )
    ty = y(target)
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
            start=_pct(start_rate),
            end=_pct(end_rate),
            sign=sign,
            target=_pct(target),
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
        f"{escape(_pct(target))}</text>"
        f"{lines}{dots}"
        f'<text {axis} x="{PAD_LEFT}" y="{HEIGHT - 4}">{escape(first[5:])}</text>'
        f'<text {axis} x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 4}" text-anchor="end">'
        f"{escape(last[5:])}</text>"
        "</svg>"
    )
