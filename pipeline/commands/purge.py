"""``hotline purge --older-than DAYS``: remove personal data past the retention period, keep aggregates."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.commands import add_warehouse_options, open_warehouse
from pipeline.config import entry_settings
from pipeline.errors import HotlineError
from pipeline.warehouse import db
from pipeline.warehouse.purge import purge
from pipeline.warehouse.search import refresh_search_index
from pipeline.warehouse.staged_copies import staging_root


def result_cache_dir(home: Path) -> Path:
    """Where Prefect keeps cached stage results (they hold raw transcripts)."""
    explicit = os.environ.get("PREFECT_RESULTS_LOCAL_STORAGE_PATH")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("PREFECT_HOME", Path(home) / "prefect")) / "storage"


def _purge(args) -> int:
    if args.older_than < 0:
        raise HotlineError(f"--older-than must be 0 days or more, not {args.older_than}")
    settings = entry_settings(args).with_(db_path=args.db)
    compacted = ""
    # No run may load while rows go and while the file is rewritten (its writes would be lost in the old file).
    with db.run_lock(settings.database, wait_s=getattr(args, "wait", 0.0) or 0.0):
        with open_warehouse(args) as con:
            report = purge(con, args.older_than, cache_dirs=[result_cache_dir(settings.home)],
                           staging_root=staging_root(settings.database),
                           report_dirs=[settings.report_dir or settings.home / "reports"])
            if report.n_calls:
                refresh_search_index(con)  # purged words must leave the full-text index too
        if report.n_calls and args.compact:  # the purged text must leave the file's free blocks too
            before, after = db.compact(settings.database, wait_s=max(db.BRIEF_WAIT_S, getattr(args, "wait", 0.0) or 0.0))
            compacted = f" compacted={before / 2**20:.1f}->{after / 2**20:.1f}MiB"
    print(f"purged calls={report.n_calls} rows={report.n_rows} files={report.n_files} staged={report.n_staged} "
          f"cached={report.n_cached} reports={report.n_reports}{compacted} "
          f"before={report.cutoff:%Y-%m-%d %H:%M} purge_id={report.purge_id}")
    return 0


def register(sub, eval_sub) -> None:
    p = sub.add_parser("purge", help="remove personal data of calls older than the retention period")
    p.add_argument("--older-than", type=int, required=True, metavar="DAYS",
                   help="retention period: calls that started more than DAYS days ago lose their text, words, "
                        "places, PII counts, caller hash, case notes, quarantined copies, staged (SFTP-pulled) "
                        "recordings and cached results; reports about older weeks go; topics and metrics stay "
                        "(docs/security.md)")
    p.add_argument("--no-compact", dest="compact", action="store_false",
                   help="do not rewrite the warehouse file afterwards (DuckDB keeps deleted text in freed blocks "
                        "until they are reused; the rewrite needs free disk space for a second copy)")
    add_warehouse_options(p)
    p.set_defaults(func=_purge)
