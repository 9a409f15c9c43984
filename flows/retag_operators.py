"""Re-tag calls after an operator (re-)enrolment: reprocess the mono calls of a date range that
were processed before the voiceprints last changed, so their roles, voice match and mismatch
flag come from the current voiceprints (issue 19).

The speakers stage's cached results of mono calls are keyed by the voiceprints
(``pipeline.stages.operators.voiceprints_fingerprint``), so nothing stale is reused. ``hotline
backfill`` cannot do this: it re-runs only calls transcribed by another ASR model. Loading
keeps QA's topics and the reviewed mark, as in a backfill.
"""

# No `from __future__ import annotations`: a flow's parameter types must be objects (flows/process_calls.py).

from datetime import date
from functools import partial

from prefect import flow, get_run_logger

from flows.environment import flow_settings
from flows.tasks import asr_fingerprint, call_task
from pipeline.config import Settings
from pipeline.runs.book import RunBook, RunSummary
from pipeline.warehouse import voiceprints


@flow(name="retag-operators", log_prints=False)
def retag_operators(date_from: date, date_to: date, settings: Settings | None = None, wait_s: float = 0.0,
                    everything: bool = False) -> RunSummary:
    """Reprocess the calls ``warehouse.voiceprints.calls_to_retag`` selects (mono calls processed before
    the latest enrolment; ``everything``: all mono calls of the range), through the run book as a backfill."""
    settings = flow_settings(settings)
    with RunBook(settings, get_run_logger(), wait_s=wait_s) as book:
        rows = book.read(lambda con: voiceprints.calls_to_retag(con, date_from, date_to, everything=everything))
        book.log.info("%d mono calls from %s to %s to re-tag with the current voiceprints", len(rows), date_from,
                      date_to)
        book.reprocess(rows, partial(call_task, settings=settings), asr_fingerprint=asr_fingerprint(settings))
    return book.summary
