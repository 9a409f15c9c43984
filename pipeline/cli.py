"""The ``hotline`` command: thin wrappers over library functions.

Each subcommand lives in a module of :mod:`pipeline.commands` that exposes
``register(subparsers, eval_subparsers)``. Errors become one message and an exit
code here, in one place. :data:`COMMAND_GROUPS` lays out ``hotline --help`` for the
people who run the system: what each command is for, by group, one example each.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from pipeline import commands, config
from pipeline.errors import HotlineError

log = logging.getLogger("hotline")

DESCRIPTION = ("hotline: speech analytics for the citizen hotline. Turns call recordings and the PBX call log "
               "into searchable, tagged calls in a DuckDB warehouse, for QA review, dashboards and reports.")

# (group title, [(command, example)]) in the order `hotline --help` shows them. A command
# missing here is listed under "Other commands".
COMMAND_GROUPS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Daily use", [
        ("run", "hotline run /srv/pbx/recordings --db /srv/hotline/hotline.duckdb"),
        ("watch", "hotline watch /srv/pbx/recordings --interval 60"),
        ("serve", "hotline serve --db /srv/hotline/hotline.duckdb --port 8000"),
        ("report", "hotline report --from 2026-11-01 --to 2026-11-30 --out bao-cao-11.pdf"),
        ("cases", "hotline cases list --db /srv/hotline/hotline.duckdb"),
        ("rules", "hotline rules test khan-cap-tu-khoa --last 500 --db /srv/hotline/hotline.duckdb"),
        ("alerts", "hotline alerts test --to truc-ban@example.vn --db /srv/hotline/hotline.duckdb"),
        ("export", "hotline export calls --from 2026-11-01 --to 2026-11-30 --format xlsx --out exports/"),
    ]),
    ("Administration", [
        ("users", "hotline users add lan --role qa"),
        ("lines", "hotline lines scope lan bmt --db /srv/hotline/hotline.duckdb"),
        ("sites", "hotline sites refresh --db /srv/province/province.duckdb"),
        ("operators", "hotline operators enrol 101 --from-calls a.wav b.wav --consent \"mẫu 7, ký 30/11/2026\""),
        ("models", "hotline models"),
        ("lm", "hotline lm build --db /srv/hotline/hotline.duckdb"),
        ("deploy", "hotline deploy sftp://rec@pbx.example:22/var/spool/asterisk/monitor --interval 300"),
        ("purge", "hotline purge --older-than 365"),
        ("backfill", "hotline backfill --from 2026-11-01 --to 2026-11-30 --asr-model /models/phowhisper-ct2"),
        ("topics", "hotline topics train"),
        ("weekly-report", "hotline weekly-report --serve"),
    ]),
    ("Evaluation and tuning", [
        ("eval", "hotline eval asr ../shared/eval/asr-dev/manifest.tsv --telephone"),
        ("bench", "hotline bench samples"),
        ("demo-data", "hotline demo-data --calls 100000 --db /tmp/demo.duckdb"),
        ("classify", "hotline classify \"rác thải ứ đọng ở hẻm 45\""),
        ("summary", "hotline summary \"rác thải ứ đọng ở hẻm 45 Quang Trung\""),
        ("sentiment", "hotline sentiment train"),
        ("text", "hotline text show \"dạ em ở số bốn mươi lăm đường quang trung\""),
    ]),
]


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the hand-laid command list; wraps option help as usual."""


def _command_list(sub: argparse._SubParsersAction) -> str:
    helps = {a.dest: a.help or "" for a in sub._choices_actions}
    width = max(len(name) for name in sub.choices) + 2
    listed: set[str] = set()
    lines: list[str] = []
    groups = [(title, entries) for title, entries in COMMAND_GROUPS]
    others = [(name, "") for name in sub.choices if name not in {c for _, e in COMMAND_GROUPS for c, _ in e}]
    if others:
        groups.append(("Other commands", others))
    for title, entries in groups:
        present = [(name, ex) for name, ex in entries if name in sub.choices]
        if not present:
            continue
        lines.append(f"{title}:")
        for name, example in present:
            listed.add(name)
            lines.append(f"  {name:<{width}}{helps.get(name, '')}")
            if example:
                lines.append(f"  {'':<{width}}e.g. {example}")
        lines.append("")
    lines.append("Settings come from HOTLINE_* environment variables (docs/settings.md).")
    lines.append("`hotline COMMAND --help` shows a command's options.")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", usage="hotline [-v] COMMAND [options]", description=DESCRIPTION,
                                     formatter_class=_HelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging (every library's messages)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help=argparse.SUPPRESS,
                                prog="hotline")
    eval_parser = sub.add_parser("eval", help="measure a stage (ASR, diarization, redaction, topics) on reference data")
    eval_sub = eval_parser.add_subparsers(dest="eval_command", required=True, metavar="WHAT")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub, eval_sub)
    parser.epilog = _command_list(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:  # once per process, before any command imports prefect or torch; commands read args.settings
        settings = config.load_settings()
    except HotlineError as exc:
        print(f"hotline: error: {exc}", file=sys.stderr)
        return exc.exit_code
    config.apply_environment(settings)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.settings = settings
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
