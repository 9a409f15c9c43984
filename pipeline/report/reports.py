"""Manager reporting: period queries over the mart views, charts, and a self-contained HTML report.

Every query takes an inclusive date range (local dates of ``calls.started_at``) and
reads the ``mart_`` / ``stg_`` views of migration 003, never the raw tables, so the
web dashboard, ``hotline report`` and the notebooks agree on every number.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from datetime import date, datetime, timedelta
from html import escape
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode

import duckdb

from pipeline.clock import m_ss
from pipeline.config import Settings
from pipeline.errors import HotlineError
from pipeline.i18n import translator
from pipeline.report import case_reports, categories, charts, documents, formats, scorecard
from pipeline.report.formats import topic_labels
from pipeline.warehouse import report_queries as queries
from pipeline.warehouse.report_queries import (  # noqa: F401 (web, notebooks and tests read them as reports.*)
    as_date as _as_date,
    call_volume,
    correction_summary,
    data_period,
    frustration_trends,
    operator_summary,
    period_totals,
    place_hotspots,
    review_backlog,
    review_queue,
    summaries,
    topic_trends,
    urgent_calls,
)

# The days a period may cover, and its longest span: a date such as 9999-12-31 overflowed the
# previous-period arithmetic (a 500), and a span of centuries would draw a table of thousands of weeks.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2199, 12, 31)
MAX_PERIOD_DAYS = 3660  # ten years


class BadPeriod(HotlineError):
    """A period that starts after it ends, lies outside FIRST_DAY..LAST_DAY, or is longer than ten years."""

    exit_code = 2


def check_period(start, end) -> tuple[date, date]:
    """``(start, end)`` as dates, or :class:`BadPeriod` saying what is wrong with them."""
    start, end = _as_date(start), _as_date(end)
    if start > end:
        raise BadPeriod(f"the period starts ({start}) after it ends ({end})")
    if start < FIRST_DAY or end > LAST_DAY:
        raise BadPeriod(f"a period lies within {FIRST_DAY} … {LAST_DAY}; got {start} … {end}")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise BadPeriod(f"a period is at most {MAX_PERIOD_DAYS} days (ten years); {start} … {end} is "
                        f"{(end - start).days + 1}")
    return start, end


WEEKDAYS = {"vi": ("T2", "T3", "T4", "T5", "T6", "T7", "CN"), "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}


def previous_period(start, end) -> tuple[date, date]:
    """The period of the same length that ends the day before ``start``."""
    start, end = _as_date(start), _as_date(end)
    days = (end - start).days + 1
    return start - timedelta(days=days), start - timedelta(days=1)


def pct_change(now: float, before: float) -> float | None:
    """Change in per cent, rounded; None when there is nothing to compare with (before = 0)."""
    if not before:
        return None
    return round(100 * (now - before) / before)


def format_change(now: float, before: float, lang: str = "vi") -> str:
    """"+25%", "−10%", "±0%", or "mới"/"new" when the previous period had none ("" when both are 0)."""
    pct = pct_change(now, before)
    if pct is None:
        return translator(lang)("rp_new") if now else ""
    if pct == 0:
        return "±0%"
    return f"+{pct:g}%" if pct > 0 else f"−{-pct:g}%"


def format_duration(seconds: float, lang: str = "vi") -> str:
    """Audio time a manager reads: "45 phút", "3 giờ 05 phút" ("45 min", "3 h 05 min")."""
    minutes = int(seconds / 60 + 0.5)
    h, m = divmod(minutes, 60)
    if lang == "vi":
        return f"{h} giờ {m:02d} phút" if h else f"{m} phút"
    return f"{h} h {m:02d} min" if h else f"{m} min"


def period_comparison(con: duckdb.DuckDBPyConnection, start, end) -> dict:
    """This period's totals, the previous period's, and whether this one is still partial.

    A period is partial when it ends after the last loaded call's day (its end has no data yet),
    so a "drop" at the end is not read as a fall in demand.
    """
    start, end = _as_date(start), _as_date(end)
    p_start, p_end = previous_period(start, end)
    _, last = data_period(con)
    return {"now": period_totals(con, start, end), "before": period_totals(con, p_start, p_end),
            "prev_start": p_start, "prev_end": p_end, "last_data_day": last, "partial": end > last}


def topic_week_table(con: duckdb.DuckDBPyConnection, start, end, *, lang: str = "vi") -> dict:
    """Topic × week counts for the period, for a heat table.

    ``weeks``: one per Monday from the week of ``start`` to that of ``end``, each with the part of it
    inside the period (``from``/``to``, for drill-down links) and ``partial`` when the week is cut by
    the period or runs past the last loaded day. ``rows``: one per topic with calls (taxonomy order):
    key, label, counts (per week), total, previous (same-length previous period), change.
    """
    start, end = _as_date(start), _as_date(end)
    labels = topic_labels(lang)
    _, last = data_period(con)
    first_monday = start - timedelta(days=start.weekday())
    weeks = []
    monday = first_monday
    while monday <= end:
        sunday = monday + timedelta(days=6)
        weeks.append({"start": monday, "from": max(monday, start), "to": min(sunday, end),
                      "partial": monday < start or sunday > end or sunday > last, "label": monday.strftime("%d/%m")})
        monday += timedelta(days=7)
    counts = queries.topic_week_counts(con, start, end)
    p_start, p_end = previous_period(start, end)
    before = queries.topic_counts(con, p_start, p_end)
    keys = {k for _, k in counts}
    order = [k for k in labels if k in keys] + sorted(keys - set(labels))
    rows = []
    for k in order:
        row = [counts.get((w["start"], k), 0) for w in weeks]
        total = sum(row)
        rows.append({"key": k, "label": labels.get(k, k), "counts": row, "total": total, "previous": before.get(k, 0),
                     "change": format_change(total, before.get(k, 0), lang)})
    for i, w in enumerate(weeks):
        w["total"] = sum(r["counts"][i] for r in rows)
    return {"weeks": weeks, "rows": rows, "max": max((c for r in rows for c in r["counts"]), default=0),
            "prev_start": p_start, "prev_end": p_end}


KIND_WORDS = {"vi": {"ward": "Phường", "commune": "Xã", "town": "Thị trấn"},
              "en": {"ward": "Ward", "commune": "Commune", "town": "Town"}}


def hotspot_table(con: duckdb.DuckDBPyConnection, start, end, *, lang: str = "vi", limit: int = 12) -> list[dict]:
    """Wards/communes (2025 units, as the pipeline resolved them) named in the most calls of the period:
    place_name, label ("Phường Tân Tiến"), n_calls, n_urgent, previous, change, old_names (said before 2025)."""
    start, end = _as_date(start), _as_date(end)
    p_start, p_end = previous_period(start, end)
    rows = place_hotspots(con, start, end, limit=limit)
    before = queries.place_counts(con, p_start, p_end)
    old = {}
    for name, resolved in queries.old_place_names(con, start, end):
        old.setdefault(name, []).append(resolved)
    words = KIND_WORDS[lang if lang in KIND_WORDS else "vi"]
    return [{**r, "label": f"{words.get(r['kind'], '').strip()} {r['place_name']}".strip(),
             "previous": int(before.get(r["place_name"], 0)),
             "change": format_change(r["n_calls"], before.get(r["place_name"], 0), lang),
             "old_names": old.get(r["place_name"], [])} for r in rows]


def period_presets(today: date, lang: str = "vi") -> list[tuple[str, date, date]]:
    """Quick periods for the dashboard: last full week, this month so far, last month, last 4 full weeks."""
    t = translator(lang)
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    return [(t("rp_last_week"), monday - timedelta(days=7), monday - timedelta(days=1)),
            (t("rp_this_month"), first, today),
            (t("rp_last_month"), last_month_end.replace(day=1), last_month_end),
            (t("rp_last_4_weeks"), monday - timedelta(days=28), monday - timedelta(days=1))]


def calls_url(**params) -> str:
    """A link to the filtered call list: ``calls_url(from_=d1, to=d2, topic="land")``."""
    query = {("from" if k == "from_" else k): (v.isoformat() if isinstance(v, date) else v)
             for k, v in params.items() if v not in (None, "", False)}
    return "/calls?" + urlencode({k: ("1" if v is True else v) for k, v in query.items()})


def _hour_bar_title(lang: str):
    """The accessible name of a calls-by-hour bar: "14:00–14:59: 5 cuộc gọi — mở danh sách"."""
    t = translator(lang)
    return lambda label, n: t("hour_bar", range=t("hour_range", h=int(label)), n=f"{n:g}")


def dashboard_charts(con: duckdb.DuckDBPyConnection, start, end, *, lang: str = "vi", links: bool = True) -> dict[str, str]:
    """The dashboard's panels for a period, as HTML: ``trends`` (week × topic heat table), ``hotspots``
    (wards/communes), ``days`` (calls per day), ``hours`` (calls by hour), ``weekdays``. With ``links``, every
    cell, bar and column links to the filtered call list."""
    start, end = _as_date(start), _as_date(end)
    t = translator(lang)
    table = topic_week_table(con, start, end, lang=lang)
    link = links or None
    trends = charts.heat_table(
        table, title=t("rp_topics_by_week_calls"), lang=lang,
        cell_link=link and (lambda k, w: calls_url(from_=w["from"], to=w["to"], topic=k)),
        week_link=link and (lambda w: calls_url(from_=w["from"], to=w["to"])),
        topic_link=link and (lambda k: calls_url(from_=start, to=end, topic=k)))
    spots = hotspot_table(con, start, end, lang=lang)
    n_calls = period_totals(con, start, end)["n_calls"]
    if n_calls:
        empty = t("rp_no_call_in_the_period_named_a_ward_c")
    else:
        empty = t("rp_no_calls_in_this_period")
    hotspots = charts.bar_table(spots, title=t("rp_hotspots_by_ward_commune_2025_units"), lang=lang, empty=empty,
                                link=link and (lambda i: calls_url(from_=start, to=end, place=i["place_name"])))
    days = call_volume(con, start, end, by="day")
    every = max(1, len(days) // 10)
    hours = call_volume(con, start, end, by="hour")
    return {
        "trends": trends,
        "hotspots": hotspots,
        "days": charts.linked_column_chart(
            [(r["bucket"].strftime("%d/%m"), r["n_calls"], links and calls_url(from_=r["bucket"], to=r["bucket"]) or None)
             for r in days], title=t("rp_calls_per_day"), label_every=every),
        "hours": charts.linked_column_chart(  # each bar opens the period's calls of that hour (/calls?hour=14)
            [(str(r["bucket"]), r["n_calls"], links and calls_url(from_=start, to=end, hour=str(r["bucket"])) or None)
             for r in hours],
            title=t("rp_calls_by_hour_of_day"),
            color=charts.PALETTE[2], label_every=2, link_title=_hour_bar_title(lang)),
        "weekdays": charts.linked_column_chart(  # for the notebooks
            [(WEEKDAYS[lang][r["bucket"] - 1], r["n_calls"], None) for r in call_volume(con, start, end, by="weekday")],
            title=t("rp_calls_by_weekday"), color=charts.PALETTE[2]),
    }


def dashboard(con: duckdb.DuckDBPyConnection, start, end, *, lang: str = "vi") -> dict:
    """Everything the dashboard shows for a period: comparison, KPI cards (with drill-down links),
    panels, review queue, operators. Raises :class:`BadPeriod` for a period :func:`check_period` refuses."""
    start, end = check_period(start, end)
    t = translator(lang)
    cmp = period_comparison(con, start, end)
    now, before = cmp["now"], cmp["before"]

    def card(key, label, url, hint=""):
        return {"key": key, "label": label, "value": now[key], "before": before[key], "url": url, "hint": hint,
                "change": format_change(now[key], before[key], lang)}

    cards = [
        card("n_calls", t("rp_calls"), calls_url(from_=start, to=end)),
        card("n_urgent", t("rp_urgent"), calls_url(from_=start, to=end, urgent=True)),
        card("n_needs_review", t("rp_flagged"),
             calls_url(from_=start, to=end, needs_review=True)),
        card("n_queue", t("rp_in_the_qa_queue"), calls_url(from_=start, to=end, queue=True),
             t("rp_urgent_or_flagged_not_reviewed")),
    ]
    audio = {"key": "seconds", "label": t("rp_audio"),
             "value": format_duration(now["seconds"], lang), "url": calls_url(from_=start, to=end),
             "change": format_change(now["seconds"], before["seconds"], lang), "hint": ""}
    cards.append(audio)
    operators = operator_summary(con, start, end)
    return {"cmp": cmp, "cards": cards, "charts": dashboard_charts(con, start, end, lang=lang),
            "backlog": review_backlog(con), "corrections": correction_summary(con, start, end),
            "queue": review_queue(con, limit=15), "operators": operators}


def _table(headers: list[str], rows: list[list], *, num_from: int = 1, cls: str = "") -> str:
    """An HTML table; columns from ``num_from`` on are right-aligned figures."""
    num = ' class="num"'
    head = "".join(f"<th{num if i >= num_from else ''}>{escape(h)}</th>" for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f"<td{num if i >= num_from else ''}>{escape('' if v is None else str(v))}</td>"
                                    for i, v in enumerate(r)) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def share(part: float, whole: float) -> str:
    """"42%" of the whole (""  when the whole is 0): :func:`pipeline.report.formats.percent`."""
    return formats.percent(part / whole, lang="vi") if whole else ""


def narrative(con: duckdb.DuckDBPyConnection, start, end, *, lang: str = "vi") -> str:
    """A short summary written from the figures: volume and change, main topics, urgent calls,
    the most named place, the QA backlog."""
    start, end = _as_date(start), _as_date(end)
    t = translator(lang)
    cmp = period_comparison(con, start, end)
    now, before = cmp["now"], cmp["before"]
    table = topic_week_table(con, start, end, lang=lang)
    spots = hotspot_table(con, start, end, lang=lang, limit=1)
    n = now["n_calls"]
    if n == 0:
        return t("rp_no_calls_were_processed_in_this_peri")
    pct = pct_change(n, before["n_calls"])
    if pct:
        trend = t("nr_trend_up" if pct > 0 else "nr_trend_down", pct=f"{abs(pct):g}", n=before["n_calls"])
    else:
        trend = t("nr_trend_same" if pct == 0 else "nr_trend_none")
    parts = [t("nr_calls", n=n, trend=trend)]
    top = sorted(table["rows"], key=lambda r: -r["total"])[:2]
    if top:
        mentions = sum(r["total"] for r in table["rows"])
        desc = [t("nr_topic", label=r["label"], n=r["total"], share=share(r["total"], mentions)) for r in top]
        parts.append(t("nr_top", topics=t("nr_and").join(desc)))
    if now["n_urgent"]:
        parts.append(t("nr_urgent", n=now["n_urgent"], change=format_change(now["n_urgent"], before["n_urgent"], lang)))
    if spots:
        parts.append(t("nr_place", label=spots[0]["label"], n=spots[0]["n_calls"]))
    parts.append(t("nr_queue", n=now["n_queue"]))
    if cmp["partial"]:
        parts.append(t("nr_partial", day=formats.day(cmp["last_data_day"])))
    return " ".join(parts)


_REPORT_CSS = """
@page{size:A4;margin:20mm 16mm 18mm 16mm;
  @top-left{content:var(--agency);font-family:'Noto Sans','DejaVu Sans',sans-serif;font-size:8.5pt;color:#444}
  @top-right{content:var(--period);font-family:'Noto Sans','DejaVu Sans',sans-serif;font-size:8.5pt;color:#444}
  @bottom-center{content:var(--page-word) " " counter(page) " / " counter(pages);font-family:'Noto Sans','DejaVu Sans',sans-serif;font-size:8.5pt;color:#444}}
body{font-family:'Noto Sans','DejaVu Sans',system-ui,sans-serif;margin:0 auto;max-width:60em;color:#1b1b1b;font-size:10.5pt}
@media screen{body{margin:1.5em auto;padding:0 1em}}
header.report{border-bottom:2px solid #0b4f8a;margin-bottom:.8em}header.report p{margin:.15em 0;color:#333}
h1{font-size:1.45em;margin:.2em 0}h2{font-size:1.15em;margin:1.2em 0 .4em;border-bottom:1px solid #bbb;color:#0b4f8a}
h3{font-size:1em;margin:.8em 0 .3em}
h1,h2,h3,.chart-title{break-after:avoid;page-break-after:avoid}
table{border-collapse:collapse;margin:.4em 0;width:100%}td,th{border:1px solid #ccc;padding:.2em .45em;text-align:left;vertical-align:top}
th{background:#eef3f8}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
thead{display:table-header-group}tr,figure,.summary,.kpi-table{break-inside:avoid;page-break-inside:avoid}
figure{margin:.4em 0}svg.chart{max-width:100%;height:auto}svg.chart text{font-size:11px;fill:#333}
svg.chart .chart-title{font-size:13px;font-weight:bold}svg.chart .tick{font-size:10px}
.summary{background:#f4f7fb;border-left:4px solid #0b4f8a;padding:.5em .8em}.note{color:#444;font-size:.9em}
section.heat h3.chart-title,section.bars h3.chart-title{display:none}
table.heat td.partial,table.heat th.partial{background-image:repeating-linear-gradient(135deg,transparent 0 6px,rgba(0,0,0,.07) 6px 8px)}
table.heat td.total{font-weight:bold}table.heat tr.sum td,table.heat tr.sum th{border-top:2px solid #999}
table.bars td.bar span{display:block;height:.8em;background:#0072B2;min-width:2px;print-color-adjust:exact;-webkit-print-color-adjust:exact}
table.heat td{print-color-adjust:exact;-webkit-print-color-adjust:exact}
"""


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _PeriodBasis(NamedTuple):
    """What the HTML period report and the official document both start from."""

    start: date
    end: date
    t: Callable[..., str]  # translator(lang)
    agency: str
    labels: dict[str, str]  # topic key → label
    cmp: dict  # period_comparison: now, before, prev_start, prev_end
    table: dict  # topic_week_table
    spots: list[dict]  # hotspot_table (top 10)
    urgent: list[dict]  # urgent_calls


def _period_basis(con: duckdb.DuckDBPyConnection, start, end, *, lang: str, agency: str | None) -> _PeriodBasis:
    """The checked period (:func:`check_period`: :class:`BadPeriod`), words, agency (default: the setting's),
    comparison with the previous period, topics by week, hotspots and urgent calls: the preamble
    :func:`render_report` and :func:`period_document` share."""
    start, end = check_period(start, end)
    return _PeriodBasis(start, end, translator(lang), agency or Settings.model_fields["agency_name"].default,
                        topic_labels(lang), period_comparison(con, start, end),
                        topic_week_table(con, start, end, lang=lang), hotspot_table(con, start, end, lang=lang, limit=10),
                        urgent_calls(con, start, end))


def render_report(con: duckdb.DuckDBPyConnection, start, end, *, lang: str = "vi", agency: str | None = None,
                  caller_reference: bool = False) -> str:
    """A self-contained HTML period report for [start, end], printable on A4 (page numbers, an agency and
    period header on every page): narrative summary, key figures against the previous period, topics with
    shares, top places, urgent calls, QA corrections and backlog, call volume, operators. No external assets.

    ``agency``: the header's agency (the caller's ``settings.agency_name``; default: the setting's default).
    Urgent calls are named by their PBX call id only with ``caller_reference`` (a role :mod:`pipeline.access`
    gives it), else by the start of the call id. Raises :class:`BadPeriod` when ``start`` is after ``end``
    (or the period is out of bounds: :func:`check_period`).
    """
    start, end, t, agency, labels, cmp, table, spots, urgent = _period_basis(con, start, end, lang=lang, agency=agency)
    now, before = cmp["now"], cmp["before"]
    c = dashboard_charts(con, start, end, lang=lang, links=False)
    corrections = correction_summary(con, start, end)
    backlog = review_backlog(con)
    ops = operator_summary(con, start, end)
    period = f"{start:%d/%m/%Y} – {end:%d/%m/%Y}"
    prev = f"{cmp['prev_start']:%d/%m/%Y} – {cmp['prev_end']:%d/%m/%Y}"
    title = t("rp_title", period=period)

    def section(heading: str, *body: str) -> str:
        return f"<section><h2>{escape(heading)}</h2>{''.join(body)}</section>"

    kpi_rows = [[t("rp_calls"), now["n_calls"], before["n_calls"], format_change(now["n_calls"], before["n_calls"], lang)],
                [t("rp_urgent"), now["n_urgent"], before["n_urgent"], format_change(now["n_urgent"], before["n_urgent"], lang)],
                [t("rp_flagged"), now["n_needs_review"], before["n_needs_review"],
                 format_change(now["n_needs_review"], before["n_needs_review"], lang)],
                [t("rp_reviewed"), now["n_reviewed"], before["n_reviewed"],
                 format_change(now["n_reviewed"], before["n_reviewed"], lang)],
                [t("rp_audio"), format_duration(now["seconds"], lang),
                 format_duration(before["seconds"], lang), format_change(now["seconds"], before["seconds"], lang)]]
    mentions = sum(r["total"] for r in table["rows"])
    topic_rows = [[r["label"], r["total"], share(r["total"], mentions), r["previous"], r["change"]]
                  for r in sorted(table["rows"], key=lambda r: (-r["total"], r["label"]))]
    place_rows = [[s_["label"] + (f" ({t('rp_formerly')}: {', '.join(s_['old_names'])})" if s_["old_names"] else ""),
                   s_["n_calls"], share(s_["n_calls"], now["n_calls"]), s_["n_urgent"], s_["previous"], s_["change"]]
                  for s_ in spots]
    t = translator(lang)
    urgent_rows = [[formats.day_time(u["started_at"]),
                    (u["pbx_call_id"] if caller_reference else None) or u["call_id"][:8],
                    u["places"], "; ".join(labels.get(k, k) for k in u["topics"].split(",") if k), u["said"],
                    "; ".join(t(f"reason_{r.strip()}", r.strip()) for r in (u["urgency_reasons"] or "").split(",") if r.strip()),
                    u["routed"] if lang == "vi" else u["routed_en"], t("rp_yes") if u["reviewed"] else t("rp_not_yet")]
                   for u in urgent]
    correction_rows = [[labels.get(r["topic"], r["topic"]), r["added"], r["removed"], r["reviewers"]] for r in corrections]
    frustrated = frustration_trends(con, start, end)  # issue 16: share of frustrated callers by topic and week
    call_summaries = summaries(con, start, end)
    case_t, case_units = case_reports.totals(con), case_reports.by_unit(con)
    op_rows = [[formats.operator(o["operator_ext"], lang), o["n_calls"], m_ss(o["mean_duration_s"]),
                share(o["operator_talk_share"] or 0, 1), "" if o["mean_confidence"] is None else formats.decimal(o["mean_confidence"], 2, lang),
                o["n_needs_review"]] for o in ops]
    cat_heading, cat_header, cat_rows = categories.category_table(con, start, end, lang=lang)
    none_p = lambda text: f'<p class="note">{escape(text)}</p>'  # noqa: E731
    parts = [
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
        f"<style>:root{{--agency:{_css_string(agency)};--period:{_css_string(t('rp_period') + period)};"
        f"--page-word:{_css_string(t('rp_page'))}}}{_REPORT_CSS}</style></head><body>",
        f'<header class="report"><p class="agency"><b>{escape(agency)}</b></p><h1>{escape(title)}</h1>'
        f"<p>{t('rp_compared_with_the_previous_period')}: {prev}. "
        f"{t('rp_generated')} {datetime.now():%d/%m/%Y %H:%M}.</p></header>",
        section(t("summary"), f'<p class="summary" id="narrative">{escape(narrative(con, start, end, lang=lang))}</p>'),
        section(t("rp_key_figures"),
                _table([t("rp_figure"), t("rp_this_period"), t("rp_previous"),
                        t("rp_change")], kpi_rows, cls="kpi-table")),
        section(t("topics"),
                _table([t("rp_topic"), t("rp_calls"), t("rp_share"), t("rp_previous"),
                        t("rp_change")], topic_rows) if topic_rows else none_p(t("doc_no_rows")),
                f"<h3>{t('rp_topics_by_week')}</h3>", c["trends"]),
        section(t("rp_most_named_places_wards_communes_202"),
                _table([t("rp_ward"), t("rp_calls"), t("rp_share_calls"),
                        t("rp_urgent"), t("rp_previous"), t("rp_change")], place_rows)
                if place_rows else none_p(t("rp_no_call_named_a_ward_commune"))),
        section(t("rp_urgent_calls"),
                _table([t("rp_time"), t("rp_pbx_id") if caller_reference else t("rp_call_id"),
                        t("rp_ward"), t("topics"),
                        t("rp_caller_said_redacted"), t("rp_reasons"), t("rp_routed"), t("rp_reviewed_short")],
                       urgent_rows, num_from=99) if urgent_rows else none_p(t("rp_no_urgent_calls"))),
        section(cat_heading, _table(cat_header, cat_rows) if cat_rows else none_p(t("categories_none"))),  # issue 30
        section(t("rp_quality_review_qa"),
                _table([t("rp_figure"), t("rp_n_calls_short")], [
                    [t("rp_calls_of_the_period_in_the_qa_queue"), now["n_queue"]],
                    [t("rp_calls_of_the_period_reviewed"), now["n_reviewed"]],
                    [t("rp_qa_queue_now_all_periods"), backlog["waiting"]],
                    [t("rp_of_which_urgent"), backlog["urgent_waiting"]]], cls="kpi-table"),
                f"<h3>{t('rp_topic_corrections_by_qa_in_the_perio')}</h3>",
                _table([t("rp_topic"), t("rp_added"), t("rp_removed"), t("rp_reviewers")],
                       correction_rows) if correction_rows else none_p(t("rp_no_corrections"))),
        section(t("rp_call_volume"), f"<figure>{c['days']}</figure>", f"<figure>{c['hours']}</figure>"),
        section(t("rp_cases_state_now_all_periods"),
                _table([t("rp_figure"), t("rp_count")], [
                    [t("rp_incidents"),
                     case_t["n_incidents"]],
                    [t("rp_case_calls"), case_t["n_calls"]],
                    [t("case_open"), case_t["n_open"]], [t("case_overdue"), case_t["n_overdue"]],
                    [t("rp_callbacks"), case_t["n_callbacks"]],
                    [t("rp_median_hours"),
                     formats.decimal(case_t["median_hours_to_resolve"], 1, lang)],
                    [t("rp_reopened"), formats.percent(case_t["reopened_share"] or 0, lang=lang)]],
                       cls="kpi-table"),
                _table([t("rp_unit"), t("case_incidents"), t("rp_calls"),
                        t("case_open"), t("case_overdue")],
                       [[u["unit"], u["n_cases"], u["n_calls"], u["n_open"], u["n_overdue"]] for u in case_units])
                if case_units else none_p(t("doc_no_cases"))),
        section(t("rp_frustrated_callers"),
                _table([t("case_week"), t("rp_topic"), t("rp_calls"), t("frustrated"),
                        t("rp_share")],
                       [[f"{r['week']:%d/%m}", labels.get(r["topic"], r["topic"]), r["n_calls"], r["n_frustrated"],
                         formats.percent(r["share_frustrated"], lang=lang)] for r in frustrated], num_from=2) if frustrated
                else none_p(t("doc_no_rows"))),
        section(t("rp_call_summaries"),
                _table([t("rp_time"), t("summary")],
                       [[formats.day_time(r["started_at"]), r["summary"]] for r in call_summaries],
                       num_from=99) if call_summaries else none_p(t("doc_no_rows"))),
        section(t("rp_operators"),
                _table([t("op_extension"), t("rp_calls"), t("mgr_mean_duration"),
                        t("rp_operator_talk_share"), t("rp_recognition_confidence_mean"),
                        t("rp_flagged_for_review")], op_rows),
                none_p(t("mgr_confidence_note"))),
        scorecard.report_section(con, start, end, lang=lang),  # issue 29: QA evaluations per operator
        "</body></html>",
    ]
    return "".join(parts)


REPORT_SUFFIXES = (".html", ".htm", ".pdf", ".docx")


class UnsupportedReportFormat(HotlineError):
    """A report path whose suffix names a format the report is not written in (.xlsx, .csv, …)."""

    exit_code = 2


def check_report_path(out: Path, lang: str = "vi") -> Path:
    """``out`` when its suffix is one of :data:`REPORT_SUFFIXES`, else :class:`UnsupportedReportFormat`
    (issue 29: ``--out x.xlsx`` wrote HTML under that name)."""
    out = Path(out)
    if out.suffix.lower() not in REPORT_SUFFIXES:
        raise UnsupportedReportFormat(translator(lang)("doc_refused_format", ext=out.suffix or out.name))
    return out


def write_report(con: duckdb.DuckDBPyConnection, start, end, out: Path, *, lang: str = "vi",
                 agency: str | None = None, issuer: documents.Issuer | None = None, official: bool = False) -> Path:
    """Write the period report to ``out``: ``.html`` (:func:`render_report`), ``.pdf`` (that HTML printed with
    headless chromium; with ``official``, the official document converted by LibreOffice) or ``.docx``
    (:func:`period_document`, the official document form, signed by ``issuer``). Any other suffix raises
    :class:`UnsupportedReportFormat` before anything is written."""
    out = check_report_path(out, lang)
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".docx" or (official and suffix == ".pdf"):
        issuer = issuer or documents.Issuer.defaults()
        doc = period_document(con, start, end, agency=issuer.name, lang=lang)
        body = documents.to_docx(doc, issuer, lang=lang)
        out.write_bytes(documents.docx_to_pdf(body) if suffix == ".pdf" else body)
        return out
    html = render_report(con, start, end, lang=lang, agency=agency)
    if out.suffix.lower() != ".pdf":
        out.write_text(html, encoding="utf-8")
        return out
    html_to_pdf(html, out)
    return out


def html_to_pdf(html: str, out: Path, *, chromium: str | None = None) -> None:
    """Print HTML to PDF with ``chromium --headless --print-to-pdf`` (Debian's chromium; offline)."""
    exe = chromium or shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        raise HotlineError("PDF needs chromium: apt-get install chromium, or write .html instead")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp}/profile",
                        "--no-pdf-header-footer", f"--print-to-pdf={Path(out).resolve()}", page.as_uri()],
                       check=True, capture_output=True, timeout=120)


def period_document(con: duckdb.DuckDBPyConnection, start, end, *, agency: str | None = None, lang: str = "vi",
                    day: date | None = None) -> documents.Document:
    """The period report as an official document (:mod:`pipeline.report.documents`): summary, key figures,
    topics, places, urgent calls (no caller reference: the document leaves the hotline), cases by unit."""
    start, end, t, agency, labels, cmp, table, spots, urgent = _period_basis(con, start, end, lang=lang, agency=agency)
    now, before = cmp["now"], cmp["before"]
    case_t, case_units = case_reports.totals(con), case_reports.by_unit(con)
    d = formats.day
    doc = documents.Document(kind=t("doc_kind_report"), kind_code="BC", day=day or date.today(),
                             summary=t("doc_period_summary", agency=agency, start=d(start), end=d(end)))
    blocks = doc.blocks
    blocks.append(("p", t("doc_intro", agency=agency, start=d(start), end=d(end), prev_start=d(cmp["prev_start"]),
                          prev_end=d(cmp["prev_end"]))))
    blocks += [("h", t("doc_h_summary")), ("p", narrative(con, start, end, lang=lang))]

    def kpi(key, label, fmt=str):
        return [t(label), fmt(now[key]), fmt(before[key]), format_change(now[key], before[key], lang)]

    blocks += [("h", t("doc_h_figures")), documents.Table(
        [t("rp_figure"), t("rp_this_period"), t("rp_previous"), t("rp_change")],
        [kpi("n_calls", "rp_calls"), kpi("n_urgent", "rp_urgent"), kpi("n_needs_review", "rp_flagged"),
         kpi("n_reviewed", "rp_reviewed"), kpi("seconds", "rp_audio", lambda s: format_duration(s, lang))])]
    mentions = sum(r["total"] for r in table["rows"])
    topic_rows = [[r["label"], r["total"], share(r["total"], mentions), r["previous"], r["change"]]
                  for r in sorted(table["rows"], key=lambda r: (-r["total"], r["label"]))]
    blocks.append(("h", t("doc_h_topics")))
    blocks.append(documents.Table([t("rp_topic"), t("rp_calls"), t("rp_share"), t("rp_previous"), t("rp_change")],
                                  topic_rows) if topic_rows else ("p", t("doc_no_rows")))
    place_rows = [[s_["label"] + (f" ({t('rp_formerly')}: {', '.join(s_['old_names'])})" if s_["old_names"] else ""),
                   s_["n_calls"], share(s_["n_calls"], now["n_calls"]), s_["n_urgent"], s_["previous"], s_["change"]]
                  for s_ in spots]
    blocks.append(("h", t("doc_h_places")))
    blocks.append(documents.Table([t("rp_ward"), t("rp_calls"), t("rp_share_calls"), t("rp_urgent"), t("rp_previous"),
                                   t("rp_change")], place_rows) if place_rows else ("p", t("doc_no_places")))
    urgent_rows = [[formats.day_time(u["started_at"]), u["places"] or "—",
                    "; ".join(labels.get(k, k) for k in u["topics"].split(",") if k),
                    (u["routed"] if lang == "vi" else u["routed_en"]) or "—",
                    t("rp_yes") if u["reviewed"] else t("rp_not_yet")] for u in urgent]
    blocks.append(("h", t("doc_h_urgent")))
    blocks.append(documents.Table([t("rp_time"), t("rp_ward"), t("rp_topic"), t("rp_routed"), t("rp_reviewed_short")],
                                  urgent_rows, num_from=99) if urgent_rows else ("p", t("doc_no_urgent")))
    blocks.append(("h", t("doc_h_cases")))
    blocks.append(case_reports.totals_table(case_t, lang=lang))
    blocks.append(case_reports.units_table(case_units, lang=lang) if case_units else ("p", t("doc_no_cases")))
    if case_t["n_overdue"]:
        blocks += [("h", t("doc_h_proposals")), ("p", t("doc_proposals"))]
    blocks.append(("p", t("doc_closing", agency=agency)))
    return doc
