"""One module per ``hotline`` subcommand; each exposes ``register(sub, eval_sub)``.

A command's ``func(args)`` calls library functions and returns an exit code.
``pipeline.cli.COMMAND_GROUPS`` places each command in ``hotline --help`` with an example.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from pipeline.config import Settings, entry_settings
from pipeline.errors import HotlineError
from pipeline.warehouse import db


def iso_date(text: str) -> date:
    """An argparse type: ``YYYY-MM-DD``, with a plain message for anything else."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-11-30") from None


def check_period(start: date, end: date) -> None:
    """Raise :class:`~pipeline.errors.HotlineError` when ``end`` is before ``start``."""
    if end < start:
        raise HotlineError(f"--to {end} is before --from {start}: give the first day, then the last")


def add_warehouse_options(parser: argparse.ArgumentParser) -> None:
    """``--db`` and ``--wait``, as every command that opens an existing warehouse takes them (see :func:`open_warehouse`)."""
    parser.add_argument("--db", type=Path, default=None, help="DuckDB file (default: $HOTLINE_HOME/hotline.duckdb)")
    parser.add_argument("--wait", type=float, default=0.0, help="seconds to wait for another writer to finish")


def add_role_option(parser: argparse.ArgumentParser) -> None:
    """``--role``: write the export as this role sees it in the web app (pipeline.access; default manager)."""
    parser.add_argument("--role", choices=("manager", "qa", "admin"), default="manager",
                        help="whose view to export (docs/security.md, 'What each role can see'): manager (default) "
                             "gets redacted text and no caller reference; qa/admin as HOTLINE_RAW_TEXT_ROLES allows")


def export_group(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The subcommands of ``hotline export`` (created by whichever command module registers first)."""
    parser = sub.choices.get("export")
    if parser is None:
        parser = sub.add_parser("export", help="export data from the warehouse")
        return parser.add_subparsers(dest="export_command", required=True, metavar="FORMAT")
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def source_settings(args) -> Settings:
    """The entry point's settings with the choices of a command that reads a source (``run``, ``watch``,
    ``deploy``): recogniser, call-log format, operator channel, warehouse. Their secrets are never
    serialised: flow parameters are stored by Prefect."""
    out = {key: getattr(args, key, None) for key in ("asr_model", "call_log_format", "operator_channel")}
    db_path = Path(args.db).resolve() if getattr(args, "db", None) else None
    return entry_settings(args).with_(**out).with_(db_path=db_path)


@contextmanager
def open_warehouse(args, *, read_only: bool = False) -> Iterator:
    """The warehouse named by ``args.db`` (default: the settings') for one command's work, closed after.

    It must exist: only ``run``/``watch`` create one (a typo in ``--db`` is one clear line,
    not a new empty warehouse). Waits ``args.wait`` seconds for another writer. The settings are
    the entry point's (``args.settings``, :func:`pipeline.config.entry_settings`).
    """
    settings = entry_settings(args).with_(db_path=getattr(args, "db", None))
    con = db.connect(settings.database, wait_s=getattr(args, "wait", 0.0) or 0.0, create=False, read_only=read_only)
    try:
        yield con
    finally:
        con.close()
