"""Which topic model tagged each call, and re-tagging calls with another one (issue 31).

``calls.topic_model`` (migration 021) holds the fingerprint of the model whose topics are in
``call_topics`` (source ``model``); QA's rows (source ``qa``) are never touched here, so a
correction outlives a re-tag as it outlives a reprocessing.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from pipeline.records import Segment
from pipeline.warehouse.db import transaction


def calls_tagged_by_other(con: duckdb.DuckDBPyConnection, fingerprint: str) -> list[str]:
    """Ids of the calls whose topics another model (or an unrecorded one) assigned, oldest first."""
    rows = con.execute(
        "SELECT call_id FROM calls WHERE topic_model IS DISTINCT FROM ? "
        "ORDER BY coalesce(started_at, processed_at), call_id", [fingerprint]).fetchall()
    return [r[0] for r in rows]


def call_segments(con: duckdb.DuckDBPyConnection, call_ids: Sequence[str]) -> dict[str, list[Segment]]:
    """Stored (redacted, QA-corrected) segments of each call, in order."""
    out: dict[str, list[Segment]] = {c: [] for c in call_ids}
    for call_id, start, end, role, text in con.execute(
            "SELECT call_id, start_s, end_s, role, text FROM segments WHERE call_id IN (SELECT unnest(?)) "
            "ORDER BY call_id, seq", [list(call_ids)]).fetchall():
        out[call_id].append(Segment(start=float(start), end=float(end), text=text or "", role=role))
    return out


def model_topics(con: duckdb.DuckDBPyConnection, call_ids: Sequence[str]) -> dict[str, set[str]]:
    """The topics the model assigned to each call (source ``model``)."""
    out: dict[str, set[str]] = {c: set() for c in call_ids}
    for call_id, topic in con.execute(
            "SELECT call_id, topic FROM call_topics WHERE source = 'model' AND assigned AND call_id IN (SELECT unnest(?))",
            [list(call_ids)]).fetchall():
        out[call_id].add(topic)
    return out


def replace_model_topics(con: duckdb.DuckDBPyConnection, call_id: str, scores: Sequence, fingerprint: str) -> None:
    """Replace the model's topic rows of one call (``scores``: records with ``topic``, ``score``,
    ``assigned``) and record ``fingerprint`` as the model that tagged it. One transaction per call."""
    with transaction(con):
        con.execute("DELETE FROM call_topics WHERE call_id = ? AND source = 'model'", [call_id])
        con.executemany("INSERT INTO call_topics (call_id, topic, score, source, assigned) VALUES (?, ?, ?, 'model', ?)",
                        [[call_id, s.topic, float(s.score), bool(s.assigned)] for s in scores])
        con.execute("UPDATE calls SET topic_model = ? WHERE call_id = ?", [fingerprint, call_id])


def tagged_by(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Calls per topic-model fingerprint ('' for calls with none recorded)."""
    return {fp or "": n for fp, n in con.execute(
        "SELECT topic_model, count(*) FROM calls GROUP BY ALL ORDER BY 2 DESC").fetchall()}


def discovery_calls(con: duckdb.DuckDBPyConnection, start, end) -> list[tuple[str, object, str, list[tuple[str, float, bool]]]]:
    """Calls started on ``start``..``end`` (dates, inclusive) with what the citizen said (redacted
    text; turns of unknown role when no turn is the citizen's) and the model's topic scores:
    ``(call_id, started_at, citizen_text, [(topic, score, assigned)])``, oldest first."""
    rows = con.execute(
        """WITH said AS (
               SELECT call_id,
                      string_agg(CASE WHEN role = 'citizen' THEN text END, ' ' ORDER BY seq) AS citizen,
                      string_agg(CASE WHEN role IS NULL OR role = 'unknown' THEN text END, ' ' ORDER BY seq) AS unknown
               FROM segments GROUP BY call_id),
           tags AS (
               SELECT call_id, list((topic, coalesce(score, 0.0), assigned)) AS scores
               FROM call_topics WHERE source = 'model' GROUP BY call_id)
           SELECT c.call_id, c.started_at, coalesce(s.citizen, s.unknown, ''), coalesce(t.scores, [])
           FROM calls c LEFT JOIN said s USING (call_id) LEFT JOIN tags t USING (call_id)
           WHERE c.status = 'done' AND CAST(coalesce(c.started_at, c.processed_at) AS DATE) BETWEEN ? AND ?
           ORDER BY coalesce(c.started_at, c.processed_at), c.call_id""", [start, end]).fetchall()
    return [(cid, at, text, [(tp, float(sc), bool(a)) for tp, sc, a in (tuple(x.values()) if isinstance(x, dict) else x
                                                                          for x in scores)])
            for cid, at, text, scores in rows]
