"""Readable text for calls loaded before it existed (migration 014), from their stored text.

``hotline backfill --readable --from … --to …`` runs :func:`fill_readable`: no audio and no
recogniser, only the case and punctuation model over each segment's stored normalised text
(``segments_raw.text`` where kept, and the redacted ``segments.text``), one transaction per
call. Calls whose readable text the current model already made are skipped; a segment QA
corrected after migration 014 keeps the readable text QA saved. Calls whose personal data was
purged get the readable form of their redacted text only.
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


def fill_readable(con: duckdb.DuckDBPyConnection, model, date_from, date_to) -> Filled:
    """Readable text for the range's calls that lack the current ``model``'s (models.readable_text)."""
    from pipeline.analysis.readable import make_readable, readable_turn, redact_numbers

    ids, done = calls_to_fill(con, date_from, date_to, model.fingerprint)
    n_segments = 0
    for call_id in ids:
        rows = []
        for seq, text, raw, n_words, edited in segment_texts(con, call_id):
            if edited:
                continue
            if raw is None:  # raw text not kept or purged: only the redacted form
                shown = make_readable(text or "", model)
                rows.append((seq, redact_numbers(shown.text) or None, None, None, None))
                continue
            shown, raw_readable, align = readable_turn(raw, text or "", model, n_words)
            rows.append((seq, shown or None, (align or None) if shown == raw_readable else None,
                         raw_readable or None, align or None))
        write_readable(con, call_id, rows, model.fingerprint)
        n_segments += len(rows)
    return Filled(len(ids), n_segments, done)
