"""``hotline eval diarization MANIFEST.tsv`` (:mod:`pipeline.eval.diarization`) and
``hotline export rttm`` (:func:`pipeline.eval.rttm.export_rttm`)."""

from __future__ import annotations

from pathlib import Path

from pipeline.commands import add_warehouse_options, export_group, open_warehouse
from pipeline.config import entry_settings
from pipeline.errors import HotlineError
from pipeline.eval import diarization as ev
from pipeline.eval.rttm import export_rttm


def _eval(args) -> int:
    def enrolled(voiceprints) -> None:
        print(f"enrolled {len(voiceprints)} operator(s): " + ", ".join(
            f"{vp.extension} ({vp.n_calls} calls, {vp.speech_s:.0f} s, spread {vp.spread:.3f})" for vp in voiceprints))

    result = ev.run_diarization_eval(Path(args.manifest), entry_settings(args),
                                     enrol=args.enrol, num_speakers=args.num_speakers, save_hyp=args.save_hyp,
                                     progress=lambda s: print(ev.file_line(s), flush=True), on_enrolled=enrolled)
    print("\n".join(ev.summary_lines(result)))
    return 0


def _export(args) -> int:
    if bool(args.call_id) == bool(args.all):
        raise HotlineError("give one CALL_ID or --all")
    with open_warehouse(args, read_only=True) as con:
        written = export_rttm(con, Path(args.out), None if args.all else [args.call_id])
    print(f"wrote {len(written)} RTTM file(s) to {args.out}")
    return 0


def register(sub, eval_sub) -> None:
    p = eval_sub.add_parser("diarization", help="DER of the diarizer on a manifest of audio + reference RTTM")
    p.add_argument("manifest", type=Path, help="TSV with columns file, rttm (paths relative to it)")
    p.add_argument("--num-speakers", type=int, default=None, help="tell the diarizer the exact count")
    p.add_argument("--enrol", type=Path, default=None, metavar="TSV",
                   help="enrol operators first from this list (columns ext, file) and take roles from their voices")
    p.add_argument("--save-hyp", type=Path, default=None, metavar="DIR", help="write each hypothesis as RTTM here")
    p.set_defaults(func=_eval)

    p = export_group(sub).add_parser("rttm", help="one RTTM file per call from the warehouse")
    p.add_argument("call_id", nargs="?", help="call id (first 16 hex digits of the recording hash)")
    p.add_argument("--all", action="store_true", help="every call in the warehouse")
    p.add_argument("--out", type=Path, required=True, help="folder for the .rttm files")
    add_warehouse_options(p)
    p.set_defaults(func=_export)
