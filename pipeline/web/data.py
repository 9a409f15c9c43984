"""What the web app reads and writes: filtered call lists, one call's detail, QA corrections, exports.

Plain functions over a DuckDB connection (bind parameters only), so tests and
notebooks call them without a server. SQL text is assembled only from fixed
fragments; user input travels as parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from pipeline import search
from pipeline.config import REPO_ROOT
from pipeline.errors import HotlineError
from pipeline.reports import topic_labels
from pipeline.warehouse.db import transaction


class BadCorrection(HotlineError):
    """A topic correction for an unknown call or topic, or an unknown action."""


@dataclass(frozen=True)
class CallFilters:
    start: date | None = None  # inclusive, local date of the call
    end: date | None = None  # inclusive
    topic: str | None = None  # taxonomy key, as corrected by QA
    place: str | None = None  # canonical ward/commune name
    operator: str | None = None  # extension
    needs_review: bool = False  # only calls flagged for review
    urgent: bool = False  # only urgent calls
    q: str = ""  # full-text query, with or without diacritics
    queue: bool = False  # only the review queue (mart_review_queue), in its priority order


def filter_options(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Choices for the filter form: topics (taxonomy order), places and operators present."""
    places = [r[0] for r in con.execute(
        "SELECT DISTINCT place_name FROM stg_call_places WHERE is_admin_unit ORDER BY place_name").fetchall()]
    operators = [r[0] for r in con.execute("SELECT DISTINCT operator_ext FROM stg_calls ORDER BY 1").fetchall()]
    return {"topics": list(topic_labels("vi")), "places": places, "operators": operators}


def list_calls(con: duckdb.DuckDBPyConnection, f: CallFilters, *, limit: int = 50, offset: int = 0,
               ) -> tuple[list[dict], int]:
    """One page of calls matching ``f`` and the total count.

    With a query, calls are ranked by BM25 (best first) and carry a ``snippet``;
    without, newest first (the review queue: urgent, then least confident). Building a missing or stale search index needs a
    read-write connection.
    """
    where, params = ["TRUE"], {}
    if f.start:
        where.append("c.call_date >= $start")
        params["start"] = f.start
    if f.end:
        where.append("c.call_date <= $end")
        params["end"] = f.end
    if f.topic:
        where.append("c.call_id IN (SELECT call_id FROM stg_call_topics WHERE topic = $topic)")
        params["topic"] = f.topic
    if f.place:
        where.append("c.call_id IN (SELECT call_id FROM stg_call_places WHERE place_name = $place)")
        params["place"] = f.place
    if f.operator:
        where.append("c.operator_ext = $operator")
        params["operator"] = f.operator
    if f.needs_review:
        where.append("c.needs_review AND NOT c.reviewed")
    if f.urgent:
        where.append("c.urgent")
    order = "started_at DESC, call_id"
    if f.queue:
        where.append("c.call_id IN (SELECT call_id FROM mart_review_queue)")
        # the queue's own priority (mart_review_queue; 007 puts frustrated repeat callers after urgent ones)
        order = "(SELECT q.priority FROM mart_review_queue q WHERE q.call_id = final.call_id), call_id"
    scores: dict[str, float] = {}
    snippets: dict[str, str] = {}
    if f.q.strip():
        search.ensure_search_index(con)
        hits = search.search_calls(con, f.q, limit=None)
        scores = {h.call_id: h.score for h in hits}
        snippets = {h.call_id: h.snippet for h in hits}
        where.append("c.call_id IN (SELECT unnest($ids))")
        params["ids"] = list(scores)
    sql = f"""
        WITH topics AS (
            SELECT call_id, string_agg(topic, ',' ORDER BY topic) AS topics FROM stg_call_topics GROUP BY call_id
        ), places AS (
            SELECT call_id, string_agg(DISTINCT place_name, ', ') AS places FROM stg_call_places WHERE is_admin_unit
            GROUP BY call_id
        ), final AS (
            SELECT c.call_id, c.started_at, c.operator_ext, c.duration_s, c.confidence, c.needs_review, c.urgent,
                   c.reviewed, c.review_reasons, c.urgency_reasons, coalesce(t.topics, '') AS topics,
                   coalesce(p.places, '') AS places, c.transcript, ci.caller_initials, ci.summary
            FROM stg_calls c LEFT JOIN topics t USING (call_id) LEFT JOIN places p USING (call_id)
                 LEFT JOIN (SELECT call_id, caller_initials, summary FROM calls) ci USING (call_id)
            WHERE {' AND '.join(where)}
        )
        SELECT * FROM final ORDER BY {order}
    """  # WHERE and ORDER BY hold fixed fragments only; values are bound
    cur = con.execute(sql, params)
    keys = [d[0] for d in cur.description]
    rows = [dict(zip(keys, r)) for r in cur.fetchall()]
    if scores:
        rows.sort(key=lambda r: -scores[r["call_id"]])
        for r in rows:
            r["score"], r["snippet"] = scores[r["call_id"]], snippets.get(r["call_id"], "")
    return rows[offset: offset + limit], len(rows)


def call_summary(con: duckdb.DuckDBPyConnection, call_id: str) -> str | None:
    """The call's one-line summary (pipeline.summary), or None."""
    row = con.execute("SELECT summary FROM calls WHERE call_id = ?", [call_id]).fetchone()
    return row[0] if row else None


def call_mood(con: duckdb.DuckDBPyConnection, call_id: str) -> dict | None:
    """Per-call sentiment (pipeline.sentiment): frustration, frustrated, operator_courtesy, repeat_unresolved."""
    cur = con.execute("SELECT frustration, frustrated, operator_courtesy, repeat_unresolved FROM calls "
                      "WHERE call_id = ? AND (frustration IS NOT NULL OR operator_courtesy IS NOT NULL)", [call_id])
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row)) if row else None


def turn_sentiment(con: duckdb.DuckDBPyConnection, call_id: str) -> dict[int, dict]:
    """Per segment number: sentiment label and score (pipeline.sentiment), for the call page timeline."""
    return {seq: {"label": label, "score": score} for seq, label, score in con.execute(
        "SELECT seq, label, score FROM turn_sentiment WHERE call_id = ?", [call_id]).fetchall()}


def call_detail(con: duckdb.DuckDBPyConnection, call_id: str, *, raw_text: bool) -> dict | None:
    """Everything the call page shows; segment text unredacted only when ``raw_text``."""
    cur = con.execute("SELECT * FROM stg_calls WHERE call_id = ?", [call_id])
    row = cur.fetchone()
    if row is None:
        return None
    call = dict(zip([d[0] for d in cur.description], row))
    call["summary"] = call_summary(con, call_id)
    call["mood"] = call_mood(con, call_id)
    from pipeline.similar import similar_calls

    call["similar"] = similar_calls(con, call_id)
    mood = turn_sentiment(con, call_id)
    text_col = "coalesce(r.text, s.text)" if raw_text else "s.text"
    call["segments"] = [dict(zip(("seq", "start_s", "end_s", "role", "speaker", "text", "confidence"), r)) for r in con.execute(
        f"SELECT s.seq, s.start_s, s.end_s, s.role, s.speaker, {text_col}, s.confidence FROM segments s "  # fixed choice
        "LEFT JOIN segments_raw r USING (call_id, seq) WHERE s.call_id = ? ORDER BY s.seq", [call_id]).fetchall()]
    for s in call["segments"]:
        s["mood"] = mood.get(s["seq"])
    call["topics"] = [dict(zip(("topic", "model_score", "corrected"), r)) for r in con.execute(
        "SELECT topic, model_score, corrected FROM stg_call_topics WHERE call_id = ? ORDER BY model_score DESC NULLS LAST, topic",
        [call_id]).fetchall()]
    call["places"] = [dict(zip(("kind", "said", "place_name", "resolved_from"), r)) for r in con.execute(
        "SELECT kind, said, place_name, resolved_from FROM stg_call_places WHERE call_id = ? ORDER BY seq", [call_id]).fetchall()]
    call["routes"] = [dict(zip(("agency", "agency_vi", "reason"), r)) for r in con.execute(
        "SELECT agency, agency_vi, reason FROM call_routes WHERE call_id = ? ORDER BY seq", [call_id]).fetchall()]
    call["metrics"] = [dict(zip(("scope", "metric", "value"), r)) for r in con.execute(
        "SELECT scope, metric, value FROM stg_call_metrics WHERE call_id = ? ORDER BY scope, metric", [call_id]).fetchall()]
    call["history"] = [dict(zip(("what", "action", "user_name", "at"), r)) for r in con.execute(
        """SELECT topic, action, user_name, corrected_at FROM topic_corrections WHERE call_id = $id
           UNION ALL SELECT '—', action, user_name, acted_at FROM review_events WHERE call_id = $id
           ORDER BY 4 DESC""", {"id": call_id}).fetchall()]
    return call


def correct_topic(con: duckdb.DuckDBPyConnection, call_id: str, topic: str, action: str, user_name: str) -> bool:
    """Add or remove a topic as QA: a ``call_topics`` row with source 'qa' plus an audit row in ``topic_corrections``.

    The QA row overrides the model's decision in ``stg_call_topics`` and survives reloads
    of the call. Raises :class:`BadCorrection` for an unknown call, topic or action.
    Adding a topic the call already has, or removing one it lacks, changes nothing and
    writes no audit row: returns False.
    """
    if action not in ("add", "remove"):
        raise BadCorrection(f"action {action!r} must be add or remove")
    if topic not in topic_labels("vi"):
        raise BadCorrection(f"topic {topic!r} is not in models/taxonomy.json")
    if not con.execute("SELECT 1 FROM calls WHERE call_id = ?", [call_id]).fetchone():
        raise BadCorrection(f"no call {call_id!r}")
    has = con.execute("SELECT 1 FROM stg_call_topics WHERE call_id = ? AND topic = ?", [call_id, topic]).fetchone()
    if bool(has) == (action == "add"):
        return False
    now = datetime.now()
    with transaction(con):
        con.execute("DELETE FROM call_topics WHERE call_id = ? AND topic = ? AND source = 'qa'", [call_id, topic])
        con.execute("INSERT INTO call_topics VALUES (?, ?, NULL, 'qa', ?)", [call_id, topic, action == "add"])
        con.execute("INSERT INTO topic_corrections VALUES (?, ?, ?, ?, ?)", [call_id, topic, action, user_name, now])
    from pipeline.cases import on_topic_corrected  # the call's open case follows the correction (audited)

    on_topic_corrected(con, call_id, user_name)
    return True


def mark_reviewed(con: duckdb.DuckDBPyConnection, call_id: str, user_name: str, *, reviewed: bool = True) -> None:
    """Set or clear the call's reviewed mark, with an audit row in ``review_events``."""
    now = datetime.now()
    with transaction(con):
        con.execute("UPDATE calls SET reviewed = ?, reviewed_by = ?, reviewed_at = ? WHERE call_id = ?",
                    [reviewed, user_name if reviewed else None, now if reviewed else None, call_id])
        con.execute("INSERT INTO review_events VALUES (?, ?, ?, ?)",
                    [call_id, "reviewed" if reviewed else "reopened", user_name, now])


def audio_path(con: duckdb.DuckDBPyConnection, call_id: str) -> Path | None:
    """The call's recording, resolved inside its run's source folder; None when unknown, outside or missing.

    ``calls.source_path`` is relative to ``runs.source_dir``; a path that climbs out
    of that folder (``../``, an absolute path, a symlink) is refused.
    """
    row = con.execute("SELECT c.source_path, r.source_dir FROM calls c JOIN runs r USING (run_id) WHERE c.call_id = ?",
                      [call_id]).fetchone()
    if not row or not row[0] or not row[1]:
        return None
    source_dir = Path(row[1])
    if not source_dir.is_absolute():
        # A relative source folder is relative to where the run started: usually the repo root.
        candidates = [Path.cwd() / source_dir, REPO_ROOT / source_dir]
        source_dir = next((c for c in candidates if c.is_dir()), candidates[0])
    root = source_dir.resolve()
    path = (root / row[0]).resolve()
    if not path.is_relative_to(root):
        return None
    from pipeline.ingest import locate  # source_path is stored with caller numbers masked

    sha = con.execute("SELECT recording_sha256 FROM calls WHERE call_id = ?", [call_id]).fetchone()
    return locate(root, row[0], sha[0] if sha and "***" in row[0] else None)


def export_csv(rows: list[dict], *, lang: str = "vi") -> bytes:
    """CSV of :func:`list_calls` rows (enriched by :func:`pipeline.exports.enrich`): see :mod:`pipeline.exports`."""
    from pipeline import exports

    return exports.calls_csv(rows, lang=lang)


def export_xlsx(rows: list[dict], *, lang: str = "vi", start: date | None = None, end: date | None = None,
                filters_text: str = "") -> bytes:
    """Formatted Excel workbook (calls + summary sheet) of :func:`list_calls` rows: see :mod:`pipeline.exports`."""
    from pipeline import exports

    return exports.calls_xlsx(rows, lang=lang, start=start, end=end, filters_text=filters_text)
