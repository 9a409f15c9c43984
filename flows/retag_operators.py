"""Re-tag calls after an operator (re-)enrolment: reprocess the mono calls of a date range that
were processed before the voiceprints last changed, so their roles, voice match and mismatch
flag come from the current voiceprints (issue 19).

The speakers stage's cached results of mono calls are keyed by the voiceprints
(``pipeline.operators.voiceprints_fingerprint``), so nothing stale is reused. ``hotline
backfill`` cannot do this: it re-runs only calls transcribed by another ASR model. Loading
keeps QA's topics and the reviewed mark, as in a backfill.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from prefect import flow, get_run_logger

from pipeline.ingest import locate
from pipeline.logsafe import mask_numbers
from pipeline.process import get_models
from pipeline.records import Recording
from pipeline.search import refresh_search_index
from pipeline.warehouse import db, load, voiceprints

from flows.process_calls import RunSummary, call_task, record_call, run_settings


@flow(name="retag-operators", log_prints=False)
def retag_operators(date_from: date, date_to: date, db_path: str | None = None, settings_overrides: dict | None = None,
                    wait_s: float = 0.0, everything: bool = False) -> RunSummary:
    """Reprocess the calls :func:`calls_to_retag` selects; ``skipped`` counts missing or changed audio."""
    logger = get_run_logger()
    settings = run_settings(settings_overrides, db_path)
    started = time.perf_counter()
    database = settings.database
    summary = RunSummary(run_id="", db_path=str(database))
    run_ids: list[str] = []
    with db.run_lock(database, wait_s=wait_s):
        asr = get_models(settings).asr
        with db.brief(database, migrate_schema=True) as con:
            summary.interrupted_runs = load.mark_interrupted_runs(con)
            rows = voiceprints.calls_to_retag(con, date_from, date_to, everything=everything)
        summary.found = len(rows)
        logger.info("%d mono calls from %s to %s to re-tag with the current voiceprints", len(rows), date_from, date_to)
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
                tag = f"[{n}/{len(rows)}] {call_id} {mask_numbers(relpath)}"
                path = locate(Path(folder), relpath, sha256)
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
                refresh_search_index(con)
    summary.wall_s = time.perf_counter() - started
    return summary
