"""Inline SVG charts rendered on the server: no JavaScript, no CDN, they print and work offline.

Each function returns an ``<svg>`` string that is safe to embed (labels are escaped).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

# Colour-blind-safe palette (Okabe & Ito), cycled per series.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000", "#999999", "#882255")


def _nice_max(value: float) -> float:
    """Round an axis maximum up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def bar_chart(items: Sequence[tuple[str, float]], *, title: str, width: int = 560, bar_h: int = 22,
              color: str = PALETTE[0]) -> str:
    """Horizontal bars, one per ``(label, value)``, in the given order."""
    label_w, pad = 170, 8
    height = pad * 2 + 24 + bar_h * max(len(items), 1)
    top = max((v for _, v in items), default=0)
    scale = (width - label_w - 60) / (top or 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
             f'<text x="{pad}" y="18" class="chart-title">{escape(title)}</text>']
    for i, (label, value) in enumerate(items):
        y = 24 + pad + i * bar_h
        w = max(value * scale, 0)
        parts.append(f'<text x="{label_w - 6}" y="{y + bar_h * 0.65:.1f}" text-anchor="end">{escape(str(label))}</text>'
                     f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{bar_h - 6}" fill="{color}">'
                     f'<title>{escape(str(label))}: {value:g}</title></rect>'
                     f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h * 0.65:.1f}">{value:g}</text>')
    if not items:
        parts.append(f'<text x="{label_w}" y="{24 + pad + bar_h * 0.65}">—</text>')
    parts.append("</svg>")
    return "".join(parts)


def column_chart(items: Sequence[tuple[str, float]], *, title: str, width: int = 560, height: int = 200,
                 color: str = PALETTE[2]) -> str:
    """Vertical columns for an ordered axis (hours, weekdays)."""
    left, bottom, top_pad = 36, 28, 28
    plot_w, plot_h = width - left - 8, height - bottom - top_pad
    ymax = _nice_max(max((v for _, v in items), default=0))
    step = plot_w / max(len(items), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
             f'<text x="8" y="18" class="chart-title">{escape(title)}</text>',
             f'<text x="{left - 4}" y="{top_pad + 4}" text-anchor="end">{ymax:g}</text>',
             f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end">0</text>',
             f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 8}" y2="{top_pad + plot_h}" stroke="#888"/>']
    for i, (label, value) in enumerate(items):
        h = plot_h * value / ymax
        x = left + i * step
        parts.append(f'<rect x="{x + step * 0.1:.1f}" y="{top_pad + plot_h - h:.1f}" width="{step * 0.8:.1f}" '
                     f'height="{h:.1f}" fill="{color}"><title>{escape(str(label))}: {value:g}</title></rect>'
                     f'<text x="{x + step / 2:.1f}" y="{height - 10}" text-anchor="middle" class="tick">'
                     f'{escape(str(label))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def line_chart(x_labels: Sequence[str], series: dict[str, Sequence[float]], *, title: str, width: int = 640,
               height: int = 300) -> str:
    """One line per series over shared x labels (weeks, months), with a legend below."""
    left, top_pad, legend_h = 36, 28, 18 * ((len(series) + 1) // 2)  # two legend columns: Vietnamese labels are long
    bottom = 28 + legend_h
    plot_w, plot_h = width - left - 16, height - bottom - top_pad
    ymax = _nice_max(max((max(v, default=0) for v in series.values()), default=0))
    n = len(x_labels)
    xs = [left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2) for i in range(n)]
    y_of = lambda v: top_pad + plot_h - plot_h * v / ymax  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
             f'<text x="8" y="18" class="chart-title">{escape(title)}</text>',
             f'<text x="{left - 4}" y="{top_pad + 4}" text-anchor="end">{ymax:g}</text>',
             f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end">0</text>',
             f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" stroke="#888"/>']
    for x, label in zip(xs, x_labels):
        parts.append(f'<text x="{x:.1f}" y="{top_pad + plot_h + 16}" text-anchor="middle" class="tick">{escape(label)}</text>')
    for k, (name, values) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)]
        points = " ".join(f"{x:.1f},{y_of(v):.1f}" for x, v in zip(xs, values))
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}">'
                     f'<title>{escape(name)}</title></polyline>')
        parts.extend(f'<circle cx="{x:.1f}" cy="{y_of(v):.1f}" r="3" fill="{color}"><title>{escape(name)} '
                     f'{escape(lbl)}: {v:g}</title></circle>' for x, v, lbl in zip(xs, values, x_labels))
        lx, ly = 8 + (k % 2) * (width // 2), height - legend_h + 12 + (k // 2) * 18
        parts.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{lx + 14}" y="{ly}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)
