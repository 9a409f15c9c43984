"""``hotline watch SOURCE``: keep tagging new recordings as they land (continuous mode).

A local folder or ``sftp://…``: one loop for both (:func:`flows.watch.watch_source`), each poll
running ``process-calls`` on what is new and complete.
"""

from __future__ import annotations

import time
from pathlib import Path

from flows.environment import prepare_prefect
from pipeline.commands import source_settings
from pipeline.errors import HotlineError
from pipeline.intake import sources
from pipeline.intake.sources import is_remote
from pipeline.logsafe import safe
from pipeline.runs.book import check_run_inputs
from pipeline.runs.watch import Poll


def _print_poll(poll: Poll) -> None:
    run, pulled = poll.run, poll.pulled
    print(safe(f"{time.strftime('%H:%M:%S')} poll={poll.number} run={run.run_id} pulled={len(pulled.new_audio)} "
               f"refused={len(pulled.refused)} MB={pulled.bytes_pulled / 1e6:.1f} processed={run.processed} quarantined={run.quarantined} "
               f"failed={run.failed} audio_s={run.audio_s:.1f} wall_s={run.wall_s:.1f}"), flush=True)


def _watch(args) -> int:
    settings = source_settings(args).with_(watch_interval_s=args.interval)
    if settings.watch_interval_s <= 0:
        raise HotlineError(f"--interval must be more than 0 seconds, not {settings.watch_interval_s}")
    source = str(args.source_dir)
    sources.check_source(source)
    if not is_remote(source):
        check_run_inputs(settings, source_dir=Path(source), calls_csv=args.calls_csv)
    prepare_prefect(settings)
    from flows.watch import watch_source

    print(f"watching {safe(source)} every {settings.watch_interval_s:g} s (Ctrl-C stops)", flush=True)
    watch_source(source, settings, calls_csv=str(args.calls_csv) if args.calls_csv else None, settle_s=args.settle,
                 max_polls=args.max_polls, workers=args.workers, dask_address=args.dask_address, on_poll=_print_poll)
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
    p.add_argument("--dask-address", default=None, metavar="tcp://HOST:PORT", help="run calls on the workers of this Dask scheduler (default $HOTLINE_DASK_SCHEDULER)")
    p.add_argument("--max-polls", type=int, default=None, help="stop after N polls (default: run until Ctrl-C)")
    p.set_defaults(func=_watch)
