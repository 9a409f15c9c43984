"""Continuous tagging: the one watch loop (:func:`pipeline.runs.watch.watch`) with ``process-calls`` as its run.

A local folder is read in place, an ``sftp://`` source pulled to staging; at each poll, what
is new and complete is first heard for urgent words (the early urgent pass,
:mod:`pipeline.runs.early`, ``HOTLINE_EARLY_PASS_S``), then runs through ``process-calls`` (on Dask
with ``workers`` or ``dask_address``). Not a flow itself: each poll that finds work starts one ``process-calls``
flow run, and the models stay loaded between them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flows.environment import flow_settings, with_secrets
from flows.process_calls import run_process_calls
from pipeline.config import Settings
from pipeline.intake import sources
from pipeline.runs import watch as loop
from pipeline.runs.early import early_pass
from pipeline.salt import caller_salt
from pipeline.stages.process import get_models


def watch_source(source: str | Path, settings: Settings | None = None, *, calls_csv: str | None = None,
                 interval_s: float | None = None, settle_s: float = 2.0, max_polls: int | None = None,
                 workers: int = 0, dask_address: str | None = None,
                 on_poll: Callable[[loop.Poll], None] | None = None) -> int:
    """Poll ``source`` (a folder or ``sftp://user@host:port/path``) every ``interval_s`` seconds (default
    ``settings.watch_interval_s``) until interrupted (or ``max_polls`` polls), into the warehouse
    ``settings.database``; returns the number of calls processed.

    A run that finds the run lock held by another run waits up to one interval for it, then
    tries again at the next poll. ``calls_csv``: a local call log, or ``sftp://…`` (copied when
    it changed, before each run). ``settings``: built once by the entry point (None: this
    process's environment).
    """
    settings = with_secrets(flow_settings(settings))
    interval_s = settings.watch_interval_s if interval_s is None else interval_s
    source = str(source)

    def run(root: Path, keys: list[str], call_log: str | None):
        return run_process_calls(str(root), settings, call_log, wait_s=interval_s, settle_s=0.0, only_keys=keys,
                                 workers=workers, dask_address=dask_address)

    early = None
    if settings.early_pass_s > 0:  # the early urgent pass, with the recogniser the runs use (one per process)
        models = get_models(settings)
        models.asr  # loaded now, not when the first urgent call lands

        def early(root: Path, keys: list[str]):
            return early_pass(root, keys, key=caller_salt(settings), settings=settings, asr=models.asr)

    return loop.watch(lambda: sources.open_source(source, settings), sources.staging_dir(source, settings),
                      key=caller_salt(settings), run=run, interval_s=interval_s, settle_s=settle_s,
                      max_polls=max_polls, on_poll=on_poll, calls_csv=calls_csv, settings=settings, early=early)
