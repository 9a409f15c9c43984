"""Backfill: reprocess the calls of a date range with the current (new) ASR model.

Calls whose ``asr_fingerprint`` differs from the current model's are run again
from their audio (``runs.source_dir`` / ``calls.source_path``) and reloaded;
``load_call`` keeps QA topics and the reviewed mark. Audio that is gone or whose
bytes changed is reported and the stored call left as it is.
"""

# No `from __future__ import annotations`: a flow's parameter types must be objects, not names
# (see flows/process_calls.py).

from datetime import date
from functools import partial

from prefect import flow, get_run_logger

from flows.environment import flow_settings
from flows.tasks import asr_fingerprint, call_task
from pipeline.config import Settings
from pipeline.runs.book import RunBook, RunSummary
from pipeline.warehouse import load


@flow(name="backfill", log_prints=False)
def backfill(date_from: date, date_to: date, settings: Settings | None = None, wait_s: float = 0.0) -> RunSummary:
    """Reprocess loaded calls that started between ``date_from`` and ``date_to`` (inclusive) with another model
    (``settings.asr_model``) into the warehouse ``settings.database``.

    ``settings``: built once by the entry point, as for ``process-calls`` (a deployment stores them
    as JSON, secrets excluded); None: this process's environment.

    One ``runs`` row per source folder, so a later backfill still finds the audio.
    ``skipped`` counts calls whose audio is missing or changed.
    """
    settings = flow_settings(settings)
    with RunBook(settings, get_run_logger(), wait_s=wait_s) as book:
        fingerprint = asr_fingerprint(settings)  # what the calls are compared with; no model loaded to name it
        rows = book.read(lambda con: load.calls_to_reprocess(con, date_from, date_to, fingerprint))
        book.log.info("%d calls from %s to %s were transcribed by another model than %s", len(rows), date_from,
                      date_to, fingerprint)
        book.reprocess(rows, partial(call_task, settings=settings), asr_fingerprint=fingerprint)
    return book.summary
