"""Retention: remove audio-derived personal data from calls older than the retention period.

What goes: segment text (redacted and raw), word timings, places said, PII counts,
the call transcript and its search index row, the caller hash and last digits (also
out of the stored file name and error), the free text of cases whose calls are all past
the period (result, street, history notes), quarantined copies of recordings, staged
copies of recordings pulled from an SFTP server (:mod:`pipeline.warehouse.staged_copies`;
never a file of a local source folder), cached stage results of the purged recordings
(which hold raw text), and report files about periods before the cutoff.
What stays, for trend reports: the call row (date, duration, channels, status,
operator extension), topics, routes, urgency, metrics, segment timing and roles.
What it cannot reach is listed in docs/security.md ("What purge removes, and what it cannot").
Each purge is recorded in ``purges`` and each call purged gets ``purged_at``.
"""

from __future__ import annotations

import logging
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator
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
    n_cached: int = 0  # of n_files: cached stage results (Prefect result storage)
    n_reports: int = 0  # of n_files: report files about periods before the cutoff


def _regular_files(folders: Iterable[Path]) -> Iterator[Path]:
    """Regular files under ``folders`` (links are not followed; a file removed meanwhile is skipped)."""
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            try:
                if path.is_file() and not path.is_symlink():
                    yield path
            except FileNotFoundError:  # removed by someone else meanwhile
                continue


def _modified_before(path: Path, limit: float) -> bool:
    try:
        return path.stat().st_mtime < limit
    except FileNotFoundError:  # removed by someone else meanwhile
        return False


def _old_files(folders: Iterable[Path], cutoff: datetime) -> list[Path]:
    """Regular files under ``folders`` last modified before ``cutoff`` (links are not followed)."""
    limit = cutoff.timestamp()
    return [path for path in _regular_files(folders) if _modified_before(path, limit)]


# Prefect names a cached stage result by its cache key, "<stage>-<recording sha256>-<model>-<options>"
# (flows/process_calls.py stage_cache_key).
_CACHE_KEY = re.compile(r"^[a-z_]+-([0-9a-f]{64})-")


def _cached_results(folders: Iterable[Path], hashes: set[str]) -> list[Path]:
    """Cached stage results (raw transcripts, speaker turns) of the recordings with these SHA-256s,
    whenever they were written: a 2020 call processed today has today's files."""
    found = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            m = _CACHE_KEY.match(path.name)
            if m and m.group(1) in hashes and path.is_file() and not path.is_symlink():
                found.append(path)
    return found


# A weekly report is named after the week it covers (flows/weekly_report.py).
_REPORT_WEEK = re.compile(r"(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})")


def _old_reports(folders: Iterable[Path], cutoff: datetime) -> list[Path]:
    """Report files about periods that ended before ``cutoff``: by the week in the name
    (``bao-cao_<monday>_<sunday>.pdf``), else by the file's date."""
    found = []
    limit = cutoff.timestamp()
    for path in _regular_files(folders):
        week = _REPORT_WEEK.search(path.name)
        try:
            ended = datetime.fromisoformat(week.group(2)) + timedelta(days=1) if week else None
        except ValueError:  # a name with an impossible date
            continue
        if (ended < cutoff) if ended else _modified_before(path, limit):
            found.append(path)
    return found


def purge(con, older_than_days: int, *, now: datetime | None = None, cache_dirs: Iterable[Path] = (),
          staging_root: Path | None = None, report_dirs: Iterable[Path] = ()) -> PurgeReport:
    """Remove personal data of calls older than ``older_than_days`` days (one transaction).

    ``con`` is a writable warehouse connection; ``cache_dirs`` are folders of cached
    stage results (Prefect result storage): the results of the purged calls' recordings
    are deleted (by recording hash, whenever they were written), and so are any files
    there older than the cutoff; so are the staged copies of those calls' recordings under
    ``staging_root`` (default: ``staging/`` beside the warehouse file), and the report files
    under ``report_dirs`` about periods before the cutoff. Running it again removes nothing more
    but is still recorded. Raises ValueError for a negative period.
    """
    if older_than_days < 0:
        raise ValueError(f"retention period must be 0 days or more, not {older_than_days}")
    now = now or datetime.now()
    cutoff = now - timedelta(days=older_than_days)
    cache_dirs, report_dirs = list(cache_dirs), list(report_dirs)
    with transaction(con):
        # Before the rows lose their names: the staged copies are found by them.
        old_calls = retention_rows.recordings_before(con, cutoff)
        if staging_root is None:
            db_file = retention_rows.database_file(con)
            staging_root = staged_retention.staging_root(db_file) if db_file else None
        staged = staged_retention.staged_copies(old_calls, staging_root) if staging_root is not None else []
        hashes = set(retention_rows.hashes_before(con, cutoff))
        n_calls, n_rows, quarantined = retention_rows.purge_rows(con, cutoff, now)
        folders = [c.parent for c in quarantined if c.parent.is_dir()]  # quarantine/<call_id>/: copy + error.txt
        cached = sorted(set(_cached_results(cache_dirs, hashes)) | set(_old_files(cache_dirs, cutoff)))
        reports = _old_reports(report_dirs, cutoff)
        n_files = (sum(1 for f in folders for p in f.rglob("*") if p.is_file()) + len(cached) + len(staged)
                   + len(reports))
        purge_id = now.strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
        retention_rows.record_purge(con, purge_id, now, older_than_days, cutoff, n_calls, n_rows, n_files)
    # Files go after the commit: a failed transaction must not leave rows pointing at deleted copies.
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    for path in cached + reports:
        path.unlink(missing_ok=True)
    if staged:
        staged_retention.remove(staged, staging_root)
    log.info("purged personal data of %d calls before %s: %d rows, %d files (%d staged recordings, %d cached "
             "results, %d reports)", n_calls, cutoff, n_rows, n_files, len(staged), len(cached), len(reports))
    return PurgeReport(purge_id, cutoff, n_calls, n_rows, n_files, len(staged), len(cached), len(reports))
