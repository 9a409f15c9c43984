"""``hotline run SOURCE_DIR``: process a folder of recordings into DuckDB through the Prefect flow."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from flows import reaper
from flows.environment import prepare_prefect
from pipeline.commands import source_settings
from pipeline.config import Settings, entry_settings
from pipeline.errors import HotlineError
from pipeline.intake import sources
from pipeline.intake.ingest import name_key
from pipeline.intake.sources import is_remote
from pipeline.logsafe import safe
from pipeline.runs.book import check_run_inputs
from pipeline.salt import caller_salt
from pipeline.warehouse import db
from pipeline.warehouse.calls import without_call_log
from pipeline.warehouse.queries import call_summaries, format_table


def run_folder(source_dir: Path, settings: Settings, *, db_path: Path | None = None,
               calls_csv: Path | None = None, overrides: dict | None = None, wait_s: float = 0.0,
               settle_s: float | None = None,
               only: list[str] | None = None,
               workers: int = 0, dask_address: str | None = None):
    """Run the ``process-calls`` flow (a temporary local Prefect server starts by itself).

    ``workers`` > 0 runs the per-call work on a local Dask cluster of that many
    processes, ``dask_address`` on an existing Dask scheduler; this process alone
    writes the database. ``settings``: the entry point's, with ``overrides`` and ``db_path`` applied.
    ``only`` (relative paths) restricts the run to those recordings; they reach the flow as keyed ids
    (:func:`pipeline.intake.ingest.name_key`), never as names. Returns the flow's ``RunSummary``.
    """
    if workers < 0:
        raise HotlineError(f"--workers must be 0 or more, not {workers}")
    settings = settings.with_(**(overrides or {})).with_(db_path=db_path)
    check_run_inputs(settings, source_dir=Path(source_dir), calls_csv=calls_csv)
    if settle_s is None:  # a file the PBX may still be writing is left for the next run (HOTLINE_SETTLE_S)
        settle_s = settings.settle_s
    prepare_prefect(settings)
    # The CLI is the one place allowed to reach up into flows/: pipeline stays orchestrator-free.
    from flows.process_calls import run_process_calls

    reaper.temporary_server_api_url()  # started now so that it dies with this process, even when it is killed

    only_keys = [name_key(rel, caller_salt(settings)) for rel in only] if only is not None else None
    return run_process_calls(str(source_dir), settings, str(calls_csv) if calls_csv else None, wait_s=wait_s,
                             settle_s=settle_s, only_keys=only_keys, workers=workers, dask_address=dask_address)


def run_remote(args) -> int:
    """``hotline run sftp://…``: one pull (files unchanged over ``--settle`` seconds) and one processing run."""
    sources.check_source(args.source_dir)
    settings = source_settings(args)
    prepare_prefect(settings)
    from flows.pull import pull_and_process

    summary = pull_and_process(args.source_dir, settings, str(args.calls_csv) if args.calls_csv else None,
                               confirm_s=max(0.5, args.settle), wait_s=args.wait)
    line = (f"{time.strftime('%H:%M:%S')} pulled={summary.new_audio} waiting={summary.waiting} "
            f"rejected={summary.rejected} refused={summary.refused} MB={summary.bytes_pulled / 1e6:.1f} pull_s={summary.pull_s:.1f}")
    if summary.run is not None:
        run = summary.run
        line += (f" processed={run.processed} skipped={run.skipped} quarantined={run.quarantined} failed={run.failed}"
                 f" audio_s={run.audio_s:.1f} wall_s={run.wall_s:.1f} db={run.db_path}")
    print(safe(line), flush=True)
    return 0 if summary.run is None or summary.run.failed == 0 else 2


def _run(args) -> int:
    if is_remote(args.source_dir):  # sftp://… : pull to staging first (flows/pull.py)
        return run_remote(args)
    overrides = {"asr_model": args.asr_model, "operator_channel": args.operator_channel,
                 "call_log_format": args.call_log_format}
    if args.workers > 0 and "HOTLINE_CPU_THREADS" not in os.environ:
        # N workers each with the default threads would oversubscribe the cores.
        overrides["cpu_threads"] = max(1, (os.cpu_count() or 1) // args.workers)
    summary = run_folder(Path(args.source_dir), entry_settings(args), db_path=args.db, calls_csv=args.calls_csv,
                         overrides={k: v for k, v in overrides.items() if v is not None}, wait_s=args.wait,
                         workers=args.workers, dask_address=args.dask_address)
    con = db.connect(summary.db_path, read_only=True, wait_s=db.BRIEF_WAIT_S)  # the web app may be reading it
    try:
        rows = call_summaries(con)
        no_log = without_call_log(con, list(summary.call_ids))
    finally:
        con.close()
    print(format_table(rows))  # each cell log-safe (masked, line breaks escaped)
    rtf = summary.wall_s / summary.audio_s if summary.audio_s else 0.0
    print(f"\nprocessed={summary.processed} skipped={summary.skipped} quarantined={summary.quarantined} "
          f"failed={summary.failed} audio_s={summary.audio_s:.1f} wall_s={summary.wall_s:.1f} rtf={rtf:.3f} "
          f"db={summary.db_path}")
    warn_no_call_log(no_log)
    return 0 if summary.failed == 0 else 2


def warn_no_call_log(no_log: list[tuple[str, str | None]]) -> None:
    """The loud end-of-run warning about calls loaded without a call-log row (issue 29): how many, that they
    have no caller or operator, and where their estimated start times came from."""
    if not no_log:
        return
    by: dict[str, int] = {}
    for _, source in no_log:
        by[source or "none"] = by.get(source or "none", 0) + 1
    bar = "!" * 72
    print(f"\n{bar}\nWARNING: {len(no_log)} call(s) had no call-log row: no caller, no operator, no PBX id.\n"
          f"Start times were ESTIMATED from the recording ({', '.join(f'{k}={v}' for k, v in sorted(by.items()))}; "
          f"pages show them as 'ước tính').\nGive the PBX call log (--calls-csv, --call-log-format) and run again "
          f"to fill them in. Calls: {' '.join(c for c, _ in no_log[:20])}{' …' if len(no_log) > 20 else ''}\n{bar}",
          file=sys.stderr, flush=True)


def register(sub, eval_sub) -> None:
    p = sub.add_parser("run", help="process a folder of recordings into the DuckDB warehouse")
    p.add_argument("source_dir", help="folder of recordings (searched recursively), or sftp://user@host:port/path")
    p.add_argument("--db", type=Path, default=None, help="DuckDB file (default: $HOTLINE_HOME/hotline.duckdb)")
    p.add_argument("--calls-csv", default=None, help="PBX call log (default: SOURCE_DIR/calls.csv if present)")
    p.add_argument("--call-log-format", choices=("auto", "hotline", "asterisk"), default=None,
                   help="calls.csv of ours, or Asterisk cdr-csv Master.csv + FreePBX names (default auto)")
    p.add_argument("--settle", type=float, default=2.0, help="sftp://: seconds a file must stay unchanged")
    p.add_argument("--asr-model", default=None, help="viet-asr (default) | base | local CTranslate2 folder | hub id (`hotline models`)")
    p.add_argument("--operator-channel", type=int, default=None, help="stereo channel of the operator (0 = left)")
    p.add_argument("--wait", type=float, default=0.0, help="seconds to wait for another writer to finish")
    p.add_argument("--workers", type=int, default=0,
                   help="run calls on a local Dask cluster of N worker processes (0: one after another, here)")
    p.add_argument("--dask-address", default=None, metavar="tcp://HOST:PORT",
                   help="run calls on the workers of this Dask scheduler (default $HOTLINE_DASK_SCHEDULER; docs/operations.md)")
    p.set_defaults(func=_run)
