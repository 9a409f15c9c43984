"""Re-apply QA's corrections (``call_edits``, migration 011) after a call is reprocessed.

:func:`pipeline.warehouse.load.load_call` replaces a call's segments, places and flags with
the pipeline's new output; QA's topic corrections survive on their own (``call_topics``
rows with source ``qa``), the rest is re-applied here, inside the load's transaction:

- the urgent flag: QA's latest value;
- places: QA's latest add or remove of each name;
- a sentence's text: QA's latest edit, only when the pipeline produced the very text QA
  corrected (same segmentation); otherwise the edit no longer fits and is left in the audit;
- role swaps are not re-applied: a new diarization may already have them right.
"""

from __future__ import annotations

import duckdb

from pipeline.warehouse.qa_workspace import rebuild_transcript


def reapply(con: duckdb.DuckDBPyConnection, call_id: str) -> int:
    """Re-apply what still fits; returns the number of corrections applied. Runs in the caller's transaction."""
    edits = con.execute("SELECT kind, target, old_value, new_value, new_readable FROM call_edits WHERE call_id = ? "
                        "ORDER BY edited_at", [call_id]).fetchall()
    if not edits:
        return 0
    applied = 0
    urgent = [new for kind, _, _, new, _ in edits if kind == "urgent"]
    if urgent:
        con.execute("UPDATE calls SET urgent = ? WHERE call_id = ?", [urgent[-1] == "true", call_id])
        applied += 1
    places: dict[str, tuple[str, str | None]] = {}
    for kind, target, _, new, _ in edits:
        if kind in ("place_add", "place_remove") and target:
            places[target] = (kind, new)
    for name, (kind, place_kind) in places.items():
        if kind == "place_remove":
            con.execute("DELETE FROM call_places WHERE call_id = ? AND coalesce(name, text) = ?", [call_id, name])
        elif not con.execute("SELECT 1 FROM call_places WHERE call_id = ? AND coalesce(name, text) = ?",
                             [call_id, name]).fetchone():
            seq = con.execute("SELECT coalesce(max(seq) + 1, 0) FROM call_places WHERE call_id = ?",
                              [call_id]).fetchone()[0]
            con.execute("INSERT INTO call_places (call_id, seq, kind, text, name) VALUES (?, ?, ?, ?, ?)",
                        [call_id, seq, place_kind, name, name])
        applied += 1
    texts: dict[int, list[tuple[str, str, str | None]]] = {}
    for kind, target, old, new, readable in edits:
        if kind == "transcript" and target is not None and new:
            texts.setdefault(int(target), []).append((old, new, readable))
    changed = False
    for seq, chain in texts.items():
        row = con.execute("SELECT text FROM segments WHERE call_id = ? AND seq = ?", [call_id, seq]).fetchone()
        if row is not None and row[0] == chain[0][0]:  # the pipeline's text that QA first corrected
            # an edit from before the readable text (migration 014) has none: the normalised text stands in
            readable = chain[-1][2] or chain[-1][1]
            for table in ("segments", "segments_raw"):
                con.execute(f"UPDATE {table} SET text = ?, readable = ?, readable_align = NULL "  # table names are ours
                            "WHERE call_id = ? AND seq = ?", [chain[-1][1], readable, call_id, seq])
            applied += 1
            changed = True
    if changed:
        rebuild_transcript(con, call_id)
    return applied


def corrected_sentences(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The latest QA text of each corrected sentence (redacted form), oldest call first."""
    rows = con.execute(
        """SELECT new_value FROM (
               SELECT call_id, target, new_value,
                      row_number() OVER (PARTITION BY call_id, target ORDER BY edited_at DESC) AS k
               FROM call_edits WHERE kind = 'transcript' AND new_value IS NOT NULL AND new_value <> '')
           WHERE k = 1 ORDER BY call_id, try_cast(target AS INTEGER)""").fetchall()
    return [r[0] for r in rows]
