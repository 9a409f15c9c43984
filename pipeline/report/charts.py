"""Inline SVG charts rendered on the server: no JavaScript, no CDN, they print and work offline.

Each function returns an ``<svg>`` string that is safe to embed (labels are escaped).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from pipeline.i18n import translator

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


# --- issue 15: tables and charts a manager reads at a glance, with drill-down links ----------------

def _luminance(rgb: tuple[float, float, float]) -> float:
    def lin(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """WCAG contrast ratio of two RGB colours (1 .. 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


HEAT_LOW, HEAT_HIGH = (239, 246, 252), (8, 69, 148)


def heat_colours(value: float, top: float) -> tuple[str, str]:
    """Background and text colour for a heat cell: light to dark blue; the text (black or white) is
    whichever contrasts more with the background: with pure black and white one of them is always
    ≥ 4.58:1 (near-black text would dip to 4.4:1 on mid blues)."""
    t = 0.0 if top <= 0 else max(0.0, min(1.0, value / top))
    bg = tuple(lo + (hi - lo) * t for lo, hi in zip(HEAT_LOW, HEAT_HIGH))
    dark, white = (0, 0, 0), (255, 255, 255)
    fg = white if contrast(bg, white) > contrast(bg, dark) else dark
    hexed = lambda c: "#" + "".join(f"{int(round(x)):02x}" for x in c)  # noqa: E731
    return hexed(bg), hexed(fg)


def _a(href: str | None, text: str) -> str:
    return f'<a href="{escape(href)}">{text}</a>' if href else text


def heat_table(table: dict, *, title: str, lang: str = "vi", cell_link=None, week_link=None, topic_link=None) -> str:
    """A week × topic table of counts, shaded by count, from :func:`pipeline.report.reports.topic_week_table`.

    Partial weeks (cut by the period, or past the last loaded day) carry a * and a note, so a low
    count there is not read as a drop. The last columns compare the topic's total with the previous
    period. ``cell_link(topic, week)``, ``week_link(week)`` and ``topic_link(topic)`` give drill-down
    URLs (None: plain text, as in the printed report).
    """
    t = translator(lang)
    weeks, rows = table["weeks"], table["rows"]
    if not rows:
        empty = t("rp_no_calls_with_a_topic_in_this_period")
        return f'<section class="heat"><h3 class="chart-title">{escape(title)}</h3><p class="empty">{empty}</p></section>'
    top = table["max"]
    week_word = t("rp_week_of")
    head = "".join(
        f'<th scope="col" class="{"partial" if w["partial"] else ""}" title="{week_word} {w["start"]:%d/%m/%Y}">'
        f'{escape(w["label"])}{"*" if w["partial"] else ""}</th>' for w in weeks)
    prev = f'{table["prev_start"]:%d/%m}–{table["prev_end"]:%d/%m}'
    head += (f'<th scope="col" class="total">{t("rp_total")}</th>'
             f'<th scope="col" class="num" title="{prev}">{t("rp_previous")}</th>'
             f'<th scope="col" class="num">{t("rp_change")}</th>')
    body = []
    for r in rows:
        cells = []
        for w, n in zip(weeks, r["counts"]):
            bg, fg = heat_colours(n, top)
            cls = "partial" if w["partial"] else ""
            text = _a(cell_link(r["key"], w) if cell_link and n else None, str(n))
            cells.append(f'<td class="num {cls}" style="background:{bg};color:{fg}">{text}</td>')
        label = _a(topic_link(r["key"]) if topic_link else None, escape(r["label"]))
        body.append(f'<tr><th scope="row">{label}</th>{"".join(cells)}<td class="num total">{r["total"]}</td>'
                    f'<td class="num">{r["previous"]}</td><td class="num change">{escape(r["change"])}</td></tr>')
    foot = "".join(f'<td class="num{" partial" if w["partial"] else ""}">'
                   f'{_a(week_link(w) if week_link and w["total"] else None, str(w["total"]))}</td>' for w in weeks)
    total = sum(r["total"] for r in rows)
    before = sum(r["previous"] for r in rows)
    foot = (f'<tr class="sum"><th scope="row">{t("rp_all_topic_mentions")}</th>{foot}'
            f'<td class="num total">{total}</td><td class="num">{before}</td><td class="num"></td></tr>')
    note = ""
    if any(w["partial"] for w in weeks):
        note = t("rp_week_not_wholly_in_the_period_or_not")
        note = f'<p class="note">{note}</p>'
    return (f'<section class="heat"><h3 class="chart-title">{escape(title)}</h3><div class="scroll"><table class="heat">'
            f'<thead><tr><th scope="col">{t("rp_topic")}</th>{head}</tr></thead>'
            f'<tbody>{"".join(body)}{foot}</tbody></table></div>{note}</section>')


def bar_table(items: list[dict], *, title: str, lang: str = "vi", link=None, empty: str = "") -> str:
    """Horizontal bars as an HTML table (reads on a phone, prints, links): label, bar, count,
    urgent count, change. Items: label, n_calls, n_urgent, change, old_names (optional)."""
    t = translator(lang)
    if not items:
        return f'<section class="bars"><h3 class="chart-title">{escape(title)}</h3><p class="empty">{escape(empty)}</p></section>'
    top = max(i["n_calls"] for i in items) or 1
    rows = []
    for i in items:
        old = ""
        if i.get("old_names"):
            old = f'<small>{t("rp_formerly")}: {escape(", ".join(i["old_names"]))}</small>'
        pct = 100 * i["n_calls"] / top
        rows.append(f'<tr><th scope="row">{_a(link(i) if link else None, escape(i["label"]))}{old}</th>'
                    f'<td class="bar"><span style="width:{pct:.0f}%"></span></td><td class="num">{i["n_calls"]}</td>'
                    f'<td class="num urgent">{i["n_urgent"] or ""}</td><td class="num change">{escape(i.get("change", ""))}</td></tr>')
    return (f'<section class="bars"><h3 class="chart-title">{escape(title)}</h3><div class="scroll"><table class="bars"><thead><tr>'
            f'<th scope="col">{t("rp_ward")}</th><th scope="col"></th>'
            f'<th scope="col" class="num">{t("rp_calls")}</th>'
            f'<th scope="col" class="num">{t("rp_urgent")}</th>'
            f'<th scope="col" class="num">{t("rp_vs_previous")}</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div></section>')


def linked_column_chart(items: Sequence[tuple[str, float, str | None]], *, title: str, width: int = 560,
                        height: int = 200, color: str = PALETTE[0], label_every: int = 1,
                        link_title=None) -> str:
    """Vertical columns with a y-axis of three gridlines; each ``(label, value, href)`` column links
    to ``href`` (None: no link). Every ``label_every``-th label is written.

    A linked column is an SVG ``<a>`` reachable with the keyboard (Tab, then Enter) whose accessible name
    is ``link_title(label, value)`` (default "label: value")."""
    left, bottom, top_pad = 36, 28, 28
    plot_w, plot_h = width - left - 8, height - bottom - top_pad
    ymax = _nice_max(max((v for _, v, _ in items), default=0))
    step = plot_w / max(len(items), 1)
    # with links, a group: ARIA makes an image's children presentational (Chromium exposes them anyway)
    role = f'role="group" aria-label="{escape(title)}"' if any(h and v for _, v, h in items) else 'role="img"'
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" {role} width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
             f'<text x="8" y="18" class="chart-title">{escape(title)}</text>']
    for frac in ((0, 0.5, 1) if float(ymax / 2).is_integer() else (0, 1)):  # counts: no 2.5 tick
        y = top_pad + plot_h * (1 - frac)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" stroke="{"#888" if frac == 0 else "#ddd"}"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{ymax * frac:g}</text>')
    for i, (label, value, href) in enumerate(items):
        h = plot_h * value / ymax
        x = left + i * step
        rect = (f'<rect x="{x + step * 0.1:.1f}" y="{top_pad + plot_h - h:.1f}" width="{step * 0.8:.1f}" '
                f'height="{h:.1f}" fill="{color}"><title>{escape(str(label))}: {value:g}</title></rect>')
        if href and value:
            name = escape(link_title(label, value) if link_title else f"{label}: {value:g}")
            parts.append(f'<a href="{escape(href)}" class="bar-link" tabindex="0" aria-label="{name}">'
                         f'<title>{name}</title>{rect}</a>')
        else:
            parts.append(rect)
        if i % label_every == 0:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{height - 10}" text-anchor="middle" class="tick">'
                         f'{escape(str(label))}</text>')
    parts.append("</svg>")
    return "".join(parts)
