"""The report queries: marts and staged views read for a period (bind parameters only).

:mod:`pipeline.report.reports` (and the web dashboard through it) builds tables, charts and
text from these rows; :mod:`pipeline.report.reports` re-exports each under its own name.
Periods are inclusive ``[start, end]`` local dates (a ``date`` or an ISO string).
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb


def as_date(value: date | str) -> date:
    """A ``date`` from a date, a datetime or an ISO string."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params) -> list[dict]:
    cur = con.execute(sql, params)
    keys = [d[0] for d in cur.description]
    return [dict(zip(keys, r)) for r in cur.fetchall()]


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
                 [as_date(start), as_date(end)])


def place_hotspots(con: duckdb.DuckDBPyConnection, start, end, *, limit: int = 15) -> list[dict]:
    """Wards/communes named in the most calls: place_name, kind, n_calls, n_urgent."""
    return _rows(con, """
        SELECT place_name, kind, sum(n_calls)::INTEGER AS n_calls, sum(n_urgent)::INTEGER AS n_urgent
        FROM mart_place_hotspots WHERE call_date BETWEEN ? AND ?
        GROUP BY ALL ORDER BY n_calls DESC, place_name LIMIT ?""", [as_date(start), as_date(end), limit])


def call_volume(con: duckdb.DuckDBPyConnection, start, end, *, by: str = "hour") -> list[dict]:
    """Calls by ``hour`` (0..23), ``weekday`` (1 = Monday .. 7) or ``day`` (date), every bucket present."""
    params = [as_date(start), as_date(end)]
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
                 [as_date(start), as_date(end)])


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
                 [as_date(start), as_date(end)])


def period_totals(con: duckdb.DuckDBPyConnection, start, end) -> dict:
    """Calls of the period: n_calls, n_urgent, n_needs_review (flagged and not yet reviewed, as the
    call list's filter counts them), n_queue (in the QA queue: urgent or flagged, not reviewed),
    n_reviewed, seconds and hours of audio."""
    n, urgent, review, queue, reviewed, seconds = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE urgent), count(*) FILTER (WHERE needs_review AND NOT reviewed),
               count(*) FILTER (WHERE (needs_review OR urgent) AND NOT reviewed), count(*) FILTER (WHERE reviewed),
               coalesce(sum(duration_s), 0)
        FROM stg_calls WHERE call_date BETWEEN ? AND ?""", [as_date(start), as_date(end)]).fetchone()
    return {"n_calls": n, "n_urgent": urgent, "n_needs_review": review, "n_queue": queue, "n_reviewed": reviewed,
            "seconds": float(seconds), "hours": round(seconds / 3600, 2)}


SAID_CHARS = 200  # of what the caller said, shown per urgent call


def urgent_calls(con: duckdb.DuckDBPyConnection, start, end, *, limit: int = 50) -> list[dict]:
    """Urgent calls of the period, oldest first: time, PBX id, places, topics, what the caller said (the
    readable text where made, redacted, first SAID_CHARS characters), reasons, routing, reviewed."""
    return _rows(con, """
        WITH topics AS (SELECT call_id, string_agg(topic, ',' ORDER BY topic) AS topics FROM stg_call_topics GROUP BY ALL),
        places AS (SELECT call_id, string_agg(DISTINCT place_name, ', ') AS places FROM stg_call_places
                   WHERE is_admin_unit GROUP BY ALL),
        routes AS (SELECT call_id, string_agg(coalesce(agency_vi, agency), '; ' ORDER BY seq) AS routed,
                          string_agg(agency, '; ' ORDER BY seq) AS routed_en FROM call_routes GROUP BY ALL),
        said AS (SELECT call_id, string_agg(coalesce(readable, text), ' ' ORDER BY seq) AS said FROM segments
                 WHERE role = 'citizen' AND coalesce(readable, text) <> '' GROUP BY ALL),
        final AS (
            SELECT s.call_id, s.started_at, c.pbx_call_id, s.operator_ext, s.urgency_reasons, s.reviewed,
                   coalesce(t.topics, '') AS topics, coalesce(p.places, '') AS places,
                   coalesce(r.routed, '') AS routed, coalesce(r.routed_en, '') AS routed_en,
                   CASE WHEN length(w.said) > $n THEN left(w.said, $n) || '…' ELSE coalesce(w.said, '') END AS said
            FROM stg_calls s JOIN calls c USING (call_id) LEFT JOIN topics t USING (call_id)
            LEFT JOIN places p USING (call_id) LEFT JOIN routes r USING (call_id) LEFT JOIN said w USING (call_id)
            WHERE s.urgent AND s.call_date BETWEEN $start AND $end)
        SELECT * FROM final ORDER BY started_at, call_id LIMIT $limit""",
                 {"start": as_date(start), "end": as_date(end), "limit": limit, "n": SAID_CHARS})


def frustration_trends(con: duckdb.DuckDBPyConnection, start, end) -> list[dict]:
    """Share of frustrated callers by topic and week (``mart_frustration_weekly``), in [start, end]."""
    return _rows(con, "SELECT week, topic, n_calls, n_frustrated, round(share_frustrated, 3) AS share_frustrated "
                      "FROM mart_frustration_weekly WHERE week BETWEEN ? AND ? ORDER BY week, topic",
                 [as_date(start), as_date(end)])


def summaries(con: duckdb.DuckDBPyConnection, start, end, *, limit: int = 20) -> list[dict]:
    """One-line summaries of the period's calls, urgent then frustrated first."""
    return _rows(con, "SELECT started_at, summary FROM calls WHERE status = 'done' AND summary IS NOT NULL "
                      "AND CAST(started_at AS DATE) BETWEEN ? AND ? "
                      "ORDER BY coalesce(urgent, FALSE) DESC, coalesce(frustrated, FALSE) DESC, started_at LIMIT ?",
                 [as_date(start), as_date(end), limit])


def topic_week_counts(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[tuple[date, str], int]:
    """(Monday of the week, topic) → calls of the period."""
    return {(r[0], r[1]): r[2] for r in con.execute("""
        SELECT c.call_week, t.topic, count(*) FROM stg_calls c JOIN stg_call_topics t USING (call_id)
        WHERE c.call_date BETWEEN ? AND ? GROUP BY ALL""", [start, end]).fetchall()}


def topic_counts(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, int]:
    """Topic → calls of the period."""
    return dict(con.execute("""
        SELECT t.topic, count(*) FROM stg_calls c JOIN stg_call_topics t USING (call_id)
        WHERE c.call_date BETWEEN ? AND ? GROUP BY ALL""", [start, end]).fetchall())


def place_counts(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, float]:
    """Ward/commune → calls of the period (``mart_place_hotspots``)."""
    return dict(con.execute("SELECT place_name, sum(n_calls) FROM mart_place_hotspots WHERE call_date BETWEEN ? AND ? "
                            "GROUP BY ALL", [start, end]).fetchall())


def old_place_names(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[tuple[str, str]]:
    """(2025 unit, the pre-2025 name callers said) pairs of the period, sorted."""
    return con.execute("""
            SELECT DISTINCT p.place_name, p.resolved_from FROM stg_call_places p JOIN stg_calls c USING (call_id)
            WHERE p.is_admin_unit AND p.resolved_from IS NOT NULL AND c.call_date BETWEEN ? AND ?
            ORDER BY 1, 2""", [start, end]).fetchall()


# Cases (pipeline.report.case_reports): incidents are stg_cases rows, merged cases counted once in the case they joined.

def cases_by_unit(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """``mart_cases_by_unit``, most overdue first."""
    return _rows(con, "SELECT * FROM mart_cases_by_unit ORDER BY n_overdue DESC, n_open DESC, unit", [])


CASE_TOTAL_KEYS = ("n_incidents", "n_calls", "n_answered", "n_open", "n_overdue", "median_hours_to_resolve",
                   "reopened_share", "n_callbacks")


def case_totals(con: duckdb.DuckDBPyConnection) -> dict:
    """:data:`CASE_TOTAL_KEYS` over every incident, and the merge proposals waiting (``n_proposals_waiting``)."""
    row = con.execute(
        """SELECT count(*), coalesce(sum(n_calls), 0), count(*) FILTER (WHERE kind = 'inquiry'),
                  count(*) FILTER (WHERE is_open), count(*) FILTER (WHERE is_overdue),
                  median(hours_to_resolve) FILTER (WHERE kind = 'complaint'),
                  coalesce(count(*) FILTER (WHERE n_reopened > 0 AND kind = 'complaint')
                           / nullif(count(*) FILTER (WHERE kind = 'complaint'), 0)::DOUBLE, 0),
                  count(*) FILTER (WHERE status = 'resolved')
           FROM stg_cases""").fetchone()
    waiting = con.execute("SELECT count(*) FROM case_merge_proposals WHERE decision IS NULL").fetchone()[0]
    return dict(zip(CASE_TOTAL_KEYS, row)) | {"n_proposals_waiting": waiting}


def cases_weekly(con: duckdb.DuckDBPyConnection, columns: tuple[str, ...], week: date | None = None,
                 unit: str | None = None) -> list[dict]:
    """``mart_cases_weekly`` rows (unit, week and ``columns``, fixed names) of a week (its Monday) and unit, if given."""
    where, params = [], []
    if week is not None:
        where.append("week = ?")
        params.append(week)
    if unit:
        where.append("unit = ?")
        params.append(unit)
    return _rows(con, f"SELECT unit, week, {', '.join(columns)} FROM mart_cases_weekly "  # columns: the caller's constant
                      f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY unit, opened_at", params)
