"""``hotline eval redaction-audio EVAL_DIR``: is a redacted number or name still audible in the audio a manager
hears? (:mod:`pipeline.eval.redaction_audio`). Builds calls from the real voices of EVAL_DIR (``asr-dev``,
``fosd-pool``), runs the product on them, silences as ``/audio`` does, transcribes again and counts what
survives. Writes only under ``--out`` (default ``var/redaction-audio``). The last line printed is
``digits_survived=N names_survived=N missed_items=N lost_s=S`` for the test half (the figures of the report).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.config import entry_settings
from pipeline.errors import HotlineError
from pipeline.eval import redaction_audio as ra


def _pad(text: str) -> tuple[float, float]:
    try:
        before, after = (float(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give the pads as BEFORE/AFTER in seconds, e.g. 0.25/0.30") from None
    if not (0 <= before <= 2 and 0 <= after <= 2):
        raise argparse.ArgumentTypeError(f"{text!r}: pads are 0 to 2 seconds")
    return before, after


def _eval(args) -> int:
    if not args.eval_dir.is_dir():
        raise HotlineError(f"{args.eval_dir}: not a folder (give the folder holding asr-dev/ and fosd-pool/)")
    if args.out.resolve().is_relative_to(args.eval_dir.resolve()):
        raise HotlineError(f"--out {args.out} lies inside the evaluation data: write under var/")

    def progress(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    reports = ra.evaluate(args.eval_dir, args.out, entry_settings(args), splits=args.split, n_calls=args.calls,
                          versions=args.version, pads=args.pad, rebuild=args.rebuild, progress=progress)
    for rep in reports:
        print("\n".join(rep.lines()))
        if rep.split == "tune":
            print("\n".join(ra.edge_table([i for i in rep.items if i.detected])))
    last = [r for r in reports if r.split == "test"] or reports
    detected = [i for r in last for i in r.items if i.detected]
    print(f"digits_survived={sum(i.heard_after for i in detected if i.kind != 'person_name')} "
          f"names_survived={sum(i.heard_after for i in detected if i.kind == 'person_name')} "
          f"missed_items={sum(not i.detected for r in last for i in r.items)} "
          f"lost_s={sum(r.lost_s for r in last):.1f}")
    return 0


def register(sub, eval_sub) -> None:
    p = eval_sub.add_parser("redaction-audio", help="redacted numbers and names: still audible? (real voices, re-transcribed)")
    p.add_argument("eval_dir", type=Path, help="folder holding asr-dev/ and fosd-pool/ (../shared/eval)")
    p.add_argument("--out", type=Path, default=Path("var/redaction-audio"), help="where calls, warehouses and scores go")
    p.add_argument("--split", nargs="+", choices=("tune", "test"), default=["tune", "test"],
                   help="which half: tune (chose the padding) and/or test (reported)")
    p.add_argument("--calls", type=int, default=10, help="calls built per half")
    p.add_argument("--version", nargs="+", choices=("16k", "8k"), default=["16k", "8k"],
                   help="16 kHz PCM as built and/or the 8 kHz μ-law telephone copy")
    p.add_argument("--pad", nargs="+", type=_pad, default=None,
                   help="BEFORE/AFTER seconds of padding to try (default: the product's)")
    p.add_argument("--rebuild", action="store_true", help="build the calls again (else reuse those under --out)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=_eval)
