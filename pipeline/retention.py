"""Retention: remove audio-derived personal data from calls older than the retention period.

What goes: segment text (redacted and raw), word timings, places said, PII counts,
the call transcript and its search index row, the caller hash and last digits,
quarantined copies of recordings, and cached stage results (which hold raw text).
What stays, for trend reports: the call row (date, duration, channels, status,
operator extension), topics, routes, urgency, metrics, segment timing and roles.
Each purge is recorded in ``purges`` and each call purged gets ``purged_at``.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pipeline.warehouse.db import transaction

log = logging.getLogger(__name__)

# Tables whose rows are personal data of a call, deleted outright.
PERSONAL_TABLES = ("segments_raw", "words", "call_places", "pii_counts", "search_docs")


@dataclass(frozen=True)
class PurgeReport:
    purge_id: str
    cutoff: datetime  # local time; calls that started (or, without a call log, were processed) before it
    n_calls: int  # calls whose personal data was removed
    n_rows: int  # rows deleted or blanked, all tables together
    n_files: int  # quarantined copies and cached results deleted


def _old_files(folders: Iterable[Path], cutoff: datetime) -> list[Path]:
    """Files under ``folders`` last modified before ``cutoff``."""
    limit = cutoff.timestamp()
    found = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            try:
                if path.is_file() and path.stat().st_mtime < limit:
                    found.append(path)
            except FileNotFoundError:  # removed by someone else meanwhile
                continue
    return found


def purge(con, older_than_days: int, *, now: datetime | None = None, cache_dirs: Iterable[Path] = ()) -> PurgeReport:
    """Remove personal data of calls older than ``older_than_days`` days (one transaction).

    ``con`` is a writable warehouse connection; ``cache_dirs`` are folders of cached
    stage results (Prefect result storage) whose files older than the cutoff are
    deleted too. Running it again removes nothing more but is still recorded.
    Raises ValueError for a negative period.
    """
    if older_than_days < 0:
        raise ValueError(f"retention period must be 0 days or more, not {older_than_days}")
    now = now or datetime.now()
    cutoff = now - timedelta(days=older_than_days)
    old = "coalesce(started_at, processed_at) < ?"
    with transaction(con):
        con.execute(f"CREATE OR REPLACE TEMP TABLE _purge AS SELECT call_id, quarantine_path FROM calls "
                    f"WHERE {old} AND (purged_at IS NULL OR transcript IS NOT NULL OR quarantine_path IS NOT NULL "
                    f"OR caller_hash IS NOT NULL)", [cutoff])
        n_calls = con.execute("SELECT count(*) FROM _purge").fetchone()[0]
        n_rows = 0
        for table in PERSONAL_TABLES:
            n_rows += con.execute(f"DELETE FROM {table} WHERE call_id IN (SELECT call_id FROM _purge)").fetchone()[0]
        n_rows += con.execute("UPDATE segments SET text = NULL WHERE text IS NOT NULL "
                              "AND call_id IN (SELECT call_id FROM _purge)").fetchone()[0]
        # QA's corrections (migration 011) keep text and place names; the evaluation comments are free text.
        n_rows += con.execute("UPDATE call_edits SET old_value = NULL, new_value = NULL, "
                              "target = CASE WHEN kind LIKE 'place_%' THEN NULL ELSE target END "
                              "WHERE kind IN ('transcript', 'place_add', 'place_remove') "
                              "AND call_id IN (SELECT call_id FROM _purge)").fetchone()[0]
        n_rows += con.execute("UPDATE call_evaluations SET comment = NULL WHERE comment IS NOT NULL "
                              "AND call_id IN (SELECT call_id FROM _purge)").fetchone()[0]
        quarantined = [Path(r[0]) for r in con.execute(
            "SELECT quarantine_path FROM _purge WHERE quarantine_path IS NOT NULL").fetchall()]
        n_rows += con.execute("UPDATE calls SET transcript = NULL, caller_hash = NULL, caller_last3 = NULL, caller_initials = NULL, "
                              "summary = NULL, "  # it names the address, like call_places
                              "quarantine_path = NULL, purged_at = ? WHERE call_id IN (SELECT call_id FROM _purge)",
                              [now]).fetchone()[0]
        # Cases keep a copy of the caller hash and the citizen's first words (pipeline.cases).
        n_rows += con.execute("UPDATE cases SET caller_hash = NULL, summary = NULL WHERE (caller_hash IS NOT NULL OR "
                              "summary IS NOT NULL) AND case_id IN (SELECT case_id FROM case_calls WHERE call_id IN "
                              "(SELECT call_id FROM _purge))").fetchone()[0]
        folders = [c.parent for c in quarantined if c.parent.is_dir()]  # quarantine/<call_id>/: copy + error.txt
        old_cache = _old_files(cache_dirs, cutoff)
        n_files = sum(1 for f in folders for p in f.rglob("*") if p.is_file()) + len(old_cache)
        purge_id = now.strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
        con.execute("INSERT INTO purges VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [purge_id, now, older_than_days, cutoff, n_calls, n_rows, n_files])
        con.execute("DROP TABLE _purge")
    # Files go after the commit: a failed transaction must not leave rows pointing at deleted copies.
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    for path in old_cache:
        path.unlink(missing_ok=True)
    log.info("purged personal data of %d calls before %s: %d rows, %d files", n_calls, cutoff, n_rows, n_files)
    return PurgeReport(purge_id, cutoff, n_calls, n_rows, n_files)
