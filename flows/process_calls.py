"""The main job as a Prefect flow: scan a folder, run each new call through the stages, load DuckDB.

One flow run per batch; one task per call and stage. Only I/O (scan, load,
quarantine) retries; deterministic stages do not.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pipeline import ingest
from pipeline.config import load_settings
from pipeline.errors import AudioDecodeError
from pipeline.logsafe import mask_numbers
from pipeline.process import (CallResult, build_result, decode_stage, get_models, merge_info, speakers_stage,
                              analyse_stage, transcribe_stage)
from pipeline.quarantine import quarantine
from pipeline.records import Recording
from pipeline.warehouse import db, load


def _name(rec: Recording) -> str:
    return mask_numbers(rec.relpath)


@task(name="scan", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def scan_task(source_dir: str, calls_csv: str | None, salt: str, settle_s: float = 0.0) -> ingest.ScanResult:
    return ingest.scan_source(Path(source_dir), calls_csv=Path(calls_csv) if calls_csv else None, salt=salt,
                              settle_s=settle_s)


@task(name="decode", cache_policy=NO_CACHE)
def decode_task(rec: Recording):
    return decode_stage(rec)


@task(name="transcribe", cache_policy=NO_CACHE)
def transcribe_task(audio, settings):
    return transcribe_stage(audio, get_models(settings))


@task(name="speakers", cache_policy=NO_CACHE)
def speakers_task(audio, transcripts, settings):
    return speakers_stage(audio, transcripts, get_models(settings), settings)


@task(name="analyse", cache_policy=NO_CACHE)
def analyse_task(audio, spk, info, settings):
    return analyse_stage(audio, spk, info, get_models(settings), settings)


@task(name="load", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def load_task(con, result: CallResult, run_id: str, keep_raw_text: bool) -> None:
    load.load_call(con, result, run_id, keep_raw_text=keep_raw_text)


@task(name="quarantine", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def quarantine_task(con, rec: Recording, run_id: str, error: str, folder: str) -> str:
    copy = quarantine(rec, error, Path(folder))
    load.record_failure(con, rec, run_id, status="quarantined", error=error, quarantine_path=str(copy))
    return str(copy)


@dataclass
class RunSummary:
    run_id: str
    db_path: str
    found: int = 0
    processed: int = 0
    skipped: int = 0
    quarantined: int = 0
    failed: int = 0
    audio_s: float = 0.0  # seconds of audio processed
    wall_s: float = 0.0
    stage_s: dict = field(default_factory=dict)  # stage -> summed wall seconds
    call_ids: list = field(default_factory=list)


def process_one(con, rec: Recording, settings, run_id: str, logger) -> CallResult:
    """Run the stages for one recording as tasks, load it, and return the result."""
    timings = {}

    def timed(stage, task_fn, *args):
        t0 = time.perf_counter()
        out = task_fn(*args)
        timings[stage] = time.perf_counter() - t0
        return out

    audio = timed("decode", decode_task, rec)
    transcripts = timed("transcribe", transcribe_task, audio, settings)
    spk = timed("speakers", speakers_task, audio, transcripts, settings)
    info = merge_info(transcripts)
    analysis = timed("analyse", analyse_task, audio, spk, info, settings)
    result = build_result(rec, audio, info, spk, analysis, get_models(settings), timings)
    t0 = time.perf_counter()
    load_task(con, result, run_id, settings.keep_raw_text)
    result.timings["load"] = time.perf_counter() - t0
    return result


@flow(name="process-calls", log_prints=False)
def process_calls(source_dir: str, db_path: str | None = None, calls_csv: str | None = None,
                  settings_overrides: dict | None = None, wait_s: float = 0.0, settle_s: float = 0.0) -> RunSummary:
    """Process every new recording under ``source_dir`` into the DuckDB file ``db_path``.

    Recordings already loaded (same SHA-256) are skipped; undecodable ones are
    quarantined and recorded; a failure in one call never stops the batch.
    """
    logger = get_run_logger()
    settings = load_settings(**(settings_overrides or {})).with_(db_path=Path(db_path) if db_path else None)
    started = time.perf_counter()
    con = db.connect(settings.database, wait_s=wait_s)
    run_id = load.new_run_id()
    summary = RunSummary(run_id=run_id, db_path=str(settings.database))
    try:
        scan = scan_task(source_dir, calls_csv, settings.caller_salt, settle_s)
        recordings = ingest.dedupe(scan.recordings)
        done = load.processed_hashes(con)
        todo = [r for r in recordings if r.sha256 not in done]
        summary.found, summary.skipped = len(recordings), len(recordings) - len(todo)
        load.start_run(con, run_id, str(Path(source_dir).resolve()), asr_model=settings.asr_model)
        logger.info("found %d recordings, %d already processed, %d to do%s", len(recordings), summary.skipped,
                    len(todo), f"; {len(scan.log_problems)} call-log rows skipped" if scan.log_problems else "")
        for i, rec in enumerate(todo, start=1):
            tag = f"[{i}/{len(todo)}] {rec.call_id} {_name(rec)}"
            try:
                result = process_one(con, rec, settings, run_id, logger)
            except AudioDecodeError as exc:
                error = exc.problem
                copy = quarantine_task(con, rec, run_id, error, str(settings.quarantine_dir))
                summary.quarantined += 1
                logger.warning("%s quarantined: %s (copy in %s)", tag, mask_numbers(error), mask_numbers(copy))
                continue
            except Exception as exc:  # one bad call must not stop the batch; it is retried next run
                error = f"{type(exc).__name__}: {exc}"
                load.record_failure(con, rec, run_id, status="failed", error=error)
                summary.failed += 1
                logger.error("%s failed: %s", tag, mask_numbers(error))
                continue
            summary.processed += 1
            summary.audio_s += result.duration_s
            summary.call_ids.append(rec.call_id)
            for stage, s in result.timings.items():
                summary.stage_s[stage] = summary.stage_s.get(stage, 0.0) + s
            topics = ",".join(t.topic for t in result.analysis.topics if t.assigned) or "-"
            logger.info("%s done: %.1f s audio in %.1f s, %d segments, topics %s", tag, result.duration_s,
                        sum(result.timings.values()), len(result.speakers.segments), topics)
        models = get_models(settings)
        asr = models._asr
        load.finish_run(con, run_id, found=summary.found, processed=summary.processed, skipped=summary.skipped,
                        failed=summary.failed + summary.quarantined, asr_model=asr.name if asr else None,
                        asr_fingerprint=asr.fingerprint if asr else None)
    except BaseException:
        try:
            load.finish_run(con, run_id, found=summary.found, processed=summary.processed, skipped=summary.skipped,
                            failed=summary.failed + summary.quarantined, status="failed")
        except Exception:
            pass
        raise
    finally:
        con.close()
    summary.wall_s = time.perf_counter() - started
    return summary
