"""The readable text in the warehouse (migration 014): which calls lack the current model's,
their stored texts, and writing it back (one transaction per call).

:func:`pipeline.stages.readable_fill.fill_readable` (``hotline backfill --readable``) uses these.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipeline.warehouse.db import transaction
from pipeline.warehouse.qa_workspace import rebuild_transcript


@dataclass(frozen=True)
class Filled:
    calls: int  # calls given readable text
    segments: int  # segments written
    skipped: int  # calls in the range the current model already did


def calls_to_fill(con: duckdb.DuckDBPyConnection, date_from, date_to, fingerprint: str) -> tuple[list[str], int]:
    """(call ids whose readable text is missing or from another model, calls already done) in the range, oldest first."""
    rows = con.execute(
        "SELECT call_id, readable_model IS NOT DISTINCT FROM ? FROM calls WHERE status = 'done' "
        "AND CAST(coalesce(started_at, processed_at) AS DATE) BETWEEN ? AND ? "
        "ORDER BY coalesce(started_at, processed_at), call_id", [fingerprint, date_from, date_to]).fetchall()
    return [r[0] for r in rows if not r[1]], sum(1 for r in rows if r[1])


def segment_texts(con: duckdb.DuckDBPyConnection, call_id: str) -> list[tuple]:
    """(seq, redacted text, raw text or None, recogniser words, QA edited with readable text) per segment."""
    return con.execute(
        """SELECT s.seq, s.text, r.text,
                  (SELECT count(*) FROM words w WHERE w.call_id = s.call_id AND w.seq = s.seq),
                  EXISTS (SELECT 1 FROM call_edits e WHERE e.call_id = s.call_id AND e.kind = 'transcript'
                          AND e.target = CAST(s.seq AS VARCHAR) AND e.new_readable IS NOT NULL)
           FROM segments s LEFT JOIN segments_raw r USING (call_id, seq) WHERE s.call_id = ? ORDER BY s.seq""",
        [call_id]).fetchall()


def write_readable(con: duckdb.DuckDBPyConnection, call_id: str, rows: list[tuple], fingerprint: str) -> None:
    """``rows`` of (seq, shown, shown_align, raw, raw_align) into the segments, the call's transcripts, its model."""
    with transaction(con):
        for seq, shown, shown_align, raw, raw_align in rows:
            con.execute("UPDATE segments SET readable = ?, readable_align = ? WHERE call_id = ? AND seq = ?",
                        [shown, shown_align, call_id, seq])
            con.execute("UPDATE segments_raw SET readable = ?, readable_align = ? WHERE call_id = ? AND seq = ?",
                        [raw, raw_align, call_id, seq])
        rebuild_transcript(con, call_id)
        con.execute("UPDATE calls SET readable_model = ? WHERE call_id = ?", [fingerprint, call_id])
