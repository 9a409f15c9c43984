"""The retention purge's SQL (:mod:`pipeline.warehouse.purge` decides what and when, and deletes the files).

Run :func:`purge_rows` and :func:`record_purge` inside one
:func:`pipeline.warehouse.db.transaction`: a failed purge leaves no trace.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

# Tables whose rows are personal data of a call, deleted outright.
PERSONAL_TABLES = ("segments_raw", "words", "call_places", "pii_counts", "search_docs", "search_terms")


def purge_rows(con: duckdb.DuckDBPyConnection, cutoff: datetime, now: datetime) -> tuple[int, int, list[Path]]:
    """Remove or blank the personal data of calls older than ``cutoff`` (not yet purged, or with data again).

    Returns (calls purged, rows deleted or blanked, their quarantined copies). Run it
    inside the caller's transaction.
    """
    old = "coalesce(started_at, processed_at) < ?"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _purge AS SELECT call_id, quarantine_path FROM calls "
                f"WHERE {old} AND (purged_at IS NULL OR transcript IS NOT NULL OR quarantine_path IS NOT NULL "
                f"OR caller_hash IS NOT NULL)", [cutoff])
    n_calls = con.execute("SELECT count(*) FROM _purge").fetchone()[0]
    n_rows = 0
    for table in PERSONAL_TABLES:
        n_rows += con.execute(f"DELETE FROM {table} WHERE call_id IN (SELECT call_id FROM _purge)").fetchone()[0]
    # The readable text (migration 014) is the same words with capitals, punctuation and digits.
    n_rows += con.execute("UPDATE segments SET text = NULL, readable = NULL, readable_align = NULL "
                          "WHERE (text IS NOT NULL OR readable IS NOT NULL) "
                          "AND call_id IN (SELECT call_id FROM _purge)").fetchone()[0]
    # QA's corrections (migration 011) keep text and place names; the evaluation comments are free text.
    n_rows += con.execute("UPDATE call_edits SET old_value = NULL, new_value = NULL, new_readable = NULL, "
                          "target = CASE WHEN kind LIKE 'place_%' THEN NULL ELSE target END "
                          "WHERE kind IN ('transcript', 'place_add', 'place_remove') "
                          "AND call_id IN (SELECT call_id FROM _purge)").fetchone()[0]
    n_rows += con.execute("UPDATE call_evaluations SET comment = NULL WHERE comment IS NOT NULL "
                          "AND call_id IN (SELECT call_id FROM _purge)").fetchone()[0]
    quarantined = [Path(r[0]) for r in con.execute(
        "SELECT quarantine_path FROM _purge WHERE quarantine_path IS NOT NULL").fetchall()]
    n_rows += con.execute("UPDATE calls SET transcript = NULL, transcript_readable = NULL, caller_hash = NULL, caller_last3 = NULL, caller_initials = NULL, "
                          "summary = NULL, "  # it names the address, like call_places
                          "quarantine_path = NULL, purged_at = ? WHERE call_id IN (SELECT call_id FROM _purge)",
                          [now]).fetchone()[0]
    # Cases keep a copy of the caller hash and the citizen's first words (pipeline.casework.cases).
    n_rows += con.execute("UPDATE cases SET caller_hash = NULL, summary = NULL WHERE (caller_hash IS NOT NULL OR "
                          "summary IS NOT NULL) AND case_id IN (SELECT case_id FROM case_calls WHERE call_id IN "
                          "(SELECT call_id FROM _purge))").fetchone()[0]
    n_rows += purge_case_text(con, cutoff)
    # The stored name and error keep "***678", the caller's last three digits: they go, the rest of the
    # path (date folders, extension) stays, and web.data finds a PBX folder's file again by its hash.
    n_rows += con.execute(f"UPDATE calls SET source_path = {_NO_LAST_DIGITS.format('source_path')}, "
                          f"error = {_NO_LAST_DIGITS.format('error')} WHERE {old} AND "
                          "(regexp_matches(source_path, '\\*\\*\\*[0-9]') OR regexp_matches(error, '\\*\\*\\*[0-9]'))",
                          [cutoff]).fetchone()[0]
    n_rows += con.execute(f"UPDATE run_problems SET ref = {_NO_LAST_DIGITS.format('ref')}, "
                          f"reason = {_NO_LAST_DIGITS.format('reason')} WHERE run_id IN (SELECT run_id FROM runs "
                          "WHERE started_at < ?) AND (regexp_matches(ref, '\\*\\*\\*[0-9]') OR "
                          "regexp_matches(reason, '\\*\\*\\*[0-9]'))", [cutoff]).fetchone()[0]
    con.execute("DROP TABLE _purge")
    return n_calls, n_rows, quarantined


# "***678" (a masked number: pipeline.logsafe) → "***".
_NO_LAST_DIGITS = "regexp_replace({}, '\\*\\*\\*[0-9]{{3}}', '***', 'g')"


def purge_case_text(con: duckdb.DuckDBPyConnection, cutoff: datetime) -> int:
    """Blank the free text of cases whose every call started before ``cutoff``: the unit's ``result``,
    the street said (``place_detail``) and every note of the case's history (staff and units write
    names, phone and ID-card numbers there). Status, dates, unit, topic and ward stay for reports.
    A case with a call still inside the retention period keeps its text. Returns rows changed."""
    con.execute("CREATE OR REPLACE TEMP TABLE _purge_cases AS SELECT cc.case_id FROM case_calls cc "
                "JOIN calls c USING (call_id) GROUP BY cc.case_id "
                "HAVING max(coalesce(c.started_at, c.processed_at)) < ?", [cutoff])
    n = con.execute("UPDATE cases SET result = NULL, place_detail = NULL, summary = NULL, caller_hash = NULL "
                    "WHERE (result IS NOT NULL OR place_detail IS NOT NULL OR summary IS NOT NULL "
                    "OR caller_hash IS NOT NULL) AND case_id IN (SELECT case_id FROM _purge_cases)").fetchone()[0]
    n += con.execute("UPDATE case_events SET note = NULL WHERE note IS NOT NULL "
                     "AND case_id IN (SELECT case_id FROM _purge_cases)").fetchone()[0]
    con.execute("DROP TABLE _purge_cases")
    return n


def record_purge(con: duckdb.DuckDBPyConnection, purge_id: str, now: datetime, older_than_days: int, cutoff: datetime,
                 n_calls: int, n_rows: int, n_files: int) -> None:
    """The ``purges`` row of one purge."""
    con.execute("INSERT INTO purges VALUES (?, ?, ?, ?, ?, ?, ?)",
                [purge_id, now, older_than_days, cutoff, n_calls, n_rows, n_files])


def database_file(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The file of the connection's warehouse (None in memory)."""
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return Path(row[0]) if row and row[0] else None


def recordings_before(con: duckdb.DuckDBPyConnection, cutoff: datetime) -> list[tuple[str, str, str, str | None]]:
    """(call_id, the run's source_dir, source_path, recording_sha256) of every call older than ``cutoff``
    (purged before or not: a staged copy an older purge left behind goes too)."""
    return con.execute("SELECT c.call_id, r.source_dir, c.source_path, c.recording_sha256 FROM calls c "
                       "JOIN runs r USING (run_id) WHERE coalesce(c.started_at, c.processed_at) < ? "
                       "AND r.source_dir IS NOT NULL AND c.source_path IS NOT NULL ORDER BY c.call_id",
                       [cutoff]).fetchall()


def hashes_before(con: duckdb.DuckDBPyConnection, cutoff: datetime) -> list[str]:
    """Recording SHA-256s of every call older than ``cutoff`` (their cached stage results go)."""
    return [r[0] for r in con.execute("SELECT DISTINCT recording_sha256 FROM calls WHERE "
                                      "coalesce(started_at, processed_at) < ? AND recording_sha256 IS NOT NULL",
                                      [cutoff]).fetchall()]


def purged_at(con: duckdb.DuckDBPyConnection, call_id: str) -> datetime | None:
    """When the retention purge removed the call's personal data (None: never)."""
    row = con.execute("SELECT purged_at FROM calls WHERE call_id = ?", [call_id]).fetchone()
    return row[0] if row else None
