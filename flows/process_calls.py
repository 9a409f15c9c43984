"""The main job as a Prefect flow: scan a folder, run each new call through the stages, load DuckDB.

One flow run per batch; one task per call (``call``, :mod:`flows.tasks`) holding one task per
stage. The run's bookkeeping is its run book (:class:`pipeline.runs.book.RunBook`). Per-call
work may run on Dask workers: a local cluster through prefect-dask (``workers``), or the
workers of a separate Dask scheduler (``cluster``, :mod:`flows.cluster`). The database is
written by this flow's process only (DuckDB allows one writer).
"""

# No `from __future__ import annotations`: a flow's parameter types must be objects, not names.
# A served flow is pickled by value into its run's process, which keeps the annotations but not
# the module globals a string annotation ("Settings") would be resolved in.

from functools import partial
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed

from flows.cluster import run_on_cluster
from flows.environment import dask_task_runner, flow_settings
from flows.tasks import call_task
from pipeline.config import Settings, load_settings
from pipeline.intake import ingest
from pipeline.runs.book import RunBook, RunSummary
from pipeline.salt import caller_salt
from pipeline.stages.process import get_models


@task(name="scan", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def scan_task(source_dir: str, calls_csv: str | None, salt: str, settle_s: float = 0.0,
              only_keys: list[str] | None = None, call_log_format: str = "hotline") -> ingest.ScanResult:
    return ingest.scan_source(Path(source_dir), calls_csv=Path(calls_csv) if calls_csv else None, salt=salt,
                              settle_s=settle_s, only_keys=only_keys, call_log_format=call_log_format)


@flow(name="process-calls", log_prints=False)
def process_calls(source_dir: str, settings: Settings | None = None, calls_csv: str | None = None,
                  wait_s: float = 0.0, settle_s: float = 0.0, only_keys: list[str] | None = None,
                  parallel: bool = False, cluster: str | None = None) -> RunSummary:
    """Process every new recording under ``source_dir`` into the warehouse ``settings.database``.

    ``settings``: built once by the entry point (:func:`pipeline.config.load_settings`);
    None: this process's environment.

    Recordings already loaded (same SHA-256) are skipped; undecodable ones are
    quarantined and recorded; a failure in one call never stops the batch. ``settle_s`` and
    ``only_keys`` restrict the scan (see :func:`pipeline.intake.ingest.find_audio_files`):
    ``only_keys`` are :func:`pipeline.intake.ingest.name_key` ids, never file names, since
    Prefect stores a flow's parameters and PBX file names hold the caller's number.
    ``parallel`` submits each call to the flow's task runner (Dask: see :func:`run_process_calls`)
    and records results here as they complete. ``cluster``: the address of a Dask scheduler; each
    call runs on one of its workers (:func:`flows.cluster.run_on_cluster`), is recorded here as it
    completes, and a call run again after its worker was lost is noted with the run. Raises :class:`DatabaseBusy` when another run
    holds the warehouse's run lock for more than ``wait_s`` seconds.
    """
    settings = flow_settings(settings)
    with RunBook(settings, get_run_logger(), wait_s=wait_s, create=True) as book:
        scan = scan_task(source_dir, calls_csv, caller_salt(settings), settle_s, only_keys, settings.call_log_format)
        todo = book.plan(source_dir, scan, attempt_all=parallel or bool(cluster))
        if cluster:  # the workers get the operators' voiceprints from here: only this process opens the warehouse
            prints = get_models(settings).voiceprints if todo else ()
            for rec, outcome, attempts in run_on_cluster(cluster, todo, settings, prints):
                book.record(rec, outcome, retried=attempts - 1)
        elif parallel:  # every call on the task runner at once, each recorded here as it completes
            futures = {call_task.submit(rec, settings): rec for rec in todo}
            for future in as_completed(list(futures)):
                book.record(futures[future], _outcome(future))
        else:
            book.process(todo, partial(call_task, settings=settings))
    return book.summary


def _outcome(future):
    """A finished call task's outcome, or the exception it raised (recorded as the call's failure)."""
    try:
        return future.result()
    except Exception as exc:
        return exc


def run_process_calls(source_dir: str, settings: Settings | None = None, calls_csv: str | None = None,
                      wait_s: float = 0.0, settle_s: float = 0.0, only_keys: list[str] | None = None, *,
                      workers: int = 0, dask_address: str | None = None) -> RunSummary:
    """:func:`process_calls`, with per-call work on Dask: a local cluster of ``workers`` processes (> 0), else
    the scheduler at ``dask_address`` (default ``HOTLINE_DASK_SCHEDULER``), else in this process."""
    if workers <= 0:
        address = dask_address or (settings if settings is not None else load_settings()).dask_scheduler
        return process_calls(source_dir, settings, calls_csv, wait_s, settle_s, only_keys, cluster=address or None)
    runner = dask_task_runner(workers=workers)
    return process_calls.with_options(task_runner=runner)(source_dir, settings, calls_csv, wait_s, settle_s,
                                                          only_keys, parallel=True)
