"""The QA workspace's rows (migration 011): the SQL of :mod:`pipeline.web.qa` (bind parameters only).

Each correction writes its change and its audit row (``call_edits``) in one
transaction; the checks and the redaction stay in :mod:`pipeline.web.qa`.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from pipeline.warehouse.db import transaction


def channels(con: duckdb.DuckDBPyConnection, call_id: str) -> int | None:
    """The recording's channel count (not in stg_calls)."""
    return con.execute("SELECT channels FROM calls WHERE call_id = ?", [call_id]).fetchone()[0]


def word_times(con: duckdb.DuckDBPyConnection, call_id: str) -> list[tuple[int, float, float, float]]:
    """(segment seq, start, end, probability) of the recogniser's words, in order."""
    return con.execute("SELECT seq, start_s, end_s, probability FROM words WHERE call_id = ? "
                       "ORDER BY seq, word_seq", [call_id]).fetchall()


def edited_segments(con: duckdb.DuckDBPyConnection, call_id: str) -> set[int]:
    """Segment numbers whose text QA corrected."""
    return {int(r[0]) for r in con.execute(
        "SELECT DISTINCT target FROM call_edits WHERE call_id = ? AND kind = 'transcript'", [call_id]).fetchall()}


def removed_topics(con: duckdb.DuckDBPyConnection, call_id: str) -> list[str]:
    """Model topics QA removed, sorted."""
    return [r[0] for r in con.execute(
        """SELECT m.topic FROM call_topics m JOIN call_topics q USING (call_id, topic)
           WHERE m.call_id = ? AND m.source = 'model' AND m.assigned AND q.source = 'qa' AND NOT q.assigned
           ORDER BY m.topic""", [call_id]).fetchall()]


def history(con: duckdb.DuckDBPyConnection, call_id: str) -> list[dict]:
    """Every audited change of the call, newest first (action, what, user_name, at)."""
    rows = con.execute(
        """SELECT 'topic_' || action, topic, user_name, corrected_at FROM topic_corrections WHERE call_id = $id
           UNION ALL SELECT action, NULL, user_name, acted_at FROM review_events WHERE call_id = $id
           UNION ALL SELECT kind, CASE WHEN kind = 'urgent' THEN new_value ELSE target END, user_name, edited_at
               FROM call_edits WHERE call_id = $id
           UNION ALL SELECT 'evaluation', NULL, user_name, max(evaluated_at) FROM call_evaluations WHERE call_id = $id
               GROUP BY user_name, date_trunc('second', evaluated_at)
           ORDER BY 4 DESC""", {"id": call_id}).fetchall()
    return [dict(zip(("action", "what", "user_name", "at"), r)) for r in rows]


def call_exists(con: duckdb.DuckDBPyConnection, call_id: str) -> bool:
    return con.execute("SELECT 1 FROM calls WHERE call_id = ?", [call_id]).fetchone() is not None


def _audit(con, call_id: str, kind: str, target, old, new, user_name: str, new_readable: str | None = None) -> None:
    con.execute("INSERT INTO call_edits (call_id, kind, target, old_value, new_value, user_name, edited_at, new_readable) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [call_id, kind, None if target is None else str(target), old, new, user_name, datetime.now(), new_readable])


def rebuild_transcript(con, call_id: str) -> None:
    """The call's full texts (search, exports, topic training; lists and case snippets) follow its segments."""
    con.execute("""UPDATE calls SET
                     transcript = (SELECT string_agg(text, ' ' ORDER BY seq) FROM segments
                                   WHERE call_id = $id AND text IS NOT NULL AND text <> ''),
                     transcript_readable = (SELECT string_agg(readable, ' ' ORDER BY seq) FROM segments
                                            WHERE call_id = $id AND readable IS NOT NULL AND readable <> '')
                   WHERE call_id = $id""", {"id": call_id})



def segment_text(con: duckdb.DuckDBPyConnection, call_id: str, seq: int) -> tuple[str | None, str | None] | None:
    """(redacted text, redacted readable text) of one segment, or None when there is no such segment."""
    return con.execute("SELECT text, readable FROM segments WHERE call_id = ? AND seq = ?", [call_id, seq]).fetchone()


def write_segment_text(con: duckdb.DuckDBPyConnection, call_id: str, seq: int, redacted: str, typed: str,
                       old: str | None, user_name: str, *, readable: str | None = None,
                       readable_raw: str | None = None) -> None:
    """The redacted texts in ``segments``, the typed ones in ``segments_raw``, the call's transcripts, the audit row.

    ``typed`` is the normalised form of what QA typed, ``readable_raw`` what QA typed, ``readable``
    its redacted form. An edit's words no longer line up with the recogniser's (no alignment).
    """
    with transaction(con):
        con.execute("UPDATE segments SET text = ?, readable = ?, readable_align = NULL WHERE call_id = ? AND seq = ?",
                    [redacted, readable, call_id, seq])
        con.execute("UPDATE segments_raw SET text = ?, readable = ?, readable_align = NULL WHERE call_id = ? AND seq = ?",
                    [typed, readable_raw, call_id, seq])
        rebuild_transcript(con, call_id)
        _audit(con, call_id, "transcript", seq, old, redacted, user_name, new_readable=readable)


def is_urgent(con: duckdb.DuckDBPyConnection, call_id: str) -> bool:
    return bool(con.execute("SELECT coalesce(urgent, FALSE) FROM calls WHERE call_id = ?", [call_id]).fetchone()[0])


def write_urgent(con: duckdb.DuckDBPyConnection, call_id: str, urgent: bool, was: bool, user_name: str) -> None:
    with transaction(con):
        con.execute("UPDATE calls SET urgent = ? WHERE call_id = ?", [urgent, call_id])
        _audit(con, call_id, "urgent", None, str(was).lower(), str(urgent).lower(), user_name)


def write_swapped_roles(con: duckdb.DuckDBPyConnection, call_id: str, user_name: str) -> None:
    """Operator ↔ citizen on every segment and per-speaker metric of the call, audited."""
    swap = "CASE {c} WHEN 'operator' THEN 'citizen' WHEN 'citizen' THEN 'operator' ELSE {c} END"
    with transaction(con):
        con.execute(f"UPDATE segments SET role = {swap.format(c='role')} WHERE call_id = ?", [call_id])
        con.execute(f"UPDATE call_metrics SET scope = {swap.format(c='scope')} WHERE call_id = ?", [call_id])
        _audit(con, call_id, "roles", None, None, "swapped", user_name)


def n_place_mentions(con: duckdb.DuckDBPyConnection, call_id: str, name: str) -> int:
    return con.execute("SELECT count(*) FROM stg_call_places WHERE call_id = ? AND place_name = ?",
                       [call_id, name]).fetchone()[0]


def write_place_removed(con: duckdb.DuckDBPyConnection, call_id: str, name: str, user_name: str) -> None:
    with transaction(con):
        con.execute("DELETE FROM call_places WHERE call_id = ? AND coalesce(name, text) = ?", [call_id, name])
        _audit(con, call_id, "place_remove", name, None, None, user_name)


def has_place(con: duckdb.DuckDBPyConnection, call_id: str, name: str, kind: str) -> bool:
    return con.execute("SELECT 1 FROM stg_call_places WHERE call_id = ? AND place_name = ? AND kind = ?",
                       [call_id, name, kind]).fetchone() is not None


def write_place_added(con: duckdb.DuckDBPyConnection, call_id: str, name: str, kind: str, user_name: str) -> None:
    with transaction(con):
        seq = con.execute("SELECT coalesce(max(seq) + 1, 0) FROM call_places WHERE call_id = ?", [call_id]).fetchone()[0]
        con.execute("INSERT INTO call_places (call_id, seq, kind, text, name) VALUES (?, ?, ?, ?, ?)",
                    [call_id, seq, kind, name, name])
        _audit(con, call_id, "place_add", name, None, kind, user_name)


def latest_evaluation(con: duckdb.DuckDBPyConnection, call_id: str) -> list[tuple]:
    """(item, answer, comment, user_name, evaluated_at): the latest saved answer per item."""
    return con.execute(
        """SELECT item, answer, comment, user_name, evaluated_at FROM call_evaluations WHERE call_id = ?
           QUALIFY row_number() OVER (PARTITION BY item ORDER BY evaluated_at DESC) = 1""", [call_id]).fetchall()


def insert_evaluation_rows(con: duckdb.DuckDBPyConnection, rows: list[list]) -> None:
    """``call_evaluations`` rows (call_id, item, answer, comment, user_name, evaluated_at), in one transaction."""
    with transaction(con):
        for r in rows:
            con.execute("INSERT INTO call_evaluations VALUES (?, ?, ?, ?, ?, ?)", r)


def evaluation_counts(con: duckdb.DuckDBPyConnection, start=None, end=None) -> list[tuple]:
    """(item, evaluated, met, not met, N/A) over the latest answers for calls of a period (open ends: None)."""
    return con.execute(
        """WITH latest AS (
               SELECT e.call_id, e.item, e.answer FROM call_evaluations e JOIN stg_calls c USING (call_id)
               WHERE ($start IS NULL OR c.call_date >= $start) AND ($end IS NULL OR c.call_date <= $end)
               QUALIFY row_number() OVER (PARTITION BY e.call_id, e.item ORDER BY e.evaluated_at DESC) = 1
           )
           SELECT item, count(*), count(*) FILTER (answer = 'met'), count(*) FILTER (answer = 'not_met'),
                  count(*) FILTER (answer = 'na') FROM latest GROUP BY item""", {"start": start, "end": end}).fetchall()


def first_in_queue(con: duckdb.DuckDBPyConnection, after: str | None = None) -> str | None:
    """The review queue's first call other than ``after``, in priority order."""
    row = con.execute("SELECT call_id FROM mart_review_queue WHERE call_id IS DISTINCT FROM ? ORDER BY priority LIMIT 1",
                      [after]).fetchone()
    return row[0] if row else None


def in_review_queue(con: duckdb.DuckDBPyConnection, call_id: str) -> bool:
    return con.execute("SELECT 1 FROM mart_review_queue WHERE call_id = ?", [call_id]).fetchone() is not None


# ---- the evaluation scorecard (issue 29): per operator and criterion over a period ------------------

# The evaluation form's criteria, in the form's order (pipeline.web.qa shows them; reports read them).
EVAL_ITEMS = ("greeting", "address_captured", "next_step", "handling_unit", "courtesy")

_LATEST_EVALUATIONS = """
    SELECT e.call_id, e.item, e.answer, e.user_name, e.evaluated_at, c.operator_ext, c.started_at
    FROM call_evaluations e JOIN stg_calls c USING (call_id)
    WHERE c.call_date BETWEEN $start AND $end
    QUALIFY row_number() OVER (PARTITION BY e.call_id, e.item ORDER BY e.evaluated_at DESC) = 1"""


def evaluation_by_operator(con: duckdb.DuckDBPyConnection, start, end) -> list[tuple]:
    """(operator_ext, item, evaluated, met, not met, N/A) over the latest answers for calls of [start, end]."""
    return con.execute(
        f"""WITH latest AS ({_LATEST_EVALUATIONS})
            SELECT operator_ext, item, count(*), count(*) FILTER (answer = 'met'),
                   count(*) FILTER (answer = 'not_met'), count(*) FILTER (answer = 'na')
            FROM latest GROUP BY ALL ORDER BY operator_ext, item""", {"start": start, "end": end}).fetchall()


def evaluated_calls(con: duckdb.DuckDBPyConnection, start, end, *, operator: str | None = None,
                    item: str | None = None, answer: str | None = None, limit: int = 500) -> list[tuple]:
    """(call_id, started_at, operator_ext, item, answer, user_name, evaluated_at) of the latest answers for calls
    of [start, end], optionally of one operator, criterion and answer; newest calls first."""
    return con.execute(
        f"""WITH latest AS ({_LATEST_EVALUATIONS})
            SELECT call_id, started_at, operator_ext, item, answer, user_name, evaluated_at FROM latest
            WHERE ($operator IS NULL OR operator_ext = $operator) AND ($item IS NULL OR item = $item)
              AND ($answer IS NULL OR answer = $answer)
            ORDER BY started_at DESC, call_id, item LIMIT $limit""",
        {"start": start, "end": end, "operator": operator, "item": item, "answer": answer, "limit": limit}).fetchall()
