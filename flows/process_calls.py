"""The main job as a Prefect flow: scan a folder, run each new call through the stages, load DuckDB.

One flow run per batch; one task per call (``call``) holding one task per stage.
Only I/O (scan, load, quarantine) retries; deterministic stages do not. The
transcribe and speakers tasks cache their results by recording hash + model
fingerprint, so a run killed after transcribing a call does no model work for it
again. Per-call work may run on Dask workers (``workers`` / ``dask_address``); the
database is written by this flow's process only (DuckDB allows one writer).
"""

# No `from __future__ import annotations`: a flow's parameter types must be objects, not names.
# A served flow is pickled by value into its run's process, which keeps the annotations but not
# the module globals a string annotation ("Settings") would be resolved in.

import hashlib
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed

from flows.environment import dask_task_runner, flow_settings
from models.diarization import DiarizationOptions
from pipeline.config import Settings
from pipeline.errors import AudioDecodeError
from pipeline.intake import ingest
from pipeline.logsafe import safe
from pipeline.stages.operators import voiceprints_fingerprint
from pipeline.stages.process import (Stages, analyse_stage, call_date, decode_stage, get_models, operator_ext, run_call,
                              speakers_stage, transcribe_stage)
from pipeline.intake.quarantine import quarantine
from pipeline.records import CallResult, Recording
from pipeline.runs.book import store_call
from pipeline.salt import caller_salt
from pipeline.stages.transcribe import TranscribeOptions, options_for
from pipeline.warehouse import db, load
from pipeline.warehouse.search import index_is_current, refresh_search_index

# Cached stage results hold raw transcripts: keep them a week at most (``hotline purge`` also deletes them).
CACHE_EXPIRATION = timedelta(days=7)


def _name(rec: Recording) -> str:
    return safe(rec.relpath)  # numbers masked, and a newline in a file name cannot forge a log line


# A call that was in progress when two runs were killed (SIGKILL, out of memory) is
# quarantined instead of being tried a third time: it must not crash every later run.
MAX_INTERRUPTED_ATTEMPTS = 2
INTERRUPTED_TWICE = "interrupted twice while being processed (each run was killed during this call); quarantined"


def _cached(stage_task, settings: Settings):
    """The stage task as it is, or (``keep_raw_text`` off) without Prefect's persisted result cache.

    Cached stage results are pickles of raw (unredacted) transcripts: with raw text
    not to be kept, nothing of it may be written under the Prefect home either.
    """
    if settings.keep_raw_text:
        return stage_task
    return stage_task.with_options(cache_policy=NO_CACHE, persist_result=False)


def _diarization_options() -> str:
    """The diarizer's hyper-parameters, so that changing them invalidates cached speaker results."""
    return repr(DiarizationOptions())


def _transcribe_options(settings: Settings) -> TranscribeOptions:
    return options_for(settings)


def stage_cache_key(context, parameters) -> str:
    """Recording hash + ASR fingerprint + the settings and options a stage's output depends on."""
    rec: Recording = parameters["rec"]
    settings: Settings = parameters["settings"]
    depends = (settings.asr_model, settings.asr_compute_type, settings.operator_channel, settings.min_speakers,
               settings.max_speakers, repr(_transcribe_options(settings)), _diarization_options(),
               settings.known_operators)
    audio = parameters.get("audio")
    if context.task.name == "speakers" and settings.known_operators and getattr(audio, "channels", 1) == 1:
        depends += (voiceprints_fingerprint(get_models(settings).voiceprints),)
    digest = hashlib.sha256(repr(depends).encode()).hexdigest()[:12]
    fingerprint = get_models(settings).asr.fingerprint
    return f"{context.task.name}-{rec.sha256}-{fingerprint}-{digest}"


@task(name="scan", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def scan_task(source_dir: str, calls_csv: str | None, salt: str, settle_s: float = 0.0,
              only_keys: list[str] | None = None, call_log_format: str = "hotline") -> ingest.ScanResult:
    return ingest.scan_source(Path(source_dir), calls_csv=Path(calls_csv) if calls_csv else None, salt=salt,
                              settle_s=settle_s, only_keys=only_keys, call_log_format=call_log_format)


@task(name="decode", cache_policy=NO_CACHE)
def decode_task(rec: Recording, settings: Settings):
    """Decoded audio, or the decoder's problem as a string.

    A bad recording is an expected outcome (it is quarantined and the flow logs one
    warning), not a task failure for Prefect to log with a traceback.
    """
    try:
        return decode_stage(rec, settings)
    except AudioDecodeError as exc:
        return exc.problem


@task(name="transcribe", cache_key_fn=stage_cache_key, cache_expiration=CACHE_EXPIRATION, persist_result=True)
def transcribe_task(rec: Recording, audio, settings: Settings):
    return transcribe_stage(audio, get_models(settings), _transcribe_options(settings))


@task(name="speakers", cache_key_fn=stage_cache_key, cache_expiration=CACHE_EXPIRATION, persist_result=True)
def speakers_task(rec: Recording, audio, transcripts, settings: Settings):
    return speakers_stage(audio, transcripts, get_models(settings), settings, operator_ext(rec))


@task(name="analyse", cache_policy=NO_CACHE)
def analyse_task(audio, spk, info, settings, call_date=None):
    return analyse_stage(audio, spk, info, get_models(settings), settings, call_date)


@dataclass(frozen=True)
class CallOutcome:
    """What a ``call`` task hands back to the flow: a result, or why the recording is quarantined."""

    recording: Recording
    result: CallResult | None = None
    quarantine_error: str | None = None  # the decoder's problem; AudioDecodeError does not pickle across workers


class TaskStages(Stages):
    """The stages of :func:`pipeline.stages.process.run_call` as this flow's tasks (transcribe and speakers cached)."""

    def __init__(self, settings: Settings):
        super().__init__(get_models(settings), settings)

    def decode(self, rec: Recording):
        audio = decode_task(rec, self.settings)
        if isinstance(audio, str):
            raise AudioDecodeError(rec.relpath, audio)
        return audio

    def transcribe(self, rec: Recording, audio):
        return _cached(transcribe_task, self.settings)(rec, audio, self.settings)

    def speakers(self, rec: Recording, audio, transcripts):
        return _cached(speakers_task, self.settings)(rec, audio, transcripts, self.settings)

    def analyse(self, rec: Recording, audio, spk, info):
        return analyse_task(audio, spk, info, self.settings, call_date(rec))


@task(name="call", cache_policy=NO_CACHE)
def call_task(rec: Recording, settings: Settings) -> CallOutcome:
    """All stages of one call (on whichever worker runs it); loading is left to the flow."""
    try:
        return CallOutcome(rec, result=run_call(rec, TaskStages(settings)))
    except AudioDecodeError as exc:
        return CallOutcome(rec, quarantine_error=exc.problem)


@task(name="load", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def load_task(con, result: CallResult, run_id: str, keep_raw_text: bool) -> float:
    """Load one call; returns the load's wall seconds (stored with the call's rows)."""
    return store_call(con, result, run_id, keep_raw_text=keep_raw_text)


@task(name="quarantine", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def quarantine_task(con, rec: Recording, run_id: str, error: str, folder: str, max_bytes: int | None = None) -> str:
    copy = quarantine(rec, error, Path(folder), max_bytes)
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
    interrupted_runs: int = 0  # earlier runs found still 'running' (killed) and marked 'interrupted'
    problems: list = field(default_factory=list)  # (kind, ref, reason) skipped inputs, masked; also in run_problems
    audio_s: float = 0.0  # seconds of audio processed
    wall_s: float = 0.0
    stage_s: dict = field(default_factory=dict)  # stage -> summed wall seconds
    call_ids: list = field(default_factory=list)


def record_call(con, summary: RunSummary, outcome_or_exc, rec: Recording, tag: str, run_id: str, settings,
                logger) -> None:
    """The run book for one call: load its outcome (or record its failure or quarantine), count it in
    ``summary``, log one line, and clear its attempt. ``process-calls`` and ``backfill`` both use it."""
    try:
        _record_outcome(con, summary, outcome_or_exc, rec, tag, run_id, settings, logger)
    finally:
        try:
            load.end_attempt(con, rec.sha256)
        except Exception:  # the attempt stays; it only matters if this run is killed
            pass


def _record_outcome(con, summary: RunSummary, outcome_or_exc, rec: Recording, tag: str, run_id: str, settings,
                    logger) -> None:
    if isinstance(outcome_or_exc, BaseException):
        error = f"{type(outcome_or_exc).__name__}: {outcome_or_exc}"
        load.record_failure(con, rec, run_id, status="failed", error=error)
        summary.failed += 1
        logger.error("%s failed: %s", tag, safe(error))
        return
    outcome: CallOutcome = outcome_or_exc
    if outcome.quarantine_error is not None:
        copy = quarantine_task(con, rec, run_id, outcome.quarantine_error, str(settings.quarantine_dir),
                               int(settings.max_recording_mb * 2**20) or None)
        summary.quarantined += 1
        logger.warning("%s quarantined: %s (copy in %s)", tag, safe(outcome.quarantine_error), safe(copy))
        return
    result = outcome.result
    try:
        load_s = load_task(con, result, run_id, settings.keep_raw_text)
    except Exception as exc:  # the load retried twice already; the call is tried again next run
        _record_outcome(con, summary, exc, rec, tag, run_id, settings, logger)
        return
    timings = {**result.timings, "load": load_s}
    summary.processed += 1
    summary.audio_s += result.duration_s
    summary.call_ids.append(rec.call_id)
    for stage, s in timings.items():
        summary.stage_s[stage] = summary.stage_s.get(stage, 0.0) + s
    topics = ",".join(t.topic for t in result.analysis.topics if t.assigned) or "-"
    logger.info("%s done: %.1f s audio in %.1f s, %d segments, topics %s", tag, result.duration_s,
                sum(timings.values()), len(result.speakers.segments), topics)


def _write_log_problems(settings, run_id: str, source_dir: str, problems) -> None:
    """What did not pair (call-log rows, recordings), as of this run, in the quarantine folder (one file, replaced)."""
    report = settings.quarantine_dir / "call-log-problems.txt"
    if not problems:
        report.unlink(missing_ok=True)
        return
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(f"run {run_id}, source {source_dir}\n" + "\n".join(problems) + "\n", encoding="utf-8")


@flow(name="process-calls", log_prints=False)
def process_calls(source_dir: str, settings: Settings | None = None, calls_csv: str | None = None,
                  wait_s: float = 0.0, settle_s: float = 0.0, only_keys: list[str] | None = None,
                  parallel: bool = False) -> RunSummary:
    """Process every new recording under ``source_dir`` into the warehouse ``settings.database``.

    ``settings``: built once by the entry point (:func:`pipeline.config.load_settings`);
    None: this process's environment.

    Recordings already loaded (same SHA-256) are skipped; undecodable ones are
    quarantined and recorded; a failure in one call never stops the batch. Runs
    left 'running' by a killed process are marked 'interrupted' (this run holds the
    run lock, so none of them can still be alive). The database file is opened only
    for each call's load and the run's bookkeeping, never during model work. ``settle_s`` and ``only_keys``
    restrict the scan (see :func:`pipeline.intake.ingest.find_audio_files`): ``only_keys`` are
    :func:`pipeline.intake.ingest.name_key` ids, never file names, since Prefect stores a flow's
    parameters and PBX file names hold the caller's number. ``parallel``
    submits each call to the flow's task runner (Dask: see :func:`run_process_calls`)
    and loads results here as they complete. Raises :class:`DatabaseBusy` when
    another run holds the warehouse's run lock for more than ``wait_s`` seconds.
    """
    logger = get_run_logger()
    settings = flow_settings(settings)
    started = time.perf_counter()
    database = settings.database
    run_id = load.new_run_id()
    summary = RunSummary(run_id=run_id, db_path=str(database))
    # The run lock keeps other runs out for the whole run; the database file itself is
    # open only for each short piece of bookkeeping or load, so the web app stays up.
    with db.run_lock(database, wait_s=wait_s):
        with db.brief(database, migrate_schema=True, create=True) as con:
            summary.interrupted_runs = load.mark_interrupted_runs(con)
            done = load.processed_hashes(con)
        if summary.interrupted_runs:
            logger.warning("%d earlier run(s) had been killed; marked 'interrupted', their calls are redone",
                           summary.interrupted_runs)
        try:
            scan = scan_task(source_dir, calls_csv, caller_salt(settings), settle_s, only_keys,
                             settings.call_log_format)
            _write_log_problems(settings, run_id, source_dir, scan.log_problems)
            duplicates: list[str] = []
            recordings = ingest.dedupe(scan.recordings, duplicates)
            todo = [r for r in recordings if r.sha256 not in done]
            summary.found, summary.skipped = len(recordings), len(recordings) - len(todo)
            summary.problems = ([("file", safe(rel), why) for rel, why in scan.file_problems]
                                + [("call_log", None, p) for p in scan.log_problems]
                                + [("duplicate", None, p) for p in duplicates])
            tags = {rec.sha256: f"[{i}/{len(todo)}] {rec.call_id} {_name(rec)}" for i, rec in enumerate(todo, start=1)}
            with db.brief(database) as con:
                load.start_run(con, run_id, str(Path(source_dir).resolve()), asr_model=settings.asr_model)
                load.record_problems(con, run_id, summary.problems)
                stuck = load.interrupted_attempts(con)
                for rec in [r for r in todo if stuck.get(r.sha256, 0) >= MAX_INTERRUPTED_ATTEMPTS]:
                    todo.remove(rec)
                    record_call(con, summary, CallOutcome(rec, quarantine_error=INTERRUPTED_TWICE), rec,
                                tags[rec.sha256], run_id, settings, logger)
            for p in duplicates:
                logger.warning("duplicate: %s", p)
            logger.info("found %d recordings, %d already processed, %d to do%s", len(recordings), summary.skipped,
                        len(todo), f"; {len(summary.problems)} input problems recorded (files, call-log rows, copies)"
                        if summary.problems else "")

            def note_started(recs: list[Recording]) -> None:  # noted, so a call that kills two runs is quarantined
                with db.brief(database) as con:
                    for rec in recs:
                        load.start_attempt(con, rec.sha256, run_id)

            for rec, outcome in _outcomes(todo, settings, parallel, note_started):
                with db.brief(database) as con:
                    record_call(con, summary, outcome, rec, tags[rec.sha256], run_id, settings, logger)
            asr = get_models(settings)._asr  # None when nothing needed a model: don't load one just to name it
            with db.brief(database) as con:
                load.finish_run(con, run_id, found=summary.found, processed=summary.processed,
                                skipped=summary.skipped, failed=summary.failed + summary.quarantined,
                                asr_model=asr.name if asr else None, asr_fingerprint=asr.fingerprint if asr else None)
                if summary.processed or not index_is_current(con):
                    # Search must see the new calls (its own PRAGMA: outside any transaction); a run
                    # killed during its refresh left the index stale, so the next run rebuilds it.
                    refresh_search_index(con)
        except BaseException:
            try:
                with db.brief(database) as con:
                    load.finish_run(con, run_id, found=summary.found, processed=summary.processed,
                                    skipped=summary.skipped, failed=summary.failed + summary.quarantined,
                                    status="failed")
            except Exception:
                pass
            raise
    summary.wall_s = time.perf_counter() - started
    return summary


def _outcomes(todo: list[Recording], settings: Settings, parallel: bool, started):
    """(recording, outcome or exception) per call: here one after another, or from the task runner as they finish.

    ``started(recordings)`` is told which calls are about to be worked on (all of them
    at once when they go to the task runner). One bad call must not stop the batch:
    its exception is handed on, recorded, and the call is tried again next run.
    """
    if parallel:
        started(todo)
        futures = {call_task.submit(rec, settings): rec for rec in todo}
        for future in as_completed(list(futures)):
            try:
                yield futures[future], future.result()
            except Exception as exc:
                yield futures[future], exc
        return
    for rec in todo:
        started([rec])
        try:
            yield rec, call_task(rec, settings)
        except Exception as exc:
            yield rec, exc


def run_process_calls(source_dir: str, settings: Settings | None = None, calls_csv: str | None = None,
                      wait_s: float = 0.0, settle_s: float = 0.0, only_keys: list[str] | None = None, *,
                      workers: int = 0, dask_address: str | None = None) -> RunSummary:
    """:func:`process_calls`, with per-call work on Dask when ``workers`` > 0 or ``dask_address`` is given."""
    if workers <= 0 and not dask_address:
        return process_calls(source_dir, settings, calls_csv, wait_s, settle_s, only_keys)
    runner = dask_task_runner(workers=workers, address=dask_address)
    return process_calls.with_options(task_runner=runner)(source_dir, settings, calls_csv, wait_s, settle_s,
                                                          only_keys, parallel=True)
