"""Pull new recordings from a source (local folder or SFTP), then process them: the scheduled job.

``pull-and-process`` is what ``hotline deploy`` serves on a schedule and what
``hotline run sftp://…`` runs (``hotline watch`` polls with the same pull and run:
:mod:`pipeline.runs.watch`). Each run lists the source once, pulls the files that are
complete (unchanged since the previous run's listing), and runs ``process-calls`` on the
staging folder restricted to the recordings pulled and not yet processed
(:func:`pipeline.runs.watch.run_pending`). Nothing on the source is changed.
"""

# No `from __future__ import annotations`: a flow's parameter types must be objects, not names.
# A served flow is pickled by value into its run's process, which keeps the annotations but not
# the module globals a string annotation ("Settings") would be resolved in.

import time
from dataclasses import dataclass

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.environment import flow_settings, with_secrets
from flows.process_calls import process_calls
from pipeline.config import Settings
from pipeline.intake import sources
from pipeline.logsafe import safe
from pipeline.runs.book import RunSummary, max_bytes
from pipeline.runs.watch import run_pending
from pipeline.salt import caller_salt


@dataclass
class PullSummary:
    source: str  # where from (no password)
    root: str  # folder processed
    new_audio: int = 0
    waiting: int = 0
    rejected: int = 0
    refused: int = 0  # files refused this time (a bad name, over the size cap): in the log, masked
    bytes_pulled: int = 0
    pull_s: float = 0.0
    run: RunSummary | None = None  # None when there was nothing to process


# Never persisted: the result lists file names as the source listed them (caller numbers).
@task(name="pull", retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE, persist_result=False)
def pull_task(source: str, settings: Settings, settle_s: float, confirm_s: float) -> sources.PullResult:
    src = sources.open_source(source, settings)
    try:
        return sources.pull(src, sources.staging_dir(source, settings), key=caller_salt(settings), settle_s=settle_s,
                            confirm_s=confirm_s, max_bytes=max_bytes(settings))
    finally:
        src.close()


@flow(name="pull-and-process", log_prints=False)
def pull_and_process(source: str, settings: Settings | None = None, calls_csv: str | None = None,
                     settle_s: float = 0.0, confirm_s: float = 2.0, wait_s: float = 0.0) -> PullSummary:
    """Pull what is new and complete from ``source`` (folder or ``sftp://user@host:port/path``) and process it.

    A file counts as complete when it is unchanged across ``confirm_s`` seconds
    within this run, or since the previous run. ``settings``: built once by the entry point (None: this
    process's environment). Credentials come from the environment (``HOTLINE_SFTP_*``) or the Prefect
    Secret block they name: the settings' secrets are never serialised into flow parameters, which the
    Prefect server stores.
    """
    logger = get_run_logger()
    settings = with_secrets(flow_settings(settings))
    t0 = time.perf_counter()
    pulled = pull_task(source, settings, settle_s, confirm_s)
    where = sources.parse_sftp_url(source).describe() if source.startswith("sftp://") else source  # no password
    out = PullSummary(source=safe(where), root=str(pulled.root), new_audio=len(pulled.new_audio),
                      waiting=len(pulled.waiting), rejected=len(pulled.rejected), refused=len(pulled.refused),
                      bytes_pulled=pulled.bytes_pulled, pull_s=time.perf_counter() - t0)
    logger.info("pulled %d new recording(s), %d call log(s), %.1f MB from %s; %d still being written",
                len(pulled.new_audio), len(pulled.call_logs), pulled.bytes_pulled / 1e6, out.source,
                len(pulled.waiting))
    if not pulled.pending and pulled.held:
        logger.info("%d recording(s) wait for the call log, still being written", pulled.held)

    def run(root, keys: list[str], call_log: str | None) -> RunSummary:
        # keys: keyed ids, not file names (flow parameters are stored by Prefect; names hold caller numbers)
        return process_calls(str(root), settings, call_log, wait_s, 0.0, keys)

    out.run = run_pending(pulled, sources.staging_dir(source, settings), key=caller_salt(settings), run=run,
                          calls_csv=calls_csv, settings=settings)
    if out.run is not None:
        logger.info("processed=%d quarantined=%d failed=%d in %.1f s", out.run.processed, out.run.quarantined,
                    out.run.failed, out.run.wall_s)
    return out
