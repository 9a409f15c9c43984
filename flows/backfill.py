"""Backfill: reprocess the calls of a date range with the current (new) ASR model.

Calls whose ``asr_fingerprint`` differs from the current model's are run again
from their audio (``runs.source_dir`` / ``calls.source_path``) and reloaded;
``load_call`` keeps QA topics and the reviewed mark. Audio that is gone or whose
bytes changed is reported and the stored call left as it is.
"""

# No `from __future__ import annotations`: a flow's parameter types must be objects, not names
# (see flows/process_calls.py).

import time
from datetime import date
from pathlib import Path

from prefect import flow, get_run_logger

from pipeline.intake.ingest import locate
from pipeline.logsafe import safe
from pipeline.records import Recording
from pipeline.stages.process import get_models
from pipeline.warehouse import db, load
from pipeline.warehouse.search import refresh_search_index

from pipeline.config import Settings

from flows.environment import flow_settings
from flows.process_calls import RunSummary, call_task, record_call


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

    def select(con, asr, logger):
        rows = load.calls_to_reprocess(con, date_from, date_to, asr.fingerprint)
        logger.info("%d calls from %s to %s were transcribed by another model than %s", len(rows), date_from,
                    date_to, asr.fingerprint)
        return rows

    return reprocess(select, settings, wait_s)


def reprocess(select, settings: Settings, wait_s: float = 0.0) -> RunSummary:
    """The run book for reprocessing loaded calls (``backfill``, ``retag-operators``): under the run lock,
    ``select(con, asr, logger)`` picks (call_id, recording_sha256, source_dir, source_path) rows; each call
    is run again from its audio and reloaded through :func:`record_call`, one ``runs`` row per source folder
    (so a later reprocessing still finds the audio); the search index is refreshed once at the end.
    ``skipped`` counts calls whose audio is missing or changed."""
    logger = get_run_logger()
    started = time.perf_counter()
    database = settings.database
    summary = RunSummary(run_id="", db_path=str(database))
    run_ids: list[str] = []
    # As in process-calls: the run lock for the whole run, the file only for each short piece of work.
    with db.run_lock(database, wait_s=wait_s):
        asr = get_models(settings).asr
        with db.brief(database, migrate_schema=True) as con:
            summary.interrupted_runs = load.mark_interrupted_runs(con)
            rows = select(con, asr, logger)
        summary.found = len(rows)
        by_folder: dict[str, list] = {}
        for row in rows:
            by_folder.setdefault(row[2], []).append(row)
        n = 0
        for folder, calls in by_folder.items():
            run_id = load.new_run_id()
            run_ids.append(run_id)
            with db.brief(database) as con:
                load.start_run(con, run_id, folder, asr_model=settings.asr_model, asr_fingerprint=asr.fingerprint)
            before = (summary.processed, summary.failed, summary.quarantined)
            for call_id, sha256, _, relpath in calls:
                n += 1
                tag = f"[{n}/{len(rows)}] {call_id} {safe(relpath)}"
                path = locate(Path(folder), relpath, sha256)  # source_path is stored with numbers masked
                if path is None:
                    summary.skipped += 1
                    logger.warning("%s skipped: audio missing or changed since loaded", tag)
                    continue
                with db.brief(database) as con:
                    log_entry = load.call_log_entry(con, call_id)
                rec = Recording(path=path, relpath=relpath, sha256=sha256, size_bytes=path.stat().st_size, log=log_entry)
                try:
                    outcome = call_task(rec, settings)
                except Exception as exc:  # one bad call must not stop the batch
                    outcome = exc
                with db.brief(database) as con:
                    record_call(con, summary, outcome, rec, tag, run_id, settings, logger)
            done, failed, quarantined = (a - b for a, b in zip((summary.processed, summary.failed, summary.quarantined), before))
            with db.brief(database) as con:
                load.finish_run(con, run_id, found=len(calls), processed=done,
                                skipped=len(calls) - done - failed - quarantined, failed=failed + quarantined,
                                asr_model=asr.name, asr_fingerprint=asr.fingerprint)
        summary.run_id = ",".join(run_ids)
        if summary.processed:
            with db.brief(database) as con:
                refresh_search_index(con)  # search must see the new transcripts
    summary.wall_s = time.perf_counter() - started
    return summary
