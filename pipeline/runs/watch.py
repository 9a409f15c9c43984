"""The one watch loop: poll a source, pull what is new and complete, run what is pending.

A source (:class:`pipeline.intake.sources.Source`) is a local folder read in place or an
SFTP server copied to a staging folder; :func:`pipeline.intake.sources.pull` keeps the
watermark of both, so a file counts as complete once its size and mtime are the same at two
polls in a row (and it is ``settle_s`` old): a PBX still writing a recording changes one or
the other. The run itself (``process-calls`` on the pulled folder, restricted to the pending
recordings) is handed in by the caller: this layer knows no orchestrator.

:func:`run_pending` is one pull's run, shared by ``pull-and-process`` and :func:`watch`: an
``sftp://`` call log is copied for the run, and every call log copied to staging is deleted
after it (the PBX keeps its own; ours would hold every caller's number past every purge); the
watermark's pending list is cleared only when the run failed no call, so the next poll retries
the failed ones (those done are skipped by their hash).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import DatabaseBusy
from pipeline.intake import sources
from pipeline.logsafe import safe
from pipeline.runs.book import RunSummary, max_bytes

log = logging.getLogger(__name__)

# (folder to scan, keyed ids of the recordings to run: pipeline.intake.ingest.name_key, the call log or None)
# -> the run's summary
Run = Callable[[Path, list[str], "str | None"], RunSummary]


@dataclass(frozen=True)
class Poll:
    """A poll that ran something: its number, what it pulled, the run's summary."""

    number: int
    pulled: sources.PullResult
    run: RunSummary


def run_pending(pulled: sources.PullResult, staging: Path, *, key: str, run: Run, calls_csv: str | None = None,
                settings: Settings | None = None) -> RunSummary | None:
    """Run the recordings a pull left pending, and take them off the watermark when none failed.

    ``key``: the caller salt the watermark's ids are made with. ``calls_csv``: a local call log
    or ``sftp://…`` (copied for this run with ``settings``' credentials). Returns None when
    nothing was pending (no run is started).
    """
    if not pulled.pending:
        return None
    call_log = calls_csv
    try:
        if calls_csv and sources.is_remote(calls_csv):  # e.g. /var/log/asterisk/cdr-csv/Master.csv on the PBX
            call_log = str(sources.pull_call_log(calls_csv, settings))
        summary = run(Path(pulled.root), list(pulled.pending), call_log)
    finally:  # the call logs copied for this run are the PBX's, full of numbers: not kept
        sources.drop_call_logs(staging, *sources.call_log_copies(calls_csv, settings))
    if summary.failed == 0:  # else all stay pending: the next run retries the failed ones (done ones skip by hash)
        sources.mark_processed(staging, list(pulled.pending), key=key)
    return summary


def watch(open_source: Callable[[], sources.Source], staging: Path, *, key: str, run: Run, interval_s: float,
          settle_s: float = 0.0, max_polls: int | None = None, on_poll: Callable[[Poll], None] | None = None,
          calls_csv: str | None = None, settings: Settings | None = None,
          early: Callable[[Path, list[str]], object] | None = None) -> int:
    """Poll every ``interval_s`` seconds until interrupted (or ``max_polls`` polls); returns the calls processed.

    ``open_source()`` connects to the source; a connection that is lost (or a folder that
    cannot be listed) is reopened at the next poll. A run that finds another run holding the
    warehouse lock (it waits up to one interval, as ``run`` is told) or fails as a whole is
    reported, and its recordings stay pending for the next poll: one bad batch never stops
    the watch. ``on_poll`` receives each poll that ran something. ``calls_csv`` and ``settings``:
    as for :func:`run_pending`; ``settings`` also caps a recording's size (:func:`max_bytes`).
    ``early(folder, keys)``: the early urgent pass (:func:`pipeline.runs.early.early_pass`), run on a
    poll's pending recordings before their full run; its failure is logged and the run goes on.
    """
    src, polls, processed = None, 0, 0
    try:
        while max_polls is None or polls < max_polls:
            tick = time.monotonic()
            polls += 1
            try:
                src = src or open_source()
                pulled = sources.pull(src, staging, key=key, settle_s=settle_s, max_bytes=max_bytes(settings))
            except (sources.SourceError, OSError, EOFError) as exc:  # a lost connection, an unmounted share
                log.error("poll %d: %s; still watching, trying again at the next poll", polls, safe(exc))
                if src is not None:
                    src.close()
                src, pulled = None, None
            if pulled is not None and pulled.pending:
                log.info("poll %d: %d new complete recording(s)", polls, len(pulled.pending))
                if early is not None:
                    try:
                        early(Path(pulled.root), list(pulled.pending))
                    except Exception as exc:  # the full run below still tags (and alerts on) every call
                        log.error("poll %d: early urgent pass failed (%s: %s); the full run goes on", polls,
                                  type(exc).__name__, safe(exc))
            try:
                summary = (run_pending(pulled, staging, key=key, run=run, calls_csv=calls_csv, settings=settings)
                           if pulled is not None else None)
            except DatabaseBusy as exc:
                log.warning("poll %d: %s; trying again at the next poll", polls, safe(exc))
            except Exception as exc:  # any per-batch error: say so, keep watching, retry these files next poll
                log.error("poll %d: batch failed (%s: %s); still watching, its files are tried again at the next "
                          "poll", polls, type(exc).__name__, safe(exc))
            else:
                processed += summary.processed if summary else 0
                if on_poll and summary is not None:
                    on_poll(Poll(polls, pulled, summary))
            if max_polls is not None and polls >= max_polls:
                break
            time.sleep(max(0.0, interval_s - (time.monotonic() - tick)))
    finally:
        if src is not None:
            src.close()
    return processed
