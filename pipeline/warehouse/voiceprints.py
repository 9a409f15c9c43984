"""Operators' voiceprint rows (``operator_voiceprints``, migration 009): the SQL of :mod:`pipeline.operators`."""

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
