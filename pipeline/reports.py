"""Manager reporting: period queries over the mart views, charts, and a self-contained HTML report.

Every query takes an inclusive date range (local dates of ``calls.started_at``) and
reads the ``mart_`` / ``stg_`` views of migration 003, never the raw tables, so the
web dashboard, ``hotline report`` and the notebooks agree on every number.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from datetime import date, datetime
from functools import lru_cache
from html import escape
from pathlib import Path

import duckdb

from pipeline.config import REPO_ROOT
from pipeline.web import charts

WEEKDAYS = {"vi": ("T2", "T3", "T4", "T5", "T6", "T7", "CN"), "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params) -> list[dict]:
    cur = con.execute(sql, params)
    keys = [d[0] for d in cur.description]
    return [dict(zip(keys, r)) for r in cur.fetchall()]


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@lru_cache(maxsize=1)
def _taxonomy() -> tuple[dict, ...]:
    return tuple(json.loads((REPO_ROOT / "models" / "taxonomy.json").read_text(encoding="utf-8"))["topics"])


def topic_labels(lang: str = "vi") -> dict[str, str]:
    """Taxonomy key → label in ``lang`` (vi | en), from models/taxonomy.json, in taxonomy order."""
    return {t["key"]: t.get(lang) or t["key"] for t in _taxonomy()}


def data_period(con: duckdb.DuckDBPyConnection) -> tuple[date, date]:
    """First and last call dates in the warehouse (today twice when it is empty)."""
    lo, hi = con.execute("SELECT min(call_date), max(call_date) FROM stg_calls").fetchone()
    today = date.today()
    return lo or today, hi or today


def topic_trends(con: duckdb.DuckDBPyConnection, start, end, *, grain: str = "week") -> list[dict]:
    """Calls per topic and week (or month) whose period starts within [start, end]: period, topic, n_calls."""
    view = {"week": "mart_topic_trends_weekly", "month": "mart_topic_trends_monthly"}[grain]
    col = {"week": "week", "month": "month"}[grain]
    return _rows(con, f"SELECT {col} AS period, topic, n_calls FROM {view} "  # view/column from the dict above
                      f"WHERE {col} BETWEEN date_trunc('{grain}', CAST(? AS DATE)) AND ? ORDER BY period, topic",
                 [_as_date(start), _as_date(end)])


def place_hotspots(con: duckdb.DuckDBPyConnection, start, end, *, limit: int = 15) -> list[dict]:
    """Wards/communes named in the most calls: place_name, kind, n_calls, n_urgent."""
    return _rows(con, """
        SELECT place_name, kind, sum(n_calls)::INTEGER AS n_calls, sum(n_urgent)::INTEGER AS n_urgent
        FROM mart_place_hotspots WHERE call_date BETWEEN ? AND ?
        GROUP BY ALL ORDER BY n_calls DESC, place_name LIMIT ?""", [_as_date(start), _as_date(end), limit])


def call_volume(con: duckdb.DuckDBPyConnection, start, end, *, by: str = "hour") -> list[dict]:
    """Calls by ``hour`` (0..23), ``weekday`` (1 = Monday .. 7) or ``day`` (date), every bucket present."""
    params = [_as_date(start), _as_date(end)]
    if by == "day":
        return _rows(con, """
            WITH days AS (SELECT CAST(d AS DATE) AS bucket FROM range(CAST(? AS DATE), CAST(? AS DATE) + 1, INTERVAL 1 DAY) t(d)),
            counts AS (SELECT call_date AS bucket, sum(n_calls) AS n FROM mart_call_volume GROUP BY ALL),
            final AS (SELECT bucket, coalesce(n, 0)::INTEGER AS n_calls FROM days LEFT JOIN counts USING (bucket))
            SELECT * FROM final ORDER BY bucket""", params)
    col, lo, hi = {"hour": ("call_hour", 0, 23), "weekday": ("call_weekday", 1, 7)}[by]
    return _rows(con, f"""
        WITH buckets AS (SELECT range AS bucket FROM range({lo}, {hi + 1})),
        counts AS (SELECT {col} AS bucket, sum(n_calls) AS n FROM mart_call_volume
                   WHERE call_date BETWEEN ? AND ? GROUP BY ALL),
        final AS (SELECT bucket, coalesce(n, 0)::INTEGER AS n_calls FROM buckets LEFT JOIN counts USING (bucket))
        SELECT * FROM final ORDER BY bucket""", params)


def operator_summary(con: duckdb.DuckDBPyConnection, start, end) -> list[dict]:
    """Per operator: n_calls, mean duration (s), operator talk share, mean confidence, calls needing review."""
    return _rows(con, """
        SELECT operator_ext, sum(n_calls)::INTEGER AS n_calls,
               round(sum(total_duration_s) / sum(n_calls), 1) AS mean_duration_s,
               round(sum(operator_talk_s) / nullif(sum(total_duration_s), 0), 3) AS operator_talk_share,
               round(sum(mean_confidence * n_calls) / sum(n_calls), 3) AS mean_confidence,
               sum(n_needs_review)::INTEGER AS n_needs_review
        FROM mart_operator_daily WHERE call_date BETWEEN ? AND ? GROUP BY ALL ORDER BY n_calls DESC, operator_ext""",
                 [_as_date(start), _as_date(end)])


def review_queue(con: duckdb.DuckDBPyConnection, *, limit: int = 50) -> list[dict]:
    """Calls waiting for QA, urgent first, then least confident (``mart_review_queue``)."""
    return _rows(con, "SELECT * FROM mart_review_queue ORDER BY priority LIMIT ?", [limit])


def review_backlog(con: duckdb.DuckDBPyConnection) -> dict:
    """Counts: waiting (needs review or urgent, not reviewed), of which urgent, reviewed, QA corrections."""
    waiting, urgent = con.execute("SELECT count(*), count(*) FILTER (WHERE urgent) FROM mart_review_queue").fetchone()
    reviewed = con.execute("SELECT count(*) FROM stg_calls WHERE reviewed").fetchone()[0]
    corrections = con.execute("SELECT count(*) FROM topic_corrections").fetchone()[0]
    return {"waiting": waiting, "urgent_waiting": urgent, "reviewed": reviewed, "corrections": corrections}


def correction_summary(con: duckdb.DuckDBPyConnection, start, end) -> list[dict]:
    """QA topic corrections in the period per topic: added, removed, by how many reviewers."""
    return _rows(con, """
        SELECT topic, count(*) FILTER (WHERE action = 'add') AS added, count(*) FILTER (WHERE action = 'remove') AS removed,
               count(DISTINCT user_name) AS reviewers
        FROM topic_corrections WHERE CAST(corrected_at AS DATE) BETWEEN ? AND ? GROUP BY ALL ORDER BY topic""",
                 [_as_date(start), _as_date(end)])


def period_totals(con: duckdb.DuckDBPyConnection, start, end) -> dict:
    """n_calls, n_urgent, n_needs_review, total hours of audio in the period."""
    n, urgent, review, seconds = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE urgent), count(*) FILTER (WHERE needs_review), coalesce(sum(duration_s), 0)
        FROM stg_calls WHERE call_date BETWEEN ? AND ?""", [_as_date(start), _as_date(end)]).fetchone()
    return {"n_calls": n, "n_urgent": urgent, "n_needs_review": review, "hours": round(seconds / 3600, 2)}


def dashboard_charts(con: duckdb.DuckDBPyConnection, start, end, *, lang: str = "vi") -> dict[str, str]:
    """The dashboard's SVG charts for a period: trends, hotspots, hours, weekdays."""
    vi = lang == "vi"
    labels = topic_labels(lang)
    trends = topic_trends(con, start, end)
    weeks = sorted({r["period"] for r in trends})
    series: dict[str, list[float]] = {}
    for topic in sorted({r["topic"] for r in trends}):
        counts = {r["period"]: r["n_calls"] for r in trends if r["topic"] == topic}
        series[labels.get(topic, topic)] = [counts.get(w, 0) for w in weeks]
    hotspots = place_hotspots(con, start, end, limit=12)
    hours = call_volume(con, start, end, by="hour")
    days = call_volume(con, start, end, by="weekday")
    return {
        "trends": charts.line_chart([w.strftime("%d/%m") for w in weeks], series,
                                    title="Chủ đề theo tuần" if vi else "Topics by week"),
        "hotspots": charts.bar_chart([(r["place_name"], r["n_calls"]) for r in hotspots],
                                     title="Điểm nóng theo phường/xã" if vi else "Hotspots by ward/commune"),
        "hours": charts.column_chart([(str(r["bucket"]), r["n_calls"]) for r in hours],
                                     title="Cuộc gọi theo giờ" if vi else "Calls by hour"),
        "weekdays": charts.column_chart([(WEEKDAYS[lang][r["bucket"] - 1], r["n_calls"]) for r in days],
                                        title="Cuộc gọi theo thứ" if vi else "Calls by weekday"),
    }


def _table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_REPORT_CSS = """
body{font-family:system-ui,'Noto Sans',sans-serif;margin:2em auto;max-width:60em;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
.kpi{display:inline-block;margin-right:2em}.kpi b{font-size:1.6em;display:block}
svg.chart text{font-size:11px;fill:#333}svg.chart .chart-title{font-size:13px;font-weight:bold}
"""


def frustration_trends(con: duckdb.DuckDBPyConnection, start, end) -> list[dict]:
    """Share of frustrated callers by topic and week (``mart_frustration_weekly``), in [start, end]."""
    return _rows(con, "SELECT week, topic, n_calls, n_frustrated, round(share_frustrated, 3) AS share_frustrated "
                      "FROM mart_frustration_weekly WHERE week BETWEEN ? AND ? ORDER BY week, topic",
                 [_as_date(start), _as_date(end)])


def summaries(con: duckdb.DuckDBPyConnection, start, end, *, limit: int = 20) -> list[dict]:
    """One-line summaries of the period's calls, urgent then frustrated first."""
    return _rows(con, "SELECT started_at, summary FROM calls WHERE status = 'done' AND summary IS NOT NULL "
                      "AND CAST(started_at AS DATE) BETWEEN ? AND ? "
                      "ORDER BY coalesce(urgent, FALSE) DESC, coalesce(frustrated, FALSE) DESC, started_at LIMIT ?",
                 [_as_date(start), _as_date(end), limit])


def render_report(con: duckdb.DuckDBPyConnection, start, end, *, lang: str = "vi") -> str:
    """A self-contained HTML report for [start, end]: totals, charts (inline SVG), tables. No external assets."""
    start, end = _as_date(start), _as_date(end)
    vi = lang == "vi"
    t = period_totals(con, start, end)
    c = dashboard_charts(con, start, end, lang=lang)
    labels = topic_labels(lang)
    trends = topic_trends(con, start, end)
    totals: dict[str, int] = {}
    for r in trends:
        totals[r["topic"]] = totals.get(r["topic"], 0) + r["n_calls"]
    ops = operator_summary(con, start, end)
    backlog = review_backlog(con)
    title = (f"Báo cáo tổng đài 1022 — {start:%d/%m/%Y} đến {end:%d/%m/%Y}" if vi
             else f"1022 hotline report — {start:%d/%m/%Y} to {end:%d/%m/%Y}")
    kpis = [("Cuộc gọi" if vi else "Calls", t["n_calls"]), ("Khẩn cấp" if vi else "Urgent", t["n_urgent"]),
            ("Cần xem lại" if vi else "Needs review", t["n_needs_review"]), ("Giờ ghi âm" if vi else "Audio hours", t["hours"]),
            ("Chờ QA (tổng)" if vi else "QA backlog (all)", backlog["waiting"])]
    parts = [
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_REPORT_CSS}</style></head><body><h1>{escape(title)}</h1>",
        "".join(f'<span class="kpi"><b>{v}</b>{escape(k)}</span>' for k, v in kpis),
        f"<h2>{'Xu hướng chủ đề' if vi else 'Topic trends'}</h2>", c["trends"],
        _table(["Chủ đề" if vi else "Topic", "Cuộc gọi" if vi else "Calls"],
               [[labels.get(k, k), n] for k, n in sorted(totals.items(), key=lambda kv: -kv[1])]),
        f"<h2>{'Điểm nóng' if vi else 'Hotspots'}</h2>", c["hotspots"],
        f"<h2>{'Lưu lượng cuộc gọi' if vi else 'Call volume'}</h2>", c["hours"], c["weekdays"],
        f"<h2>{'Tỉ lệ người gọi bức xúc' if vi else 'Frustrated callers'}</h2>",
        _table(["Tuần" if vi else "Week", "Chủ đề" if vi else "Topic", "Cuộc gọi" if vi else "Calls",
                "Bức xúc" if vi else "Frustrated", "Tỉ lệ" if vi else "Share"],
               [[f"{r['week']:%d/%m}", labels.get(r["topic"], r["topic"]), r["n_calls"], r["n_frustrated"],
                 r["share_frustrated"]] for r in frustration_trends(con, start, end)]),
        f"<h2>{'Tóm tắt cuộc gọi' if vi else 'Call summaries'}</h2>",
        _table(["Thời gian" if vi else "Time", "Tóm tắt" if vi else "Summary"],
               [[f"{r['started_at']:%d/%m %H:%M}" if r["started_at"] else "", r["summary"]]
                for r in summaries(con, start, end)]),
        f"<h2>{'Điện thoại viên' if vi else 'Operators'}</h2>",
        _table(["Máy lẻ" if vi else "Extension", "Cuộc gọi" if vi else "Calls", "TB giây" if vi else "Mean s",
                "Tỉ lệ nói" if vi else "Talk share", "Độ tin cậy" if vi else "Confidence",
                "Cần xem lại" if vi else "Needs review"],
               [[o["operator_ext"], o["n_calls"], o["mean_duration_s"], o["operator_talk_share"], o["mean_confidence"],
                 o["n_needs_review"]] for o in ops]),
        f"<p><small>{'Tạo lúc' if vi else 'Generated'} {datetime.now():%d/%m/%Y %H:%M}</small></p></body></html>",
    ]
    return "".join(parts)


def write_report(con: duckdb.DuckDBPyConnection, start, end, out: Path, *, lang: str = "vi") -> Path:
    """Write :func:`render_report` to ``out`` (.html); for a ``.pdf`` path, print it with headless chromium."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    html = render_report(con, start, end, lang=lang)
    if out.suffix.lower() != ".pdf":
        out.write_text(html, encoding="utf-8")
        return out
    html_to_pdf(html, out)
    return out


def html_to_pdf(html: str, out: Path, *, chromium: str | None = None) -> None:
    """Print HTML to PDF with ``chromium --headless --print-to-pdf`` (Debian's chromium; offline)."""
    from pipeline.errors import HotlineError

    exe = chromium or shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        raise HotlineError("PDF needs chromium: apt-get install chromium, or write .html instead")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp}/profile",
                        "--no-pdf-header-footer", f"--print-to-pdf={Path(out).resolve()}", page.as_uri()],
                       check=True, capture_output=True, timeout=120)
