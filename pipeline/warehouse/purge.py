"""Retention: remove audio-derived personal data from calls older than the retention period.

What goes: segment text (redacted and raw), word timings, places said, PII counts,
the call transcript and its search index row, the caller hash and last digits,
quarantined copies of recordings, staged copies of recordings pulled from an SFTP server
(:mod:`pipeline.warehouse.staged_copies`; never a file of a local source folder), and cached stage
results (which hold raw text).
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

from pipeline.warehouse import retention as retention_rows
from pipeline.warehouse import staged_copies as staged_retention
from pipeline.warehouse.db import transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeReport:
    purge_id: str
    cutoff: datetime  # local time; calls that started (or, without a call log, were processed) before it
    n_calls: int  # calls whose personal data was removed
    n_rows: int  # rows deleted or blanked, all tables together
    n_files: int  # quarantined copies, staged recordings and cached results deleted
    n_staged: int = 0  # of n_files: staged copies of recordings (<database folder>/staging/)


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


def purge(con, older_than_days: int, *, now: datetime | None = None, cache_dirs: Iterable[Path] = (),
          staging_root: Path | None = None) -> PurgeReport:
    """Remove personal data of calls older than ``older_than_days`` days (one transaction).

    ``con`` is a writable warehouse connection; ``cache_dirs`` are folders of cached
    stage results (Prefect result storage) whose files older than the cutoff are
    deleted too, and so are the staged copies of those calls' recordings under
    ``staging_root`` (default: ``staging/`` beside the warehouse file). Running it again
    removes nothing more but is still recorded. Raises ValueError for a negative period.
    """
    if older_than_days < 0:
        raise ValueError(f"retention period must be 0 days or more, not {older_than_days}")
    now = now or datetime.now()
    cutoff = now - timedelta(days=older_than_days)
    with transaction(con):
        n_calls, n_rows, quarantined = retention_rows.purge_rows(con, cutoff, now)
        folders = [c.parent for c in quarantined if c.parent.is_dir()]  # quarantine/<call_id>/: copy + error.txt
        old_cache = _old_files(cache_dirs, cutoff)
        if staging_root is None:
            db_file = retention_rows.database_file(con)
            staging_root = staged_retention.staging_root(db_file) if db_file else None
        staged = (staged_retention.staged_copies(retention_rows.recordings_before(con, cutoff), staging_root)
                  if staging_root is not None else [])
        n_files = sum(1 for f in folders for p in f.rglob("*") if p.is_file()) + len(old_cache) + len(staged)
        purge_id = now.strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
        retention_rows.record_purge(con, purge_id, now, older_than_days, cutoff, n_calls, n_rows, n_files)
    # Files go after the commit: a failed transaction must not leave rows pointing at deleted copies.
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    for path in old_cache:
        path.unlink(missing_ok=True)
    if staged:
        staged_retention.remove(staged, staging_root)
    log.info("purged personal data of %d calls before %s: %d rows, %d files (%d staged recordings)",
             n_calls, cutoff, n_rows, n_files, len(staged))
    return PurgeReport(purge_id, cutoff, n_calls, n_rows, n_files, len(staged))
