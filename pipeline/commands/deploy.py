"""``hotline deploy SOURCE``: serve the ``pull-and-process`` flow on a schedule from a Prefect server.

Production layout: docs/sources.md.
"""

from __future__ import annotations

import os
from pathlib import Path

from flows.environment import prepare_prefect
from pipeline.commands import source_settings
from pipeline.config import REPO_ROOT
from pipeline.errors import HotlineError
from pipeline.intake import sources
from pipeline.intake.sources import is_remote
from pipeline.logsafe import safe


def _deploy(args) -> int:
    if args.interval <= 0:
        raise HotlineError(f"--interval must be more than 0 seconds, not {args.interval}")
    sources.check_source(args.source)
    settings = source_settings(args)
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
