"""Read-side queries shared by the CLI, reports and notebooks (bind parameters only)."""

from __future__ import annotations

import duckdb

from pipeline.logsafe import safe


def call_summaries(con: duckdb.DuckDBPyConnection, call_ids: list[str] | None = None) -> list[dict]:
    """One dict per call: id, file, status, duration, speakers, assigned topics, first words."""
    where, params = "", []
    if call_ids is not None:
        where, params = "WHERE c.call_id IN (SELECT unnest(?))", [list(call_ids)]
    rows = con.execute(
        f"""
        WITH speakers AS (
            SELECT call_id, count(DISTINCT speaker) AS n_speakers FROM segments GROUP BY call_id
        ), topics AS (
            SELECT call_id, string_agg(topic, ',' ORDER BY score DESC) AS topics
            FROM call_topics WHERE assigned GROUP BY call_id
        ), final AS (
            SELECT c.call_id, c.source_path, c.status, c.duration_s, coalesce(s.n_speakers, 0) AS n_speakers,
                   coalesce(t.topics, '') AS topics, coalesce(c.transcript, c.error, '') AS text
            FROM calls c LEFT JOIN speakers s USING (call_id) LEFT JOIN topics t USING (call_id)
            {where}
        )
        SELECT * FROM final ORDER BY source_path
        """,
        params,
    ).fetchall()
    keys = ("call_id", "source_path", "status", "duration_s", "n_speakers", "topics", "text")
    return [dict(zip(keys, r)) for r in rows]


def format_table(rows: list[dict], *, text_chars: int = 60) -> str:
    """A plain-text table of :func:`call_summaries` rows for the terminal.

    Every cell goes through :func:`pipeline.logsafe.safe`: a file name or a transcript holding a
    line break cannot add a row, and no caller number is printed in clear.
    """
    header = ("call", "file", "status", "dur s", "spk", "topics", "transcript")
    body = [
        tuple(safe(c) for c in (
            r["call_id"][:8], r["source_path"] or "", r["status"], f"{(r['duration_s'] or 0):.1f}", str(r["n_speakers"]),
            r["topics"] or "-", (r["text"][:text_chars] + "…") if len(r["text"]) > text_chars else r["text"]))
        for r in rows
    ]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(header), line(tuple("-" * w for w in widths))] + [line(b) for b in body])
