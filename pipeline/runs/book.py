"""The run book: what every run writes in the warehouse around the stages' work.

``process-calls``, ``backfill`` and ``retag-operators`` keep their books with a :class:`RunBook`
(``pull-and-process`` and ``hotline watch`` through ``process-calls``). The flows call the
stages, as Prefect tasks, and hand each call's outcome to the book. The book

- holds the warehouse's run lock for the whole run (:func:`pipeline.warehouse.db.run_lock`):
  two runs on one warehouse exclude each other, and a killed run's lock goes with its process;
- opens the DuckDB file only for short steps (:func:`pipeline.warehouse.db.brief`), never
  during model work, so the web app stays up: the first open migrates the schema and marks
  runs left 'running' by a killed process 'interrupted'; then one open starts a ``runs`` row
  (with the inputs the scan skipped), one per call records it, and one finishes the run and
  refreshes the search index;
- records a call: loads it, opens or updates its case and tags it by the category rules
  (:func:`store_call`: the warehouse stores, the run book decides what a loaded call sets off),
  or records its failure, or quarantines it; counts it, logs one line, clears its attempt and
  notes the next call's;
- quarantines a call that was being worked on when two runs were killed, rather than let it
  kill every later run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import duckdb

from pipeline.casework import alerts, cases, categories
from pipeline.config import Settings, ensure_dir
from pipeline.errors import DatabaseBusy, HotlineError
from pipeline.intake import ingest
from pipeline.intake.quarantine import quarantine
from pipeline.lines import LineBook, line_book
from pipeline.logsafe import safe
from pipeline.records import CallResult, Recording
from pipeline.warehouse import db, load
from pipeline.warehouse.lines import assign_lines
from pipeline.warehouse.search import index_is_current, refresh_search_index

log = logging.getLogger(__name__)

T = TypeVar("T")

# A call that was in progress when two runs were killed (SIGKILL, out of memory) is
# quarantined instead of being tried a third time: it must not crash every later run.
MAX_INTERRUPTED_ATTEMPTS = 2
INTERRUPTED_TWICE = "interrupted twice while being processed (each run was killed during this call); quarantined"
IO_ATTEMPTS = 3  # a call's load or quarantine copy is tried this often (1 s apart) before it counts as failed


@dataclass
class RunSummary:
    run_id: str  # the run's id; a backfill's runs (one per source folder) joined by commas
    db_path: str
    found: int = 0
    processed: int = 0
    skipped: int = 0
    quarantined: int = 0
    failed: int = 0
    interrupted_runs: int = 0  # earlier runs found still 'running' (killed) and marked 'interrupted'
    retried: int = 0  # calls run again because the cluster worker running them was lost (also in run_problems)
    problems: list = field(default_factory=list)  # (kind, ref, reason) skipped inputs, masked; also in run_problems
    audio_s: float = 0.0  # seconds of audio processed
    wall_s: float = 0.0
    stage_s: dict = field(default_factory=dict)  # stage -> summed wall seconds
    call_ids: list = field(default_factory=list)


@dataclass(frozen=True)
class CallOutcome:
    """What the stages hand the run book for one call: a result, or why the recording is quarantined."""

    recording: Recording
    result: CallResult | None = None
    quarantine_error: str | None = None  # the decoder's problem; AudioDecodeError does not pickle across workers


@dataclass
class _Run:
    """One ``runs`` row while it is open, and what it counted."""

    run_id: str
    found: int = 0
    processed: int = 0
    skipped: int = 0
    failed: int = 0
    asr_model: str | None = None  # of the calls it loaded (None: none loaded)
    asr_fingerprint: str | None = None
    asr_lm: str | None = None  # the language model fused into the decoder (issue 27)


def check_run_inputs(settings: Settings, *, source_dir: Path | None = None, calls_csv: Path | None = None) -> None:
    """Everything that can be checked before a run starts (and before Prefect does), each failure one
    line naming the path: the source folder and call log exist, the home, database and model-cache
    folders can be created and written, and an existing database file is a DuckDB database."""
    if source_dir is not None and not Path(source_dir).is_dir():
        raise HotlineError(f"{source_dir}: source folder does not exist")
    if calls_csv is not None and "://" not in str(calls_csv) and not Path(calls_csv).is_file():
        raise HotlineError(f"{calls_csv}: no such call log (--calls-csv)")
    db.check_warehouse_path(settings.database, create=True)
    ensure_dir(settings.home, "home")
    ensure_dir(settings.database.parent, "database")
    ensure_dir(settings.model_cache, "model cache")
    if settings.database.exists():
        try:  # WarehouseError for a file that is not a DuckDB database
            db.connect(settings.database, read_only=True, create=False).close()
        except DatabaseBusy:  # held by another writer: the run's --wait handles that
            pass


def max_bytes(settings: Settings | None) -> int | None:
    """The recording size cap (``HOTLINE_MAX_RECORDING_MB``): what a pull refuses, what quarantine does not copy.
    None: no cap."""
    if settings is None:
        return None
    return int(settings.max_recording_mb * 2**20) or None


def store_call(con: duckdb.DuckDBPyConnection, result: CallResult, run_id: str, *, keep_raw_text: bool = True,
               lines: LineBook | None = None) -> float:
    """Load one call (:func:`pipeline.warehouse.load.load_call`, one transaction) and open or update its case.

    Returns the load's wall seconds. A case that cannot be built leaves the call loaded
    (``hotline cases build`` catches up).
    """
    load_s = load.load_call(con, result, run_id, keep_raw_text=keep_raw_text)
    assign_lines(con, lines or LineBook(), [result.recording.call_id])  # its number, its source, or the default
    sync_case(con, result.recording.call_id)
    tag_call(con, result.recording.call_id)
    return load_s


def tag_call(con: duckdb.DuckDBPyConnection, call_id: str) -> None:
    """Apply the category rules to the call (hits, alerts of urgent rules and of subscribed categories, with what
    triggered them); a failure is logged and leaves the call."""
    try:
        categories.apply_rules(con, [call_id])
        alerts.raise_for_calls(con, [call_id])
    except Exception as exc:  # the call is committed; `hotline rules apply` catches up
        log.warning("call %s: rules not applied (%s); run `hotline rules apply`", call_id, type(exc).__name__)


def send_alerts(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """E-mail what is due now (:func:`pipeline.casework.alerts.dispatch`) when an SMTP relay is set: the run sends
    a call's urgent alert as soon as the call is stored, not at the next ``hotline alerts send``. A failure is
    recorded on the alert (retried by the next dispatch) and never fails the run."""
    if not settings.smtp_host:
        return
    try:
        done = alerts.dispatch(con, settings)
    except Exception as exc:  # the call is stored; `hotline alerts send` catches up
        log.warning("alerts not sent (%s); run `hotline alerts send`", type(exc).__name__)
        return
    if done.duty or done.alone or done.digests or done.failed:
        log.info("alerts e-mailed: %d to the duty officer, %d single and %d digest(s) to subscribers, %d failed",
                 done.duty, done.alone, done.digests, done.failed)


def sync_case(con: duckdb.DuckDBPyConnection, call_id: str) -> None:
    """Open (or, while new, re-route) the call's case; a failure is logged and leaves the call as it is."""
    try:
        cases.sync_call(con, call_id)
    except Exception as exc:  # the call is committed; its case can be built later
        log.warning("call %s: case not built (%s: %s); run `hotline cases build`", call_id, type(exc).__name__, exc)


def _with_retries(fn: Callable[[], T]) -> T:
    """``fn()``, tried :data:`IO_ATTEMPTS` times 1 s apart: for I/O (a load, a copy), never for model work."""
    for attempt in range(1, IO_ATTEMPTS + 1):
        try:
            return fn()
        except Exception:
            if attempt == IO_ATTEMPTS:
                raise
            time.sleep(1.0)
    raise AssertionError("unreachable")


class RunBook:
    """The bookkeeping of one run (see the module docstring), used as ``with RunBook(...) as book:``.

    ``logger``: where the run's lines go (a flow passes Prefect's run logger). ``wait_s``: how
    long to wait for another run's lock before :class:`~pipeline.errors.DatabaseBusy`. ``create``:
    the warehouse may be created (``process-calls``), else it must exist (a backfill has nothing
    to do in a new file). The summary is :attr:`summary`; :attr:`opens` counts the warehouse opens.
    """

    def __init__(self, settings: Settings, logger: logging.Logger | logging.LoggerAdapter | None = None, *,
                 wait_s: float = 0.0, create: bool = False):
        self.settings = settings
        self.lines = line_book(settings)  # a bad lines file stops the run here, before any call
        self.log = logger or log
        self.wait_s = wait_s
        self.create = create
        self.summary = RunSummary(run_id="", db_path=str(settings.database))
        self.opens = 0
        self._run: _Run | None = None
        self._run_ids: list[str] = []
        self._tags: dict[str, str] = {}
        self._lock = None
        self._started = 0.0

    # --- the run lock, the warehouse's short opens ---------------------------------------------------

    def __enter__(self) -> RunBook:
        self._started = time.perf_counter()
        self._lock = db.run_lock(self.settings.database, wait_s=self.wait_s)
        self._lock.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc is None:
                with self._open() as con:
                    self._finish_run(con)
                    if self.summary.processed or not index_is_current(con):
                        # Search must see the new calls (its own PRAGMA: outside any transaction); a run
                        # killed during its refresh left the index stale, so the next run rebuilds it.
                        refresh_search_index(con)
            elif self._run is not None:
                try:
                    with self._open() as con:
                        self._finish_run(con, status="failed")
                except Exception:  # the run stays 'running'; the next run marks it 'interrupted'
                    pass
        finally:
            self._lock.__exit__(None, None, None)
            self.summary.run_id = ",".join(self._run_ids)
            self.summary.wall_s = time.perf_counter() - self._started

    @contextmanager
    def _open(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The warehouse for one short step; the run's first open also migrates it and marks killed runs."""
        first = self.opens == 0
        with db.brief(self.settings.database, migrate_schema=first, create=first and self.create) as con:
            self.opens += 1
            if first:
                self.summary.interrupted_runs = load.mark_interrupted_runs(con)
                if self.summary.interrupted_runs:
                    self.log.warning("%d earlier run(s) had been killed; marked 'interrupted', their calls are redone",
                                     self.summary.interrupted_runs)
            yield con

    def read(self, query: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """``query(con)`` in one short open: what a flow selects to work on."""
        with self._open() as con:
            return query(con)

    # --- runs rows ------------------------------------------------------------------------------------

    def _start_run(self, con: duckdb.DuckDBPyConnection, source_dir: str, *, found: int,
                   asr_fingerprint: str | None = None) -> None:
        self._finish_run(con)
        run = _Run(load.new_run_id(), found=found)
        load.start_run(con, run.run_id, source_dir, asr_model=self.settings.asr_model, asr_fingerprint=asr_fingerprint)
        assign_lines(con, self.lines)  # calls loaded before migration 022 (or a failed assignment) get theirs
        self._run = run
        self._run_ids.append(run.run_id)

    def _finish_run(self, con: duckdb.DuckDBPyConnection, *, status: str = "done") -> None:
        run, self._run = self._run, None
        if run is not None:
            load.finish_run(con, run.run_id, found=run.found, processed=run.processed, skipped=run.skipped,
                            failed=run.failed, status=status, asr_model=run.asr_model,
                            asr_fingerprint=run.asr_fingerprint, asr_lm=run.asr_lm)

    # --- process-calls: a scanned folder --------------------------------------------------------------

    def plan(self, source_dir: str | Path, scan: ingest.ScanResult, *, attempt_all: bool = False) -> list[Recording]:
        """Start the run of a scanned folder; returns the recordings to work on, in order.

        Copies of one recording count once; recordings already loaded or quarantined are
        skipped; what the scan skipped (files, call-log rows, copies) is recorded with the run;
        a call two killed runs were working on is quarantined here. In the same open, the first
        call's attempt is noted (``attempt_all``: every call's, when they all start at once).
        """
        source_dir = str(Path(source_dir).resolve())
        duplicates: list[str] = []
        recordings = ingest.dedupe(scan.recordings, duplicates)
        self.summary.problems = ([("file", safe(rel), why) for rel, why in scan.file_problems]
                                 + [("call_log", None, p) for p in scan.log_problems]
                                 + [("duplicate", None, p) for p in duplicates])
        with self._open() as con:
            done = load.processed_hashes(con)
            todo = [r for r in recordings if r.sha256 not in done]
            self._start_run(con, source_dir, found=len(recordings))
            self._run.skipped = len(recordings) - len(todo)
            self.summary.found, self.summary.skipped = len(recordings), self._run.skipped
            self._write_log_problems(source_dir, scan.log_problems)
            load.record_problems(con, self._run.run_id, self.summary.problems)
            self._tags = {r.sha256: f"[{i}/{len(todo)}] {r.call_id} {safe(r.relpath)}" for i, r in enumerate(todo, 1)}
            stuck = load.interrupted_attempts(con)
            for rec in [r for r in todo if stuck.get(r.sha256, 0) >= MAX_INTERRUPTED_ATTEMPTS]:
                todo.remove(rec)
                self._record(con, rec, CallOutcome(rec, quarantine_error=INTERRUPTED_TWICE))
                load.end_attempt(con, rec.sha256)
            for rec in todo if attempt_all else todo[:1]:  # noted, so a call that kills two runs is quarantined
                load.start_attempt(con, rec.sha256, self._run.run_id)
        for p in duplicates:
            self.log.warning("duplicate: %s", safe(p))
        self.log.info("found %d recordings, %d already processed, %d to do%s", len(recordings), self.summary.skipped,
                      len(todo), f"; {len(self.summary.problems)} input problems recorded (files, call-log rows, "
                      "copies)" if self.summary.problems else "")
        return todo

    def _write_log_problems(self, source_dir: str, problems: Iterable[str]) -> None:
        """What did not pair (call-log rows, recordings), as of this run, in the quarantine folder (one file, replaced)."""
        problems = list(problems)
        report = self.settings.quarantine_dir / "call-log-problems.txt"
        if not problems:
            report.unlink(missing_ok=True)
            return
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(f"run {self._run.run_id}, source {source_dir}\n" + "\n".join(problems) + "\n",
                          encoding="utf-8")

    def process(self, todo: list[Recording], work: Callable[[Recording], CallOutcome]) -> None:
        """Each call of ``todo`` through ``work``, one after another, recorded as it finishes.

        One bad call does not stop the others: its exception is recorded as a failure and
        the call is tried again next run. Each call's record also notes the next call's attempt.
        """
        for i, rec in enumerate(todo):
            try:
                outcome = work(rec)
            except Exception as exc:
                outcome = exc
            self.record(rec, outcome, next_call=todo[i + 1] if i + 1 < len(todo) else None)

    def record(self, rec: Recording, outcome: CallOutcome | BaseException, *, next_call: Recording | None = None,
               retried: int = 0) -> None:
        """Record one call's outcome (or the exception its work raised) in one open; clear its attempt.

        ``retried``: how often the call was started again after the worker running it was lost (a Dask
        cluster, flows/cluster.py); recorded with the run as a ``worker_lost`` problem."""
        with self._open() as con:
            try:
                if retried > 0:
                    self._note_retry(con, rec, retried)
                self._record(con, rec, outcome)
                send_alerts(con, self.settings)
            finally:
                try:
                    load.end_attempt(con, rec.sha256)
                    if next_call is not None:
                        load.start_attempt(con, next_call.sha256, self._run.run_id)
                except Exception:  # the attempt stays; it only matters if this run is killed
                    pass

    def _note_retry(self, con: duckdb.DuckDBPyConnection, rec: Recording, retried: int) -> None:
        reason = f"worker lost while running the call; run again on another worker ({retried} time(s))"
        load.record_problems(con, self._run.run_id, [("worker_lost", rec.call_id, reason)])
        self.summary.retried += 1
        self.log.warning("%s: %s", self._tags.get(rec.sha256, rec.call_id), reason)

    def _record(self, con: duckdb.DuckDBPyConnection, rec: Recording, outcome: CallOutcome | BaseException) -> None:
        run, summary = self._run, self.summary
        tag = self._tags.get(rec.sha256, f"{rec.call_id} {safe(rec.relpath)}")
        if isinstance(outcome, CallOutcome) and outcome.result is not None:
            result = outcome.result
            try:
                load_s = _with_retries(lambda: store_call(con, result, run.run_id,
                                                          keep_raw_text=self.settings.keep_raw_text,
                                                          lines=self.lines))
            except Exception as exc:  # tried three times; the call is tried again next run
                outcome = exc
            else:
                timings = {**result.timings, "load": load_s}
                run.processed += 1
                run.asr_model, run.asr_fingerprint = result.asr_model, result.asr_fingerprint
                run.asr_lm = getattr(result, "asr_lm", None)  # results cached before issue 27 lack it
                summary.processed += 1
                summary.audio_s += result.duration_s
                summary.call_ids.append(rec.call_id)
                for stage, s in timings.items():
                    summary.stage_s[stage] = summary.stage_s.get(stage, 0.0) + s
                topics = ",".join(t.topic for t in result.analysis.topics if t.assigned) or "-"
                self.log.info("%s done: %.1f s audio in %.1f s, %d segments, topics %s", tag, result.duration_s,
                              sum(timings.values()), len(result.speakers.segments), topics)
                return
        if isinstance(outcome, BaseException):
            error = f"{type(outcome).__name__}: {outcome}"
            load.record_failure(con, rec, run.run_id, status="failed", error=error)
            run.failed += 1
            summary.failed += 1
            self.log.error("%s failed: %s", tag, safe(error))
            return
        copy = _with_retries(lambda: self._quarantine(con, rec, outcome.quarantine_error))
        run.failed += 1
        summary.quarantined += 1
        self.log.warning("%s quarantined: %s (copy in %s)", tag, safe(outcome.quarantine_error), safe(copy))

    def _quarantine(self, con: duckdb.DuckDBPyConnection, rec: Recording, error: str) -> Path:
        copy = quarantine(rec, error, self.settings.quarantine_dir, max_bytes(self.settings))
        load.record_failure(con, rec, self._run.run_id, status="quarantined", error=error, quarantine_path=str(copy))
        return copy

    # --- backfill, retag-operators: loaded calls again -------------------------------------------------

    def reprocess(self, rows: list[tuple[str, str, str, str]], work: Callable[[Recording], CallOutcome], *,
                  asr_fingerprint: str | None = None) -> None:
        """Run loaded calls again from their audio and reload them: (call_id, recording_sha256, source_dir,
        source_path) rows, as the warehouse's selections give them.

        One ``runs`` row per source folder, so a later reprocessing still finds the audio; the
        folder's call-log entries are read as the row starts. A call whose audio is missing or
        changed since it was loaded is skipped and its stored version left as it is.
        """
        self.summary.found = len(rows)
        by_folder: dict[str, list] = {}
        for row in rows:
            by_folder.setdefault(row[2], []).append(row)
        n = 0
        for folder, calls in by_folder.items():
            with self._open() as con:
                self._start_run(con, folder, found=len(calls), asr_fingerprint=asr_fingerprint)
                entries = {call_id: load.call_log_entry(con, call_id) for call_id, *_ in calls}
            for call_id, sha256, _, relpath in calls:
                n += 1
                tag = f"[{n}/{len(rows)}] {call_id} {safe(relpath)}"
                path = ingest.locate(Path(folder), relpath, sha256)  # source_path is stored with numbers masked
                if path is None:
                    self._run.skipped += 1
                    self.summary.skipped += 1
                    self.log.warning("%s skipped: audio missing or changed since loaded", tag)
                    continue
                rec = Recording(path=path, relpath=relpath, sha256=sha256, size_bytes=path.stat().st_size,
                                log=entries[call_id])
                self._tags[sha256] = tag
                try:
                    outcome = work(rec)
                except Exception as exc:  # one bad call must not stop the batch
                    outcome = exc
                self.record(rec, outcome)
