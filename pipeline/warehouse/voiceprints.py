"""Operators' voiceprint rows (``operator_voiceprints``, migration 009): the SQL of :mod:`pipeline.stages.operators`."""

from __future__ import annotations

import duckdb

COLUMNS = ("extension", "name", "embedding", "model", "n_calls", "speech_s", "spread", "consent_note",
           "enrolled_by", "enrolled_at")


def replace(con: duckdb.DuckDBPyConnection, row: dict) -> None:
    """Insert or replace the voiceprint of ``row["extension"]`` (keys: :data:`COLUMNS`)."""
    con.execute("DELETE FROM operator_voiceprints WHERE extension = ?", [row["extension"]])
    con.execute(f"INSERT INTO operator_voiceprints ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                [row[c] for c in COLUMNS])


def rows_of_model(con: duckdb.DuckDBPyConnection, model: str) -> list[tuple]:
    """(extension, embedding, n_calls, speech_s, consent_note, name, spread, enrolled_by, enrolled_at, model)
    of every voiceprint of ``model``, by extension."""
    return con.execute(
        "SELECT extension, embedding, n_calls, speech_s, consent_note, name, spread, enrolled_by, enrolled_at, model "
        "FROM operator_voiceprints WHERE model = ? ORDER BY extension",
        [model],
    ).fetchall()


def delete(con: duckdb.DuckDBPyConnection, extension: str) -> int:
    """Remove the extension's voiceprint; returns how many there were (0 or 1)."""
    n = con.execute("SELECT count(*) FROM operator_voiceprints WHERE extension = ?", [extension]).fetchone()[0]
    con.execute("DELETE FROM operator_voiceprints WHERE extension = ?", [extension])
    return n


_CANDIDATE_COLUMNS = ("call_id", "started_at", "operator_ext", "duration_s", "channels", "operator_voice")


def enrolment_candidates(con: duckdb.DuckDBPyConnection, extension: str | None, *, limit: int) -> list[dict]:
    """Loaded calls that still have their recording, newest first (of ``extension`` when given): the
    calls an admin may pick to enrol an operator's voice from."""
    sql = f"SELECT {', '.join(_CANDIDATE_COLUMNS)} FROM calls WHERE status = 'done' AND source_path IS NOT NULL"
    params: list = []
    if extension:
        sql += " AND operator_ext = ?"
        params.append(extension)
    rows = con.execute(sql + " ORDER BY started_at DESC NULLS LAST, call_id LIMIT ?", params + [limit]).fetchall()
    return [dict(zip(_CANDIDATE_COLUMNS, r)) for r in rows]


def calls_to_retag(con: duckdb.DuckDBPyConnection, date_from, date_to, *, everything: bool = False) -> list[tuple[str, str, str, str]]:
    """Loaded mono calls that started in [date_from, date_to] and were processed before the
    latest enrolment (``everything``: all of them, e.g. after a voiceprint was removed).
    (call_id, recording_sha256, source_dir, source_path), oldest first; purged calls left out."""
    latest = con.execute("SELECT max(enrolled_at) FROM operator_voiceprints").fetchone()[0]
    if latest is None and not everything:
        return []
    return [tuple(r) for r in con.execute(
        "SELECT c.call_id, c.recording_sha256, r.source_dir, c.source_path FROM calls c JOIN runs r USING (run_id) "
        "WHERE c.status = 'done' AND c.purged_at IS NULL AND coalesce(c.channels, 1) = 1 "
        "AND CAST(coalesce(c.started_at, c.processed_at) AS DATE) BETWEEN ? AND ? "
        "AND (? OR c.processed_at IS NULL OR c.processed_at < ?) "
        "ORDER BY coalesce(c.started_at, c.processed_at), c.call_id",
        [date_from, date_to, everything, latest]).fetchall()]
