"""``hotline operators enrol|list|remove``: known operators' voiceprints (pipeline/stages/operators.py)."""

from __future__ import annotations

import getpass
from pathlib import Path

from flows.environment import prepare_prefect
from models.diarization import load_diarizer
from pipeline.commands import add_warehouse_options, open_warehouse
from pipeline.commands.backfill import _date
from pipeline.config import entry_settings
from pipeline.errors import HotlineError
from pipeline.runs.book import check_run_inputs
from pipeline.stages.operators import delete_voiceprint, load_voiceprints, save_voiceprint, voiceprint_from_calls
from pipeline.warehouse import db


def _enrol(args) -> int:
    settings = entry_settings(args)
    diarizer = load_diarizer(min_speakers=settings.min_speakers, max_speakers=settings.max_speakers,
                             threads=settings.cpu_threads)
    vp = voiceprint_from_calls(args.extension, args.from_calls, diarizer, consent_note=args.consent, name=args.name,
                               enrolled_by=args.by or getpass.getuser(), operator_channel=settings.operator_channel)
    with open_warehouse(args) as con:
        save_voiceprint(con, vp)
    print(f"enrolled {vp.extension}: {vp.n_calls} call(s), {vp.speech_s:.1f} s of speech, spread {vp.spread:.3f} "
          f"(voiceprint only, no audio kept; consent: {vp.consent_note})")
    return 0


def _list(args) -> int:
    with open_warehouse(args) as con:
        prints = load_voiceprints(con)
    for vp in prints:
        print(f"{vp.extension}\t{vp.name or ''}\tcalls={vp.n_calls}\tspeech={vp.speech_s:.1f}s\t"
              f"enrolled={vp.enrolled_at:%Y-%m-%d} by {vp.enrolled_by or '?'}\tconsent={vp.consent_note}")
    print(f"{len(prints)} operator(s) enrolled")
    return 0


def _remove(args) -> int:
    with open_warehouse(args) as con:
        found = delete_voiceprint(con, args.extension)
    if not found:
        raise HotlineError(f"no voiceprint enrolled for extension {args.extension}")
    print(f"removed the voiceprint of {args.extension}")
    return 0


def _retag(args) -> int:
    date_from, date_to = _date(args.date_from), _date(args.date_to)
    if date_to < date_from:
        raise HotlineError(f"--to {date_to} is before --from {date_from}")
    settings = entry_settings(args).with_(db_path=args.db)
    db.check_warehouse_path(settings.database, create=False)
    check_run_inputs(settings)
    prepare_prefect(settings)
    from flows.retag_operators import retag_operators

    summary = retag_operators(date_from, date_to, settings, args.wait, args.all)
    print(f"retag calls={summary.found} processed={summary.processed} skipped={summary.skipped} "
          f"failed={summary.failed} audio_s={summary.audio_s:.1f} wall_s={summary.wall_s:.1f} runs={summary.run_id or '-'}")
    return 0 if summary.failed == 0 else 2


def register(sub, eval_sub) -> None:
    parser = sub.add_parser("operators", help="known operators: enrol a voiceprint, list, remove")
    ops = parser.add_subparsers(dest="operators_command", required=True, metavar="ACTION")

    p = ops.add_parser("enrol", help="enrol an operator's voice from a few of their calls (stores an embedding, never audio)")
    p.add_argument("extension", help="the operator's extension, as in the call log")
    p.add_argument("--from-calls", nargs="+", type=Path, required=True, metavar="FILE",
                   help="recordings of the operator: stereo (operator channel) or at least two mono calls")
    p.add_argument("--consent", required=True, help="how the operator consented (form id, date)")
    p.add_argument("--name", default=None, help="display name")
    p.add_argument("--by", default=None, help="admin enrolling (default: the OS user)")
    add_warehouse_options(p)
    p.set_defaults(func=_enrol)

    p = ops.add_parser("list", help="enrolled operators and their consent notes")
    add_warehouse_options(p)
    p.set_defaults(func=_list)

    p = ops.add_parser("retag", help="reprocess mono calls processed before the latest enrolment (roles, voice match)")
    p.add_argument("--from", dest="date_from", required=True, metavar="YYYY-MM-DD", help="first call date")
    p.add_argument("--to", dest="date_to", required=True, metavar="YYYY-MM-DD", help="last call date (inclusive)")
    p.add_argument("--all", action="store_true", help="every mono call of the range (e.g. after a removal)")
    add_warehouse_options(p)
    p.set_defaults(func=_retag)

    p = ops.add_parser("remove", help="delete an operator's voiceprint (consent withdrawn)")
    p.add_argument("extension", help="the operator's extension")
    add_warehouse_options(p)
    p.set_defaults(func=_remove)
