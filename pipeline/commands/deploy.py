"""``hotline deploy SOURCE``: serve the ``pull-and-process`` flow on a schedule from a Prefect server.

Also the remote half of ``hotline run sftp://…`` and ``hotline watch sftp://…``
(see :func:`run_remote`, :func:`watch_remote`). Production layout: docs/sources.md.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from flows.environment import prepare_prefect, with_secrets
from pipeline.config import REPO_ROOT, Settings, entry_settings
from pipeline.errors import DatabaseBusy, HotlineError
from pipeline.intake import sources
from pipeline.intake.sources import is_remote
from pipeline.logsafe import safe
from pipeline.salt import caller_salt


def _settings(args) -> Settings:
    """The entry point's settings with the command line's choices. Their secrets are never serialised:
    flow parameters are stored by Prefect."""
    out = {key: getattr(args, key, None) for key in ("asr_model", "call_log_format", "operator_channel")}
    return entry_settings(args).with_(**out).with_(db_path=Path(args.db).resolve() if getattr(args, "db", None) else None)


def _print_pull(summary) -> None:
    run = summary.run
    line = (f"{time.strftime('%H:%M:%S')} pulled={summary.new_audio} waiting={summary.waiting} "
            f"rejected={summary.rejected} refused={summary.refused} MB={summary.bytes_pulled / 1e6:.1f} pull_s={summary.pull_s:.1f}")
    if run is not None:
        line += (f" processed={run.processed} skipped={run.skipped} quarantined={run.quarantined} failed={run.failed}"
                 f" audio_s={run.audio_s:.1f} wall_s={run.wall_s:.1f} db={run.db_path}")
    print(safe(line), flush=True)


def run_remote(args) -> int:
    """``hotline run sftp://…``: one pull (files unchanged over ``--settle`` seconds) and one processing run."""
    sources.check_source(args.source_dir)
    settings = _settings(args)
    prepare_prefect(settings)
    from flows.pull import pull_and_process

    summary = pull_and_process(args.source_dir, settings, str(args.calls_csv) if args.calls_csv else None,
                               confirm_s=max(0.5, getattr(args, "settle", 2.0)), wait_s=args.wait)
    _print_pull(summary)
    return 0 if summary.run is None or summary.run.failed == 0 else 2


def watch_remote(args) -> int:
    """``hotline watch sftp://…``: one connection, a listing every ``--interval`` seconds.

    Each poll's listing confirms the previous one's (a file unchanged across two polls
    is complete); a poll that pulls nothing starts no flow run. The models stay loaded
    between runs. A lost connection is reopened at the next poll.
    """
    sources.check_source(args.source_dir)
    settings = _settings(args)
    prepare_prefect(settings)
    settings = with_secrets(settings)
    from flows.process_calls import run_process_calls

    staging = sources.staging_dir(args.source_dir, settings)
    key = caller_salt(settings)
    print(f"watching {safe(args.source_dir)} every {args.interval:g} s (Ctrl-C stops)", flush=True)
    src, polls = None, 0
    try:
        while args.max_polls is None or polls < args.max_polls:
            tick = time.monotonic()
            polls += 1
            try:
                src = src or sources.open_source(args.source_dir, settings)
                pulled = sources.pull(src, staging, key=key, settle_s=args.settle,
                                      max_bytes=int(settings.max_recording_mb * 2**20) or None)
            except (sources.SourceError, OSError, EOFError) as exc:
                print(f"{time.strftime('%H:%M:%S')} poll {polls}: {safe(exc)}; trying again", flush=True)
                if src is not None:
                    src.close()
                src = None
                pulled = None
            if pulled is not None and pulled.pending:
                calls_csv = str(args.calls_csv) if args.calls_csv else None
                try:
                    if calls_csv and sources.is_remote(calls_csv):
                        calls_csv = str(sources.pull_call_log(calls_csv, settings))
                    # Another run holding the lock is waited for up to one interval (the next poll's time).
                    run = run_process_calls(str(pulled.root), settings, calls_csv, wait_s=args.interval, settle_s=0.0,
                                            only_keys=list(pulled.pending), workers=args.workers,
                                            dask_address=args.dask_address)
                except DatabaseBusy as exc:  # the pulled files stay pending for the next poll
                    print(f"{time.strftime('%H:%M:%S')} poll {polls}: {safe(exc)}; trying again", flush=True)
                    continue
                finally:  # the call logs copied for the run are not kept (numbers)
                    sources.drop_call_logs(staging, *sources.call_log_copies(args.calls_csv, settings))
                if run.failed == 0:
                    sources.mark_processed(staging, list(pulled.pending), key=key)
                print(safe(f"{time.strftime('%H:%M:%S')} pulled={len(pulled.new_audio)} refused={len(pulled.refused)} MB="
                           f"{pulled.bytes_pulled / 1e6:.1f} processed={run.processed} quarantined={run.quarantined} "
                           f"failed={run.failed} audio_s={run.audio_s:.1f} wall_s={run.wall_s:.1f}"), flush=True)
            if args.max_polls is not None and polls >= args.max_polls:
                break
            time.sleep(max(0.0, args.interval - (time.monotonic() - tick)))
    finally:
        if src is not None:
            src.close()
    return 0


def _deploy(args) -> int:
    if args.interval <= 0:
        raise HotlineError(f"--interval must be more than 0 seconds, not {args.interval}")
    sources.check_source(args.source)
    settings = _settings(args)
    prepare_prefect(settings)
    if not os.environ.get("PREFECT_API_URL"):
        raise HotlineError("set PREFECT_API_URL to the Prefect server (e.g. http://127.0.0.1:4200/api after "
                           "`prefect server start`): a deployment needs a server that outlives this process")
    # Flow runs start in subprocesses that import flows/pull.py by path: they need the repo on their path.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    from flows.pull import pull_and_process

    parameters = {"source": args.source, "settings": settings,
                  "calls_csv": (args.calls_csv if is_remote(args.calls_csv) else str(Path(args.calls_csv).resolve()))
                  if args.calls_csv else None,
                  "settle_s": args.settle, "confirm_s": args.confirm}
    # One run at a time (DuckDB has one writer): the serve process and the deployment both say so.
    pull_and_process.serve(name=args.name, interval=args.interval, parameters=parameters, limit=1, global_limit=1,
                           description=f"pull {safe(args.source)} every {args.interval:g} s and tag new calls",
                           tags=["hotline"])
    return 0


def register(sub, eval_sub) -> None:
    p = sub.add_parser("deploy", help="serve a scheduled pull-and-process deployment on a Prefect server")
    p.add_argument("source", help="recordings folder or sftp://user@host:port/path")
    p.add_argument("--name", default="hotline-pull", help="deployment name (default hotline-pull)")
    p.add_argument("--interval", type=float, default=300.0, help="seconds between scheduled runs (default 300)")
    p.add_argument("--db", type=Path, default=None, help="DuckDB file (default: $HOTLINE_HOME/hotline.duckdb)")
    p.add_argument("--calls-csv", default=None,
                   help="call log: a local file or sftp://…/Master.csv (default: calls.csv or Master.csv in SOURCE)")
    p.add_argument("--call-log-format", choices=("auto", "hotline", "asterisk"), default=None,
                   help="call-log format (default: $HOTLINE_CALL_LOG_FORMAT or auto)")
    p.add_argument("--asr-model", default=None, help="base | local CTranslate2 folder | model hub id")
    p.add_argument("--settle", type=float, default=0.0, help="a file must also be this many seconds old")
    p.add_argument("--confirm", type=float, default=2.0,
                   help="seconds a file must stay unchanged within one run (default 2)")
    p.set_defaults(func=_deploy)
