"""``hotline export calls|transcripts``: the manager's exports, for scheduled jobs.

``hotline export calls --from 2026-11-01 --to 2026-11-30 --format xlsx --out var/exports/``
writes ``cuoc-goi_2026-11-01_2026-11-30.xlsx`` (a file path instead of a folder names it).
``hotline export transcripts --from … --to … --format vtt --out var/transcripts/`` writes one
file per call, redacted unless ``--raw``.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from pipeline import access
from pipeline.commands import add_role_option, add_warehouse_options, export_group, open_warehouse
from pipeline.errors import HotlineError
from pipeline.report import exports
from pipeline.report.formats import topic_key
from pipeline.web import data
from pipeline.web.data import CallFilters


def _period(args) -> None:
    if args.start and args.end and args.start > args.end:
        raise HotlineError(f"--from {args.start} is after --to {args.end}")


def _hour(text: str) -> int:
    """An argparse type: an hour of the day, 0..23."""
    if not (text.isascii() and text.isdigit() and 0 <= int(text) <= 23):
        raise argparse.ArgumentTypeError(f"{text!r} is not an hour of the day: give a whole number from 0 to 23")
    return int(text)


def _filters(args):
    topic = topic_key(args.topic, args.lang) if args.topic else None  # a label or a key; unknown: an error
    return CallFilters(start=args.start, end=args.end, topic=topic, place=args.place, operator=args.operator,
                       line=getattr(args, "line", None),
                       urgent=args.urgent, hour=args.hour)


def _target(out: Path, name: str) -> Path:
    if out.suffix and not out.is_dir():
        out.parent.mkdir(parents=True, exist_ok=True)
        return out
    out.mkdir(parents=True, exist_ok=True)
    return out / name


def _export_calls(args) -> int:
    _period(args)
    f = _filters(args)
    with open_warehouse(args, read_only=True) as con:
        rows, total = data.list_calls(con, f, limit=10_000_000)
        rows = exports.enrich(con, rows)
    used = {"topic": f.topic, "place": f.place, "operator": f.operator, "urgent": f.urgent,
            "hour": None if f.hour is None else f"{f.hour:02d}"}  # as the web export names it
    path = _target(args.out, exports.export_filename(f.start, f.end, args.format, lang=args.lang, filters=used))
    reference = access.of(args.role).caller_reference  # as that role's web export has it
    if args.format == "csv":
        path.write_bytes(exports.calls_csv(rows, lang=args.lang, caller_reference=reference))
    else:
        text = ", ".join(f"{k}={v}" for k, v in used.items() if v)
        path.write_bytes(exports.calls_xlsx(rows, lang=args.lang, start=f.start, end=f.end, filters_text=text,
                                            caller_reference=reference))
    print(f"{total} calls written to {path}")
    return 0


def _export_transcripts(args) -> int:
    _period(args)
    reference = access.of(args.role).caller_reference
    with open_warehouse(args, read_only=True) as con:
        rows, _ = data.list_calls(con, _filters(args), limit=10_000_000)
        docs = [exports.transcript(con, r["call_id"], raw=args.raw, caller_reference=reference) for r in rows]
    args.out.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        (args.out / exports.transcript_filename(doc, args.format)).write_text(
            exports.render_transcript(doc, args.format, lang=args.lang), encoding="utf-8")
    print(f"{len(docs)} transcripts ({'raw' if args.raw else 'redacted'}, {args.format}) written to {args.out}")
    return 0


def register(sub, eval_sub) -> None:
    what = export_group(sub)
    for name, formats, func, help_ in (
            ("calls", ("csv", "xlsx"), _export_calls, "one line per call, Vietnamese headers; xlsx adds a summary sheet"),
            ("transcripts", tuple(["vtt", "srt", "json", "txt"]), _export_transcripts,
             "one file per call with speaker roles, redacted unless --raw")):
        q = what.add_parser(name, help=help_)
        q.add_argument("--from", dest="start", type=date.fromisoformat, default=None, help="first day, YYYY-MM-DD")
        q.add_argument("--to", dest="end", type=date.fromisoformat, default=None, help="last day, YYYY-MM-DD (inclusive)")
        q.add_argument("--format", choices=formats, default=formats[0], help=f"file format (default {formats[0]})")
        q.add_argument("--out", type=Path, required=True,
                       help="folder (file named after the period and filters)" + (", or a file path" if name == "calls" else ""))
        q.add_argument("--topic", default=None, help="only calls with this topic: its Vietnamese or English label "
                       "(\"Môi trường, vệ sinh\") or its key (environment); an unknown topic is refused")
        q.add_argument("--place", default=None, help="only calls naming this ward/commune")
        q.add_argument("--operator", default=None, help="only this operator extension")
        q.add_argument("--line", default=None, help="only calls on this line (a key of `hotline lines list`)")
        q.add_argument("--urgent", action="store_true", help="only urgent calls")
        q.add_argument("--hour", type=_hour, default=None, metavar="0-23",
                       help="only calls started in this hour of the day (local time), as the dashboard's hour bars")
        q.add_argument("--lang", choices=("vi", "en"), default="vi", help="headers and labels")
        add_role_option(q)
        add_warehouse_options(q)
        if name == "transcripts":
            q.add_argument("--raw", action="store_true",
                           help="unredacted text where it was kept (personal data: only for roles allowed to see it)")
        q.set_defaults(func=func)
