"""``hotline watch SOURCE_DIR``: keep tagging new recordings as they land (continuous mode)."""

from __future__ import annotations

import time
from pathlib import Path

from flows.environment import prepare_prefect
from pipeline.commands.deploy import watch_remote
from pipeline.config import entry_settings
from pipeline.errors import HotlineError
from pipeline.intake.sources import is_remote
from pipeline.runs.book import check_run_inputs


def _watch(args) -> int:
    if args.interval is None:
        args.interval = entry_settings(args).watch_interval_s
    if args.interval <= 0:
        raise HotlineError(f"--interval must be more than 0 seconds, not {args.interval}")
    if is_remote(args.source_dir):  # sftp://… : pull to staging at each poll (pipeline/commands/deploy.py)
        return watch_remote(args)
    args.source_dir = Path(args.source_dir)
    settings = entry_settings(args).with_(asr_model=args.asr_model or None,
                                          call_log_format=args.call_log_format or None, db_path=args.db,
                                          watch_interval_s=args.interval)
    check_run_inputs(settings, source_dir=args.source_dir, calls_csv=args.calls_csv)
    prepare_prefect(settings)
    from flows.watch import watch_folder

    def report(summary) -> None:
        print(f"{time.strftime('%H:%M:%S')} run={summary.run_id} processed={summary.processed} "
              f"quarantined={summary.quarantined} failed={summary.failed} audio_s={summary.audio_s:.1f} "
              f"wall_s={summary.wall_s:.1f}", flush=True)

    print(f"watching {args.source_dir} every {args.interval:g} s (Ctrl-C stops)", flush=True)
    watch_folder(args.source_dir, settings, calls_csv=str(args.calls_csv) if args.calls_csv else None,
                 interval_s=settings.watch_interval_s, settle_s=args.settle, max_polls=args.max_polls,
                 workers=args.workers, dask_address=args.dask_address, on_run=report)
    return 0


def register(sub, eval_sub) -> None:
    p = sub.add_parser("watch", help="poll a recordings folder and process new calls as they land")
    p.add_argument("source_dir", help="folder the PBX writes recordings into, or sftp://user@host:port/path")
    p.add_argument("--call-log-format", choices=("auto", "hotline", "asterisk"), default=None,
                   help="calls.csv of ours, or Asterisk cdr-csv Master.csv + FreePBX names (default auto)")
    p.add_argument("--interval", type=float, default=None,
                   help="seconds between polls (default: $HOTLINE_WATCH_INTERVAL_S or 10)")
    p.add_argument("--settle", type=float, default=2.0,
                   help="a file must also be this many seconds old (besides unchanged across two polls)")
    p.add_argument("--db", type=Path, default=None, help="DuckDB file (default: $HOTLINE_HOME/hotline.duckdb)")
    p.add_argument("--calls-csv", default=None, help="PBX call log (default: SOURCE_DIR/calls.csv)")
    p.add_argument("--asr-model", default=None, help="viet-asr (default) | base | local CTranslate2 folder | hub id (`hotline models`)")
    p.add_argument("--workers", type=int, default=0, help="local Dask worker processes (0: in this process)")
    p.add_argument("--dask-address", default=None, metavar="tcp://HOST:PORT", help="existing Dask scheduler")
    p.add_argument("--max-polls", type=int, default=None, help="stop after N polls (default: run until Ctrl-C)")
    p.set_defaults(func=_watch)
