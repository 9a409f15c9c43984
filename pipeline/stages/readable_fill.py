"""Readable text for calls loaded before it existed (migration 014), from their stored text.

``hotline backfill --readable --from … --to …`` runs :func:`fill_readable`: no audio and no
recogniser, only the case and punctuation model over each segment's stored normalised text
(``segments_raw.text`` where kept, and the redacted ``segments.text``), one transaction per
call. Calls whose readable text the current model already made are skipped; a segment QA
corrected after migration 014 keeps the readable text QA saved. Calls whose personal data was
purged get the readable form of their redacted text only.
"""

from __future__ import annotations

import duckdb

from pipeline.analysis.readable import make_readable, readable_turn, redact_numbers
from pipeline.warehouse.readable import Filled, calls_to_fill, segment_texts, write_readable


def fill_readable(con: duckdb.DuckDBPyConnection, model, date_from, date_to) -> Filled:
    """Readable text for the range's calls that lack the current ``model``'s (models.readable_text)."""
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
