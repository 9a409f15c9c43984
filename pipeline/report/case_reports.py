"""Case figures for managers: by unit, per-unit weekly list, and a Markdown report section.

Counts say which they count: *incidents* (cases, merged ones counted once in the case
they joined) and *calls* (every call linked to a case). Both are shown side by side.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb

from pipeline.analysis.pii import redacted
from pipeline.report import sheets
from pipeline.warehouse import report_queries as queries

WEEKLY_COLUMNS = ("case_id", "kind", "status", "topic", "place", "urgent", "opened_at", "due_date", "is_overdue",
                  "n_calls", "resolved_at", "result")


def by_unit(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Per unit: incidents, calls, open, overdue, median hours to resolve, reopened share (complaints)."""
    return queries.cases_by_unit(con)


def totals(con: duckdb.DuckDBPyConnection) -> dict:
    """Incidents, calls, answered inquiries, open, overdue, median hours to resolve, reopened share,
    callbacks waiting and merge proposals waiting."""
    return queries.case_totals(con)


def weekly(con: duckdb.DuckDBPyConnection, week: date | None = None, unit: str | None = None) -> list[dict]:
    """Cases opened in the week starting ``week`` (a Monday; any day is moved back to its Monday)."""
    if week is not None:
        week = week - timedelta(days=week.weekday())
    return queries.cases_weekly(con, WEEKLY_COLUMNS, week, unit)


def weekly_csv(rows: list[dict], *, raw_text: bool = False) -> str:
    """The weekly list as CSV (through :mod:`pipeline.report.sheets`: no cell is a formula), with a BOM
    so that Excel opens UTF-8 Vietnamese correctly. The units' results are redacted unless ``raw_text``
    (a role of ``HOTLINE_RAW_TEXT_ROLES``: :mod:`pipeline.access`)."""
    columns = ["unit", "week", *WEEKLY_COLUMNS]
    body = [[(r.get(c) if c != "result" or raw_text else redacted(r.get(c))) for c in columns] for r in rows]
    return sheets.csv_text(columns, body)


def markdown_section(con: duckdb.DuckDBPyConnection) -> str:
    """The "Cases" section of a report: totals, then a table per unit."""
    t = totals(con)
    med = f"{t['median_hours_to_resolve']:.1f} h" if t["median_hours_to_resolve"] is not None else "—"
    lines = ["## Phiếu phản ánh / Cases", "",
             f"- Vụ việc (incidents): **{t['n_incidents']}**, từ **{t['n_calls']}** cuộc gọi (calls); "
             f"hỏi đáp đã trả lời tại chỗ: {t['n_answered']}",
             f"- Đang mở: {t['n_open']}, quá hạn: **{t['n_overdue']}**, chờ gọi lại báo kết quả: {t['n_callbacks']}",
             f"- Trung vị thời gian xử lý: {med}; tỷ lệ mở lại: {t['reopened_share']:.0%}; "
             f"đề xuất gộp chờ duyệt: {t['n_proposals_waiting']}", "",
             "| Đơn vị | Vụ việc | Cuộc gọi | Đang mở | Quá hạn | Trung vị (h) | Mở lại |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in by_unit(con):
        m = f"{r['median_hours_to_resolve']:.1f}" if r["median_hours_to_resolve"] is not None else "—"
        lines.append(f"| {r['unit']} | {r['n_cases']} | {r['n_calls']} | {r['n_open']} | {r['n_overdue']} | {m} | "
                     f"{r['reopened_share']:.0%} |")
    return "\n".join(lines) + "\n"
