"""The ``hotline`` command: thin wrappers over library functions.

Each subcommand lives in a module of :mod:`pipeline.commands` that exposes
``register(subparsers, eval_subparsers)``. Errors become one message and an exit
code here, in one place.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from pipeline import commands
from pipeline.errors import HotlineError

log = logging.getLogger("hotline")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    eval_parser = sub.add_parser("eval", help="measure a stage against reference data")
    eval_sub = eval_parser.add_subparsers(dest="eval_command", required=True, metavar="WHAT")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub, eval_sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    if not args.verbose:
        # One line per call is the progress; per-request and per-task chatter is not.
        for name in ("httpx", "httpcore", "prefect.task_runs", "prefect.events", "uvicorn.access"):
            logging.getLogger(name).setLevel(logging.WARNING)
    try:
        return int(args.func(args) or 0)
    except HotlineError as exc:
        print(f"hotline: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("hotline: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
