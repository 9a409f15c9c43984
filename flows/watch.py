"""Continuous tagging: poll a recordings folder and run ``process-calls`` on what is new and complete.

A file counts as complete when its size and mtime are the same at two polls in a
row and it is at least ``settle_s`` seconds old: a PBX still writing a recording
changes one or the other between polls. Each poll that finds new complete files
starts one ``process-calls`` flow run restricted to them, so a busy archive is not
re-hashed at every poll.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import DatabaseBusy
from pipeline.intake import ingest
from pipeline.logsafe import safe
from pipeline.salt import caller_salt

from flows.environment import flow_settings
from flows.process_calls import RunSummary, run_process_calls

log = logging.getLogger(__name__)


def ready_files(current: dict[str, tuple[int, int]], previous: dict[str, tuple[int, int]] | None,
                submitted: dict[str, tuple[int, int]], *, settle_s: float, now: float | None = None) -> list[str]:
    """Relative paths unchanged since the previous poll, old enough, and not yet submitted as they are.

    ``current``/``previous``/``submitted`` map relative path → (size bytes, mtime ns)
    as :func:`pipeline.intake.ingest.snapshot` returns them.
    """
    if previous is None:
        return []
    now = time.time() if now is None else now
    return sorted(rel for rel, sig in current.items()
                  if previous.get(rel) == sig and submitted.get(rel) != sig and now - sig[1] / 1e9 >= settle_s)


def watch_folder(source_dir: Path, settings: Settings | None = None, *, calls_csv: str | None = None,
                 interval_s: float | None = None, settle_s: float = 2.0, max_polls: int | None = None,
                 workers: int = 0, dask_address: str | None = None,
                 on_run: Callable[[RunSummary], None] | None = None) -> int:
    """Poll ``source_dir`` every ``interval_s`` seconds (default ``settings.watch_interval_s``) until
    interrupted (or ``max_polls`` polls), into the warehouse ``settings.database``.

    Returns the number of calls processed. A poll that finds the run lock held by
    another run waits up to one interval for it, then tries again at the next poll.
    ``on_run`` receives each flow run's summary. ``settings``: built once by the entry
    point (None: this process's environment).
    """
    settings = flow_settings(settings)
    interval_s = settings.watch_interval_s if interval_s is None else interval_s
    source_dir = Path(source_dir)
    previous, submitted = None, {}
    processed, polls, errors = 0, 0, 0
    while max_polls is None or polls < max_polls:
        tick = time.monotonic()
        polls += 1
        try:
            current = ingest.snapshot(source_dir)
        except OSError as exc:  # the folder itself vanished or became unreadable (an unmounted share)
            log.error("poll %d: cannot list %s (%s); still watching", polls, safe(source_dir), safe(exc))
            current = {}
        ready = ready_files(current, previous, submitted, settle_s=settle_s)
        if ready:
            log.info("poll %d: %d new complete recording(s)", polls, len(ready))
            try:
                # Another run holding the lock is waited for up to one interval: the next poll comes then anyway.
                # By keyed id, not name: Prefect keeps flow parameters, and names hold caller numbers.
                keys = [ingest.name_key(rel, caller_salt(settings)) for rel in ready]
                summary = run_process_calls(str(source_dir), settings, calls_csv, wait_s=interval_s, settle_s=0.0,
                                            only_keys=keys, workers=workers, dask_address=dask_address)
            except DatabaseBusy as exc:
                log.warning("poll %d: %s; trying again at the next poll", polls, safe(exc))
            except Exception as exc:  # any per-batch error: say so, keep watching, retry these files next poll
                errors += 1
                log.error("poll %d: batch failed (%s: %s); still watching, its files are tried again at the next poll",
                          polls, type(exc).__name__, safe(exc))
            else:
                submitted.update({rel: current[rel] for rel in ready})
                processed += summary.processed
                if on_run:
                    on_run(summary)
        previous = current
        if max_polls is not None and polls >= max_polls:
            break
        time.sleep(max(0.0, interval_s - (time.monotonic() - tick)))
    return processed
