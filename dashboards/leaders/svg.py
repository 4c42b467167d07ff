"""Hand-written inline SVG for the leaders' view: sparklines and the county tile map. Small, no JavaScript,
each figure carries a text alternative (``<title>`` plus ``role="img"``/``aria-label``)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from dashboards.leaders.tilemap import Tile

# Colour scale for scores (low → high), readable in grey print; text on each tile switches for contrast.
_SCALE = ["#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac"]
_DARK = {"#b2182b", "#2166ac"}
_NO_DATA = "#e0e0e0"


def sparkline(values: Sequence[float | None], label: str, *, width: int = 96, height: int = 24) -> str:
    """A line of the key indicator over the periods; gaps (None) break the line. ``label`` is the text alternative."""
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    alt = escape(label)
    head = (
        f'<svg class="spark" role="img" aria-label="{alt}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg"><title>{alt}</title>'
    )
    if not points:
        return head + "</svg>"
    lo = min(v for _, v in points)
    hi = max(v for _, v in points)
    span = (hi - lo) or 1.0
    step = (width - 4) / max(len(values) - 1, 1)

    def xy(i: int, v: float) -> str:
        return f"{2 + i * step:.1f},{height - 2 - (v - lo) / span * (height - 4):.1f}"

    runs: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            runs.append([])
        else:
            runs[-1].append(xy(i, v))
    lines = "".join(
        f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{" ".join(r)}"/>' for r in runs if r
    )
    last_i, last_v = points[-1]
    cx, cy = xy(last_i, last_v).split(",")
    return head + lines + f'<circle cx="{cx}" cy="{cy}" r="2" fill="currentColor"/></svg>'


def _colour(value: float | None, lo: float, hi: float) -> str:
    if value is None:
        return _NO_DATA
    share = 0.0 if hi == lo else (value - lo) / (hi - lo)
    return _SCALE[min(int(share * len(_SCALE)), len(_SCALE) - 1)]


def tile_map(
    tiles: Sequence[Tile],
    values: dict[str, float | None],
    *,
    caption: str,
    href: str = "unit/{unit_id}.html",
    cell: int = 56,
) -> str:
    """The counties as a grid cartogram coloured by ``values`` (unit id → number); each tile links to its unit page.

    The SVG scales to its container (``viewBox`` only), so it never widens a phone page."""
    cols = max(t.col for t in tiles) + 1
    rows = max(t.row for t in tiles) + 1
    known = [v for v in values.values() if v is not None]
    lo, hi = (min(known), max(known)) if known else (0.0, 0.0)
    alt = escape(caption)
    parts = [
        f'<svg class="tilemap" role="group" aria-label="{alt}" viewBox="0 0 {cols * cell} {rows * cell}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{alt}</title>'
    ]
    for t in tiles:
        value = values.get(t.unit_id)
        fill = _colour(value, lo, hi)
        ink = "#ffffff" if fill in _DARK else "#1a1a1a"
        shown = "—" if value is None else f"{value:.1f}"
        x, y = t.col * cell, t.row * cell
        name = escape(t.name)
        parts.append(
            f'<a href="{escape(href.format(unit_id=t.unit_id))}"><title>{name} {shown}</title>'
            f'<rect x="{x + 1}" y="{y + 1}" width="{cell - 2}" height="{cell - 2}" rx="4" fill="{fill}"/>'
            f'<text x="{x + cell / 2}" y="{y + cell / 2 - 4}" text-anchor="middle" font-size="13" fill="{ink}">'
            f"{escape(t.label)}</text>"
            f'<text x="{x + cell / 2}" y="{y + cell / 2 + 14}" text-anchor="middle" font-size="14" '
            f'font-weight="bold" fill="{ink}">{shown}</text></a>'
        )
    parts.append("</svg>")
    return "".join(parts)


def trend_chart(
    labels: Sequence[str],
    actual: Sequence[float | None],
    expected: Sequence[float | None],
    *,
    label: str,
    fmt,
    width: int = 320,
    height: int = 150,
) -> str:
    """Week-by-week actual (solid, dots) against 序时进度 (dashed). ``label`` is the text alternative (the
    history table under the chart gives every value); ``fmt`` formats an axis value. Scales to its
    container (``viewBox``), so it never widens a phone page."""
    alt = escape(label)
    known = [v for v in (*actual, *expected) if v is not None]
    head = (
        f'<svg class="trend" role="img" aria-label="{alt}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{alt}</title>'
    )
    if not known or not labels:
        return head + "</svg>"
    left, right, top, bottom = 52, 8, 10, 24
    lo, hi = min(min(known), 0.0), max(known)
    span = (hi - lo) or 1.0
    step = (width - left - right) / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return left + i * step

    def y(v: float) -> float:
        return top + (hi - v) / span * (height - top - bottom)

    parts = [head]
    for v in (lo, (lo + hi) / 2, hi):  # three grid lines with their values
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#d5d8dd"/>'
            f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="12" fill="#4a4a4a">'
            f"{escape(fmt(v))}</text>"
        )
    for i in {0, len(labels) - 1}:
        anchor = "start" if i == 0 else "end"
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - 6}" text-anchor="{anchor}" font-size="12" fill="#4a4a4a">'
            f"{escape(labels[i])}</text>"
        )

    def line(values, style: str) -> str:
        runs: list[list[str]] = [[]]
        for i, v in enumerate(values):
            if v is None:
                runs.append([])
            else:
                runs[-1].append(f"{x(i):.1f},{y(v):.1f}")
        return "".join(f'<polyline fill="none" {style} points="{" ".join(r)}"/>' for r in runs if len(r) > 1)

    parts.append(line(expected, 'stroke="#8a4b00" stroke-width="1.5" stroke-dasharray="5 3"'))
    parts.append(line(actual, 'stroke="#0b4f8a" stroke-width="2"'))
    parts += [
        f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="#0b4f8a"/>' for i, v in enumerate(actual) if v is not None
    ]
    parts.append("</svg>")
    return "".join(parts)
