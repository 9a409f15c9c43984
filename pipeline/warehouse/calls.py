"""The call list and one call's rows, as the web app reads and QA corrects them (bind parameters only).

The logic (search ranking, paging, checks, audio path resolution) stays in
:mod:`pipeline.web.data`; these functions are its SQL. SQL text is assembled only
from fixed fragments; values travel as parameters.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb

from pipeline.warehouse.db import transaction


def _dicts(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    keys = [d[0] for d in cur.description]
    return [dict(zip(keys, r)) for r in cur.fetchall()]


def admin_place_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The wards and communes the calls name, sorted."""
    return [r[0] for r in con.execute(
        "SELECT DISTINCT place_name FROM stg_call_places WHERE is_admin_unit ORDER BY place_name").fetchall()]


def operator_exts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The operator extensions of the calls, sorted."""
    return [r[0] for r in con.execute("SELECT DISTINCT operator_ext FROM stg_calls ORDER BY 1").fetchall()]


def line_keys(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The lines of the calls, sorted."""
    return [r[0] for r in con.execute("SELECT DISTINCT line FROM stg_calls WHERE line IS NOT NULL ORDER BY 1").fetchall()]


def call_rows(con: duckdb.DuckDBPyConnection, *, start: date | None = None, end: date | None = None,
              topic: str | None = None, place: str | None = None, operator: str | None = None,
              needs_review: bool = False, urgent: bool = False, queue: bool = False,
              call_ids: list[str] | None = None, hour: int | None = None, line: str | None = None,
              lines: tuple[str, ...] | list[str] | None = None, limit: int | None = None,
              offset: int = 0, category: str | None = None) -> list[dict]:
    """Every call that matches (all conditions together), newest first; the review queue in its priority order.

    ``call_ids`` (a search's hits) keeps only those calls; ``hour`` (0..23) only calls started in that hour of
    the day (``stg_calls.call_hour``, as the dashboard's calls-by-hour chart counts them). ``line``: one line;
    ``lines``: the reader's line scope (None: every line; empty: no call). ``limit``/``offset``: one page,
    chosen before the topics and places are gathered (issue 32: the whole list took 15 s at 10 000 calls). ``category``: only
    calls a rule in force matched (``stg_rule_hits``, by rule name).
    """
    where, params, queue_order = _call_where(start=start, end=end, topic=topic, place=place, operator=operator,
                                             needs_review=needs_review, urgent=urgent, queue=queue,
                                             call_ids=call_ids, hour=hour, line=line, lines=lines,
                                             category=category)
    order = "c.started_at DESC, c.call_id"
    if queue_order:
        # the queue's own priority (mart_review_queue; 007 puts frustrated repeat callers after urgent ones)
        order = "(SELECT q.priority FROM mart_review_queue q WHERE q.call_id = c.call_id), c.call_id"
    page = ""
    if limit is not None:
        page = "LIMIT $limit OFFSET $offset"
        params.update(limit=int(limit), offset=int(offset))
    # Two steps (issue 32): the page's ids from the narrow columns, then its rows by `= ANY(ids)`. One query
    # joining the page to stg_calls read every transcript of the warehouse: 10 s a page at 100 000 calls.
    ids = [r[0] for r in con.execute(
        f"SELECT c.call_id FROM stg_calls c WHERE {' AND '.join(where)} ORDER BY {order} {page}",  # fixed fragments
        params).fetchall()]
    if not ids:
        return []
    rows = _dicts(con.execute("""
        WITH topics AS (
            SELECT call_id, string_agg(topic, ',' ORDER BY topic) AS topics FROM stg_call_topics
            WHERE call_id = ANY($ids) GROUP BY call_id
        ), places AS (
            SELECT call_id, string_agg(DISTINCT place_name, ', ') AS places FROM stg_call_places
            WHERE is_admin_unit AND call_id = ANY($ids) GROUP BY call_id
        ), final AS (
            -- the page's rows read from `calls` itself, as stg_calls casts them: a filter on call_id does not
            -- reach through the view (reading 50 rows through it took 7 s at 100 000 calls)
            SELECT c.call_id, c.started_at, c.line, coalesce(c.operator_ext, '?') AS operator_ext,
                   CAST(c.duration_s AS DOUBLE) AS duration_s, CAST(c.confidence AS DOUBLE) AS confidence,
                   coalesce(c.needs_review, FALSE) AS needs_review, coalesce(c.urgent, FALSE) AS urgent,
                   coalesce(c.reviewed, FALSE) AS reviewed, c.review_reasons, c.urgency_reasons,
                   coalesce(t.topics, '') AS topics, coalesce(p.places, '') AS places, c.transcript,
                   coalesce(c.transcript_readable, c.transcript) AS transcript_readable, c.caller_initials, c.summary
            FROM calls c LEFT JOIN topics t USING (call_id) LEFT JOIN places p USING (call_id)
            WHERE c.call_id = ANY($ids) AND c.status = 'done'
        )
        SELECT * FROM final
    """, {"ids": ids}))
    at = {cid: i for i, cid in enumerate(ids)}
    return sorted(rows, key=lambda r: at[r["call_id"]])


def call_count(con: duckdb.DuckDBPyConnection, **conditions) -> int:
    """How many calls :func:`call_rows` finds with the same conditions (no page)."""
    where, params, _ = _call_where(**conditions)
    return con.execute(f"SELECT count(*) FROM stg_calls c WHERE {' AND '.join(where)}",  # fixed fragments
                       params).fetchone()[0]


def _call_where(*, start=None, end=None, topic=None, place=None, operator=None, needs_review=False, urgent=False,
                queue=False, call_ids=None, hour=None, line=None, lines=None,
                category=None) -> tuple[list[str], dict, bool]:
    """(WHERE fragments over ``stg_calls c``, their parameters, whether the queue orders) of the call list."""
    where, params = ["TRUE"], {}
    if line:
        where.append("c.line = $line")
        params["line"] = line
    if lines is not None:
        where.append("c.line = ANY($lines::VARCHAR[])")
        params["lines"] = list(lines)
    if start:
        where.append("c.call_date >= $start")
        params["start"] = start
    if end:
        where.append("c.call_date <= $end")
        params["end"] = end
    if topic:
        where.append("c.call_id IN (SELECT call_id FROM stg_call_topics WHERE topic = $topic)")
        params["topic"] = topic
    if place:
        where.append("c.call_id IN (SELECT call_id FROM stg_call_places WHERE place_name = $place)")
        params["place"] = place
    if operator:
        where.append("c.operator_ext = $operator")
        params["operator"] = operator
    if hour is not None:
        where.append("c.call_hour = $hour")
        params["hour"] = int(hour)
    if category:
        where.append("c.call_id IN (SELECT call_id FROM stg_rule_hits WHERE rule_name = $category)")
        params["category"] = category
    if needs_review:
        where.append("c.needs_review AND NOT c.reviewed")
    if urgent:
        where.append("c.urgent")
    if queue:
        where.append("c.call_id IN (SELECT call_id FROM mart_review_queue)")
    if call_ids is not None:
        where.append("c.call_id = ANY($ids::VARCHAR[])")
        params["ids"] = list(call_ids)
    return where, params, queue


def call_summary(con: duckdb.DuckDBPyConnection, call_id: str) -> str | None:
    """The call's one-line summary (pipeline.analysis.summary), or None."""
    row = con.execute("SELECT summary FROM calls WHERE call_id = ?", [call_id]).fetchone()
    return row[0] if row else None


def call_mood(con: duckdb.DuckDBPyConnection, call_id: str) -> dict | None:
    """Per-call sentiment (pipeline.analysis.sentiment): frustration, frustrated, operator_courtesy, repeat_unresolved."""
    cur = con.execute("SELECT frustration, frustrated, operator_courtesy, repeat_unresolved FROM calls "
                      "WHERE call_id = ? AND (frustration IS NOT NULL OR operator_courtesy IS NOT NULL)", [call_id])
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row)) if row else None


def turn_sentiment(con: duckdb.DuckDBPyConnection, call_id: str) -> dict[int, dict]:
    """Per segment number: sentiment label and score (pipeline.analysis.sentiment), for the call page timeline."""
    return {seq: {"label": label, "score": score} for seq, label, score in con.execute(
        "SELECT seq, label, score FROM turn_sentiment WHERE call_id = ?", [call_id]).fetchall()}


def staged_call(con: duckdb.DuckDBPyConnection, call_id: str) -> dict | None:
    """The call's ``stg_calls`` row (done calls only), or None."""
    rows = _dicts(con.execute("SELECT * FROM stg_calls WHERE call_id = ?", [call_id]))
    return rows[0] if rows else None


# What a person reads (readable text where made, migration 014) and the normalised text it stands for,
# unredacted (segments_raw, where kept) or redacted; fixed fragments only.
_SHOWN = {True: ("CASE WHEN r.call_id IS NOT NULL THEN coalesce(r.readable, r.text) ELSE coalesce(s.readable, s.text) END",
                 "CASE WHEN r.call_id IS NOT NULL THEN r.readable_align ELSE s.readable_align END",
                 "coalesce(r.text, s.text)"),
          False: ("coalesce(s.readable, s.text)", "s.readable_align", "s.text")}


def call_segments(con: duckdb.DuckDBPyConnection, call_id: str, *, raw_text: bool) -> list[dict]:
    """The call's sentences in order: ``text`` the readable text (the normalised text where none was made),
    ``align`` its recogniser words per token (or None), ``plain`` the normalised text; unredacted
    (``segments_raw``, where kept) only when ``raw_text``."""
    shown, align, plain = _SHOWN[bool(raw_text)]
    return [dict(zip(("seq", "start_s", "end_s", "role", "speaker", "text", "confidence", "align", "plain"), r))
            for r in con.execute(
        f"SELECT s.seq, s.start_s, s.end_s, s.role, s.speaker, {shown}, s.confidence, {align}, {plain} "  # fixed choice
        "FROM segments s LEFT JOIN segments_raw r USING (call_id, seq) WHERE s.call_id = ? ORDER BY s.seq",
        [call_id]).fetchall()]


def call_topics(con: duckdb.DuckDBPyConnection, call_id: str) -> list[dict]:
    """The call's topics now (QA corrections applied), best model score first."""
    return [dict(zip(("topic", "model_score", "corrected"), r)) for r in con.execute(
        "SELECT topic, model_score, corrected FROM stg_call_topics WHERE call_id = ? ORDER BY model_score DESC NULLS LAST, topic",
        [call_id]).fetchall()]


def call_places(con: duckdb.DuckDBPyConnection, call_id: str) -> list[dict]:
    return [dict(zip(("kind", "said", "place_name", "resolved_from"), r)) for r in con.execute(
        "SELECT kind, said, place_name, resolved_from FROM stg_call_places WHERE call_id = ? ORDER BY seq", [call_id]).fetchall()]


def call_routes(con: duckdb.DuckDBPyConnection, call_id: str) -> list[dict]:
    return [dict(zip(("agency", "agency_vi", "reason"), r)) for r in con.execute(
        "SELECT agency, agency_vi, reason FROM call_routes WHERE call_id = ? ORDER BY seq", [call_id]).fetchall()]


def call_metrics(con: duckdb.DuckDBPyConnection, call_id: str) -> list[dict]:
    return [dict(zip(("scope", "metric", "value"), r)) for r in con.execute(
        "SELECT scope, metric, value FROM stg_call_metrics WHERE call_id = ? ORDER BY scope, metric", [call_id]).fetchall()]


def call_history(con: duckdb.DuckDBPyConnection, call_id: str) -> list[dict]:
    """Topic corrections and review marks of the call, newest first."""
    return [dict(zip(("what", "action", "user_name", "at"), r)) for r in con.execute(
        """SELECT topic, action, user_name, corrected_at FROM topic_corrections WHERE call_id = $id
           UNION ALL SELECT '—', action, user_name, acted_at FROM review_events WHERE call_id = $id
           ORDER BY 4 DESC""", {"id": call_id}).fetchall()]


def call_exists(con: duckdb.DuckDBPyConnection, call_id: str) -> bool:
    return con.execute("SELECT 1 FROM calls WHERE call_id = ?", [call_id]).fetchone() is not None


def has_topic(con: duckdb.DuckDBPyConnection, call_id: str, topic: str) -> bool:
    """Whether the call has ``topic`` now (``stg_call_topics``: QA corrections applied)."""
    return con.execute("SELECT 1 FROM stg_call_topics WHERE call_id = ? AND topic = ?",
                       [call_id, topic]).fetchone() is not None


def write_topic_correction(con: duckdb.DuckDBPyConnection, call_id: str, topic: str, add: bool, user_name: str,
                           now: datetime) -> None:
    """QA's row for the topic (replacing an earlier one) and its audit row, in one transaction."""
    with transaction(con):
        con.execute("DELETE FROM call_topics WHERE call_id = ? AND topic = ? AND source = 'qa'", [call_id, topic])
        con.execute("INSERT INTO call_topics VALUES (?, ?, NULL, 'qa', ?)", [call_id, topic, add])
        con.execute("INSERT INTO topic_corrections VALUES (?, ?, ?, ?, ?)",
                    [call_id, topic, "add" if add else "remove", user_name, now])


def set_reviewed(con: duckdb.DuckDBPyConnection, call_id: str, user_name: str, reviewed: bool, now: datetime) -> None:
    """Set or clear the call's reviewed mark, with an audit row in ``review_events``, in one transaction."""
    with transaction(con):
        con.execute("UPDATE calls SET reviewed = ?, reviewed_by = ?, reviewed_at = ? WHERE call_id = ?",
                    [reviewed, user_name if reviewed else None, now if reviewed else None, call_id])
        con.execute("INSERT INTO review_events VALUES (?, ?, ?, ?)",
                    [call_id, "reviewed" if reviewed else "reopened", user_name, now])


def recording_location(con: duckdb.DuckDBPyConnection, call_id: str) -> tuple[str | None, str | None, str | None] | None:
    """(source_path, the run's source_dir, recording_sha256) of the call, or None when unknown."""
    return con.execute("SELECT c.source_path, r.source_dir, c.recording_sha256 FROM calls c JOIN runs r USING (run_id) "
                       "WHERE c.call_id = ?", [call_id]).fetchone()


def redaction_rows(con: duckdb.DuckDBPyConnection, call_id: str) -> dict | None:
    """What the redacted audio is computed from (:mod:`pipeline.stages.audio_redaction`), or None for no such call:
    ``status``, ``duration_s``, ``word_times`` (``calls.asr_word_times``), ``segments`` (seq, start_s, end_s,
    channel, shown = redacted text, raw = ``segments_raw`` text or None) and ``words`` (seq, start_s, end_s)."""
    row = con.execute("SELECT status, duration_s, asr_word_times FROM calls WHERE call_id = ?", [call_id]).fetchone()
    if row is None:
        return None
    segments = [dict(zip(("seq", "start_s", "end_s", "channel", "shown", "raw"), r)) for r in con.execute(
        "SELECT s.seq, s.start_s, s.end_s, s.channel, s.text, r.text FROM segments s "
        "LEFT JOIN segments_raw r USING (call_id, seq) WHERE s.call_id = ? ORDER BY s.seq", [call_id]).fetchall()]
    words = con.execute("SELECT seq, start_s, end_s FROM words WHERE call_id = ? ORDER BY seq, word_seq",
                        [call_id]).fetchall()
    return {"status": row[0], "duration_s": row[1], "word_times": row[2] or "model", "segments": segments,
            "words": words}


# Exports (pipeline.report.exports)

def export_extras(con: duckdb.DuckDBPyConnection, call_ids: list[str]) -> dict[str, tuple]:
    """call_id → (pbx_call_id, summary, routing in Vietnamese, routing agency keys) for a call list export.

    ``summary`` is NULL on a warehouse from before the column (issue 16).
    """
    cols = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'calls'"
                                      ).fetchall()}
    summary = "c.summary" if "summary" in cols else "NULL"  # fixed fragment: issue 16 adds the column
    return {r[0]: r[1:] for r in con.execute(f"""
        SELECT c.call_id, c.pbx_call_id, {summary},
               (SELECT string_agg(coalesce(agency_vi, agency), '; ' ORDER BY seq) FROM call_routes r WHERE r.call_id = c.call_id),
               (SELECT string_agg(agency, '; ' ORDER BY seq) FROM call_routes r WHERE r.call_id = c.call_id)
        FROM calls c WHERE c.call_id IN (SELECT unnest($ids))""", {"ids": call_ids}).fetchall()}


def transcript_call(con: duckdb.DuckDBPyConnection, call_id: str) -> tuple | None:
    """(call_id, pbx_call_id, started_at, operator_ext) of any call, or None."""
    return con.execute("SELECT call_id, pbx_call_id, started_at, operator_ext FROM calls WHERE call_id = ?",
                       [call_id]).fetchone()


def transcript_segments(con: duckdb.DuckDBPyConnection, call_id: str, *, raw: bool) -> list[dict]:
    """The call's segments for a transcript export (start, end, speaker, role, text: the readable text where
    made, ``plain``: the normalised text); unredacted only when ``raw``."""
    shown, _, plain = _SHOWN[bool(raw)]
    return [dict(zip(("start", "end", "speaker", "role", "text", "plain"), r)) for r in con.execute(
        f"SELECT s.start_s, s.end_s, s.speaker, coalesce(s.role, 'unknown'), {shown}, {plain} FROM segments s "
        "LEFT JOIN segments_raw r USING (call_id, seq) WHERE s.call_id = ? ORDER BY s.seq", [call_id]).fetchall()]


# Similar calls (pipeline.warehouse.similar)

def done_call_text(con: duckdb.DuckDBPyConnection, call_id: str) -> tuple | None:
    """(started_at, transcript) of a processed call, or None."""
    return con.execute("SELECT started_at, transcript FROM calls WHERE call_id = ? AND status = 'done'",
                       [call_id]).fetchone()


def similar_candidates(con: duckdb.DuckDBPyConnection, call_id: str, started, *, window_days: int,
                       limit: int, lines: tuple[str, ...] | list[str] | None = None) -> list[tuple]:
    """(call_id, started_at, summary, topics, unit codes, days apart) of processed calls within
    ``window_days`` of ``started`` (the call itself included), nearest in time first, at most ``limit``;
    ``lines``: only calls on these lines (None: every line). The window is cut first (a range on
    ``started_at``), then only its calls' topics and places are read (issue 32: every call's were)."""
    return con.execute(
        """
        WITH c AS (
            SELECT call_id, started_at, summary,
                   CASE WHEN started_at IS NULL OR $s IS NULL THEN NULL
                        ELSE abs(date_diff('hour', started_at, $s)) / 24.0 END AS days
            FROM calls
            WHERE status = 'done'
              AND (call_id = $id OR $s IS NULL OR started_at IS NULL
                   OR (started_at BETWEEN $s::TIMESTAMP - to_days($w + 1) AND $s::TIMESTAMP + to_days($w + 1)
                       AND abs(date_diff('hour', started_at, $s)) <= $w * 24))
              AND (call_id = $id OR $lines::VARCHAR[] IS NULL OR line = ANY($lines::VARCHAR[]))
            ORDER BY (call_id = $id) DESC, days NULLS LAST, call_id LIMIT $n
        ), t AS (SELECT call_id, list(DISTINCT topic) AS topics FROM call_topics
                 WHERE assigned AND topic <> 'other' AND call_id IN (SELECT call_id FROM c) GROUP BY call_id),
           p AS (SELECT call_id, list(DISTINCT unit_code) AS units FROM call_places
                 WHERE unit_code IS NOT NULL AND kind IN ('ward', 'commune', 'town')
                   AND call_id IN (SELECT call_id FROM c) GROUP BY call_id)
        SELECT c.call_id, c.started_at, c.summary, coalesce(t.topics, []), coalesce(p.units, []), c.days
        FROM c LEFT JOIN t USING (call_id) LEFT JOIN p USING (call_id)
        ORDER BY c.days NULLS LAST, c.call_id
        """,
        {"s": started, "id": call_id, "w": window_days, "n": limit, "lines": None if lines is None else list(lines)},
    ).fetchall()


def call_transcripts(con: duckdb.DuckDBPyConnection, call_ids: list[str]) -> dict[str, str | None]:
    """Per call id: its redacted transcript."""
    if not call_ids:
        return {}
    return dict(con.execute("SELECT call_id, transcript FROM calls WHERE call_id = ANY(?)", [list(call_ids)]).fetchall())


def start_sources(con: duckdb.DuckDBPyConnection, call_ids: list[str]) -> dict[str, str]:
    """Per call id: where its start time came from (migration 017), for those whose time is an estimate."""
    if not call_ids:
        return {}
    return dict(con.execute(
        "SELECT call_id, started_at_source FROM calls WHERE call_id IN (SELECT unnest(?)) "
        "AND started_at_source IS NOT NULL AND started_at_source <> 'call_log'", [list(call_ids)]).fetchall())


def without_call_log(con: duckdb.DuckDBPyConnection, call_ids: list[str]) -> list[tuple[str, str | None]]:
    """(call_id, start source) of the loaded calls among ``call_ids`` that had no call-log row: no caller,
    no operator, no PBX id, and a start time estimated from the recording (or none)."""
    if not call_ids:
        return []
    return [tuple(r) for r in con.execute(
        "SELECT call_id, started_at_source FROM calls WHERE call_id IN (SELECT unnest(?)) AND status = 'done' "
        "AND pbx_call_id IS NULL AND caller_hash IS NULL AND coalesce(started_at_source, '') <> 'call_log' "
        "ORDER BY call_id", [list(call_ids)]).fetchall()]


def understanding_inputs(con: duckdb.DuckDBPyConnection, call_id: str) -> dict:
    """What a call's routing and summary are made from, as stored: assigned topics now (QA corrections applied,
    best first), place rows, the citizen's and the operator's redacted text, the urgent flag."""
    topics = [r[0] for r in con.execute(
        "SELECT topic FROM stg_call_topics WHERE call_id = ? ORDER BY model_score DESC NULLS LAST, topic", [call_id]).fetchall()]
    places = [dict(zip(("kind", "text", "name", "unit_code", "resolved_from"), r)) for r in con.execute(
        "SELECT kind, text, name, unit_code, resolved_from FROM call_places WHERE call_id = ? ORDER BY seq", [call_id]).fetchall()]
    said = {role: text for role, text in con.execute(
        "SELECT role, string_agg(text, ' ' ORDER BY seq) FROM segments WHERE call_id = ? AND text IS NOT NULL "
        "GROUP BY role", [call_id]).fetchall()}
    urgent = con.execute("SELECT coalesce(urgent, FALSE) FROM calls WHERE call_id = ?", [call_id]).fetchone()
    return {"topics": topics, "places": places, "citizen": said.get("citizen", ""), "operator": said.get("operator", ""),
            "urgent": bool(urgent and urgent[0])}


def write_routes_and_summary(con: duckdb.DuckDBPyConnection, call_id: str, routes: list[dict], summary: str) -> None:
    """Replace the call's routing rows and summary (after a QA topic correction), in one transaction."""
    with transaction(con):
        con.execute("DELETE FROM call_routes WHERE call_id = ?", [call_id])
        if routes:
            con.executemany("INSERT INTO call_routes (call_id, seq, agency, agency_vi, reason) VALUES (?, ?, ?, ?, ?)",
                            [[call_id, i, r["agency"], r["agency_vi"], r["reason"]] for i, r in enumerate(routes)])
        con.execute("UPDATE calls SET summary = ? WHERE call_id = ?", [summary, call_id])
