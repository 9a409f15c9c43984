"""Write results into the warehouse: one transaction per call, bulk inserts, idempotent.

Reloading a call replaces what the pipeline derived and keeps what people added
(QA topics, corrections, the reviewed mark).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from datetime import datetime

import duckdb

from pipeline.logsafe import mask_numbers
from pipeline.records import CallLogEntry, CallResult, Place, Recording
from pipeline.warehouse import qa_edits
from pipeline.warehouse.db import transaction

# Tables holding only what the pipeline derives from a recording.
DERIVED_TABLES = ("segments", "segments_raw", "words", "call_places", "call_routes", "call_metrics", "pii_counts",
                  "turn_sentiment")

_SEGMENT_COLUMNS = ["call_id", "seq", "start_s", "end_s", "speaker", "role", "channel", "text", "avg_logprob",
                    "no_speech_prob", "confidence", "flags", "readable", "readable_align"]
_RAW_COLUMNS = ["call_id", "seq", "text", "readable", "readable_align"]


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict], columns: list[str] | None = None) -> None:
    """Bulk insert a list of dicts through a DataFrame (never row by row)."""
    if not rows:
        return
    import pandas as pd  # (0.5 s to import: only a run that loads a call pays it)

    frame = pd.DataFrame(rows, columns=columns)
    con.register("_rows", frame)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")  # table names are ours, never user input
    finally:
        con.unregister("_rows")


def new_run_id() -> str:
    return datetime.now().strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, source_dir: str, *, asr_model: str | None = None,
              asr_fingerprint: str | None = None, diarizer: str | None = None, topic_model: str | None = None,
              asr_lm: str | None = None) -> None:
    con.execute(
        "INSERT INTO runs (run_id, started_at, source_dir, asr_model, asr_fingerprint, diarizer, topic_model, status, "
        "asr_lm) VALUES (?, now(), ?, ?, ?, ?, ?, 'running', ?)",
        [run_id, source_dir, asr_model, asr_fingerprint, diarizer, topic_model, asr_lm],
    )


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, *, found: int, processed: int, skipped: int, failed: int,
               status: str = "done", asr_model: str | None = None, asr_fingerprint: str | None = None,
               asr_lm: str | None = None) -> None:
    con.execute(
        "UPDATE runs SET finished_at = now(), n_found = ?, n_processed = ?, n_skipped = ?, n_failed = ?, status = ?, "
        "asr_model = coalesce(?, asr_model), asr_fingerprint = coalesce(?, asr_fingerprint), "
        "asr_lm = coalesce(?, asr_lm) WHERE run_id = ?",
        [found, processed, skipped, failed, status, asr_model, asr_fingerprint, asr_lm, run_id],
    )


def mark_interrupted_runs(con: duckdb.DuckDBPyConnection) -> int:
    """Mark runs still 'running' as 'interrupted'; returns how many.

    Call only while holding the write connection: DuckDB lets one process write, so
    no run recorded as 'running' can still be alive. Their calls were loaded one
    transaction each; whatever they had not loaded is simply not in ``calls``.
    """
    return con.execute("UPDATE runs SET status = 'interrupted', finished_at = coalesce(finished_at, now()) "
                       "WHERE status = 'running'").fetchone()[0]


def calls_to_reprocess(con: duckdb.DuckDBPyConnection, date_from, date_to, asr_fingerprint: str) -> list[tuple[str, str, str, str]]:
    """Loaded calls that started in [date_from, date_to] and were transcribed by another ASR model.

    Returns (call_id, recording_sha256, source_dir, source_path) for each, oldest
    first; ``source_dir`` is the folder of the run that loaded the call. Calls whose
    personal data was purged are left out: reprocessing would bring it back.
    """
    return [tuple(r) for r in con.execute(
        "SELECT c.call_id, c.recording_sha256, r.source_dir, c.source_path FROM calls c JOIN runs r USING (run_id) "
        "WHERE c.status = 'done' AND c.purged_at IS NULL AND CAST(coalesce(c.started_at, c.processed_at) AS DATE) BETWEEN ? AND ? "
        "AND c.asr_fingerprint IS DISTINCT FROM ? ORDER BY coalesce(c.started_at, c.processed_at), c.call_id",
        [date_from, date_to, asr_fingerprint]).fetchall()]


def call_log_entry(con: duckdb.DuckDBPyConnection, call_id: str) -> CallLogEntry | None:
    """The call-log columns stored for a call, as the entry ingest made (None if it had none)."""
    row = con.execute("SELECT pbx_call_id, source_path, CASE WHEN coalesce(started_at_source, 'call_log') = 'call_log' "
                      "THEN started_at END, caller_hash, caller_last3, operator_ext, direction, dialled "
                      "FROM calls WHERE call_id = ?", [call_id]).fetchone()
    if row is None or all(v is None for i, v in enumerate(row[:7]) if i != 1):
        return None
    return CallLogEntry(pbx_call_id=row[0], file_name=row[1], started_at=row[2], caller_hash=row[3],
                        caller_last3=row[4], operator_ext=row[5], direction=row[6], dialled=row[7])


def processed_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Recordings that need no more work: loaded, or quarantined (the same bytes fail again)."""
    rows = con.execute("SELECT recording_sha256 FROM calls WHERE status IN ('done', 'quarantined')").fetchall()
    return {r[0] for r in rows}


def _recording_columns(rec: Recording) -> dict:
    log = rec.log
    return {
        "call_id": rec.call_id,
        "recording_sha256": rec.sha256,
        "source_path": mask_numbers(rec.relpath),  # no caller number in clear: PBX file names often hold it
        "pbx_call_id": log.pbx_call_id if log else None,
        "started_at": log.started_at if log and log.started_at else rec.estimated_start,
        "started_at_source": "call_log" if log and log.started_at else (rec.start_source if rec.estimated_start else None),
        "caller_hash": log.caller_hash if log else None,
        "caller_last3": log.caller_last3 if log else None,
        "operator_ext": log.operator_ext if log else None,
        "direction": log.direction if log else None,
        "dialled": log.dialled if log else None,  # the line's number (pipeline.lines)
    }


def _replace_call_row(con: duckdb.DuckDBPyConnection, row: dict) -> None:
    kept = con.execute("SELECT reviewed, reviewed_by, reviewed_at, started_at, started_at_source FROM calls WHERE call_id = ?",
                       [row["call_id"]]).fetchone()
    if kept:
        row.update(reviewed=kept[0], reviewed_by=kept[1], reviewed_at=kept[2])
        if row.get("started_at") is None and kept[3] is not None:  # a reprocess without the recording's estimate
            row.update(started_at=kept[3], started_at_source=kept[4])
    con.execute("DELETE FROM calls WHERE call_id = ?", [row["call_id"]])
    _insert(con, "calls", [row])


def load_call(con: duckdb.DuckDBPyConnection, result: CallResult, run_id: str, *, keep_raw_text: bool = True) -> float:
    """Store one processed call atomically; reloading replaces the derived rows.

    The load's own wall seconds are stored with the call's rows (``stage_timings``
    stage ``load``, in the same transaction) and returned.
    """
    t0 = time.perf_counter()
    rec, analysis = result.recording, result.analysis
    call_id = rec.call_id
    seg_rows, raw_rows, word_rows = [], [], []
    for seq, redacted in enumerate(analysis.segments):
        seg = redacted.segment
        seg_rows.append({
            "call_id": call_id, "seq": seq, "start_s": seg.start, "end_s": seg.end, "speaker": seg.speaker,
            "role": seg.role or "unknown", "channel": seg.channel, "text": redacted.text, "avg_logprob": seg.avg_logprob,
            "no_speech_prob": seg.no_speech_prob, "confidence": seg.confidence, "flags": ",".join(seg.flags) or None,
            "readable": redacted.readable or None,
            # the recogniser's words line up with the shown text only where redaction left it as the raw form
            "readable_align": (redacted.readable_align or None) if redacted.readable == redacted.readable_raw else None,
        })
        if keep_raw_text:
            raw_rows.append({"call_id": call_id, "seq": seq, "text": seg.text, "readable": redacted.readable_raw or None,
                             "readable_align": redacted.readable_align or None})
        word_rows.extend({"call_id": call_id, "seq": seq, "word_seq": i, "start_s": w.start, "end_s": w.end,
                          "probability": w.probability} for i, w in enumerate(seg.words))
    sentiment = analysis.sentiment or {}
    call_row = _recording_columns(rec) | {
        "duration_s": result.duration_s,
        "channels": result.channels,
        "sample_rate_hz": result.source_sample_rate,
        "language": result.info.language,
        "language_prob": result.info.language_probability,
        "status": "done",
        "error": None,
        "transcript": " ".join(s.text for s in analysis.segments if s.text),
        "transcript_readable": " ".join(s.readable for s in analysis.segments if s.readable) or None,
        "readable_model": result.readable_model or None,
        "caller_initials": analysis.caller_initials,
        "confidence": analysis.confidence,
        "needs_review": analysis.needs_review,
        "review_reasons": ",".join(analysis.review_reasons) or None,
        "urgent": analysis.urgent,
        "urgency_reasons": ",".join(analysis.urgency_reasons) or None,
        "role_confidence": result.speakers.role_confidence,
        "summary": analysis.summary or None,
        "frustration": sentiment.get("frustration"),
        "frustrated": sentiment.get("frustrated"),
        "operator_courtesy": sentiment.get("courtesy"),
        "repeat_unresolved": sentiment.get("repeat_unresolved"),
        "operator_voice": result.speakers.operator_voice,
        "run_id": run_id,
        "asr_model": result.asr_model,
        "asr_fingerprint": result.asr_fingerprint,
        "asr_word_times": result.asr_word_times,
        "asr_confidence": result.asr_confidence,
        "asr_lm": getattr(result, "asr_lm", None),  # results cached before issue 27 lack it
        "topic_model": getattr(analysis, "topic_model", "") or None,  # results cached before issue 31 lack it
        "processed_at": datetime.now(),
    }
    with transaction(con):
        drop_superseded(con, rec)  # the same PBX call re-written: this version replaces the earlier one
        for table in DERIVED_TABLES:
            con.execute(f"DELETE FROM {table} WHERE call_id = ?", [call_id])
        con.execute("DELETE FROM call_topics WHERE call_id = ? AND source = 'model'", [call_id])
        con.execute("DELETE FROM stage_timings WHERE run_id = ? AND call_id = ?", [run_id, call_id])
        _replace_call_row(con, call_row)
        _insert(con, "segments", seg_rows, _SEGMENT_COLUMNS)
        _insert(con, "segments_raw", raw_rows, _RAW_COLUMNS)
        _insert(con, "words", word_rows)
        _insert(con, "call_topics", [{"call_id": call_id, "topic": t.topic, "score": t.score, "source": "model",
                                      "assigned": t.assigned} for t in analysis.topics])
        _insert(con, "call_places", [{"call_id": call_id, "seq": i, **_place_columns(p)} for i, p in enumerate(analysis.places)])
        _insert(con, "call_routes", [{"call_id": call_id, "seq": i, "agency": r.agency, "agency_vi": r.agency_vi,
                                      "reason": r.reason} for i, r in enumerate(analysis.routes)])
        _insert(con, "turn_sentiment", [{"call_id": call_id, **t} for t in sentiment.get("turns", ())])
        _insert(con, "call_metrics", [{"call_id": call_id, "scope": m.scope, "name": m.name, "value": float(m.value)}
                                      for m in analysis.metrics])
        _insert(con, "pii_counts", [{"call_id": call_id, "kind": k, "n": n} for k, n in analysis.pii_counts.items()])
        _insert(con, "stage_timings", [{"run_id": run_id, "call_id": call_id, "stage": stage, "seconds": s}
                                       for stage, s in result.timings.items() if stage != "load"])
        if result.readable_model:  # the run's case and punctuation model, as its calls record it
            con.execute("UPDATE runs SET readable_model = ? WHERE run_id = ? AND readable_model IS DISTINCT FROM ?",
                        [result.readable_model, run_id, result.readable_model])
        qa_edits.reapply(con, call_id)  # QA's text, place and urgent corrections outlive a reprocessing
        load_s = time.perf_counter() - t0
        record_stage_time(con, run_id, call_id, "load", load_s)
    return load_s


_PLACE_FIELDS = ("kind", "text", "name", "unit_code", "resolved_from")


def record_stage_time(con: duckdb.DuckDBPyConnection, run_id: str, call_id: str, stage: str, seconds: float) -> None:
    """Add (or replace) one stage's wall seconds for a call (:func:`load_call` stores its own this way)."""
    con.execute("INSERT OR REPLACE INTO stage_timings VALUES (?, ?, ?, ?)", [run_id, call_id, stage, float(seconds)])


def _place_columns(place: Place) -> dict:
    return {k: getattr(place, k) for k in _PLACE_FIELDS}


def record_failure(con: duckdb.DuckDBPyConnection, rec: Recording, run_id: str, *, status: str, error: str,
                   quarantine_path: str | None = None) -> None:
    """Record a recording that could not be processed (``quarantined`` or ``failed``)."""
    row = _recording_columns(rec) | {"status": status, "error": error, "quarantine_path": quarantine_path,
                                     "run_id": run_id, "processed_at": datetime.now()}
    with transaction(con):
        drop_superseded(con, rec)
        for table in DERIVED_TABLES:
            con.execute(f"DELETE FROM {table} WHERE call_id = ?", [rec.call_id])
        _replace_call_row(con, row)


def table_counts(con: duckdb.DuckDBPyConnection, tables: Iterable[str] = ("calls", "segments", "call_topics")) -> dict[str, int]:
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


# --- issue 13: attempts (a call that killed two runs is quarantined) and skipped inputs ---

def start_attempt(con: duckdb.DuckDBPyConnection, sha256: str, run_id: str) -> None:
    """Note that ``run_id`` starts work on this recording (cleared by :func:`end_attempt`)."""
    con.execute("INSERT OR REPLACE INTO call_attempts VALUES (?, ?, now())", [sha256, run_id])


def end_attempt(con: duckdb.DuckDBPyConnection, sha256: str) -> None:
    con.execute("DELETE FROM call_attempts WHERE recording_sha256 = ?", [sha256])


def interrupted_attempts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Recording hash → number of runs that were killed while working on it."""
    rows = con.execute("SELECT a.recording_sha256, count(*) FROM call_attempts a JOIN runs r USING (run_id) "
                       "WHERE r.status = 'interrupted' GROUP BY 1").fetchall()
    return {sha: n for sha, n in rows}


def record_problems(con: duckdb.DuckDBPyConnection, run_id: str, problems: Iterable[tuple[str, str | None, str]]) -> int:
    """Store (kind, ref, reason) problems of a run (after those it has already); masked by the caller. Returns how many."""
    first = con.execute("SELECT coalesce(max(seq) + 1, 0) FROM run_problems WHERE run_id = ?", [run_id]).fetchone()[0]
    rows = [{"run_id": run_id, "seq": first + i, "kind": k, "ref": ref, "reason": why}
            for i, (k, ref, why) in enumerate(problems)]
    _insert(con, "run_problems", rows)
    return len(rows)


def drop_superseded(con: duckdb.DuckDBPyConnection, rec: Recording) -> list[str]:
    """Delete earlier versions of this call: rows with the same PBX call id but other audio.

    A file caught mid-write and completed later is the same call re-written; its
    earlier (cut) version must not stay as a second call. Returns the dropped call ids.
    """
    pbx = rec.log.pbx_call_id if rec.log else None
    if not pbx:
        return []
    old = [r[0] for r in con.execute("SELECT call_id FROM calls WHERE pbx_call_id = ? AND recording_sha256 <> ?",
                                     [pbx, rec.sha256]).fetchall()]
    for call_id in old:
        for table in DERIVED_TABLES + ("call_topics",):
            con.execute(f"DELETE FROM {table} WHERE call_id = ?", [call_id])
        con.execute("DELETE FROM calls WHERE call_id = ?", [call_id])
    return old
