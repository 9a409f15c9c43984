"""``hotline eval diarization-panel`` (:mod:`pipeline.eval.diarization_panel`): every
diarization variant on every panel set, side by side, with bootstrap intervals."""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.eval import diarization_panel as panel


def _panel(args) -> int:
    sets = panel.panel_sets(diar_eval=args.diar_eval, diar_real=args.diar_real, extra=args.set,
                            sample=not args.no_sample, limit=args.limit)
    if args.only:
        wanted = set(args.only.split(","))
        sets = [s for s in sets if s.name in wanted]
    variants = [panel.parse_variant(v) for v in (args.variant or ["now:"])]
    summaries = panel.run_panel(sets, variants, save_hyp=args.save_hyp,
                                progress=lambda line: print(line, file=sys.stderr, flush=True))
    print("\n".join(panel.report_lines(sets, summaries, resamples=args.resamples,
                                       tuned=args.tuned.split(",") if args.tuned else ())))
    return 0


def register(sub, eval_sub) -> None:
    p = eval_sub.add_parser("diarization-panel",
                            help="diarization variants side by side on the panel sets (bootstrap intervals, roles, time)")
    p.add_argument("--diar-eval", type=Path, default=None, metavar="DIR",
                   help="set folder of `hotline eval diarization-set mixes` (mixes16, mixes8, espeak)")
    p.add_argument("--diar-real", type=Path, default=None, metavar="DIR",
                   help="set folder of `hotline eval diarization-set real` (real16, real8, enrol.tsv)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=MANIFEST",
                   help="another set: a manifest with columns file, rttm (+ operator_ext, logged_ext; enrol.tsv beside it)")
    p.add_argument("--no-sample", action="store_true", help="leave out pyannote's sample")
    p.add_argument("--only", default="", metavar="NAMES", help="comma-separated set names to run")
    p.add_argument("--variant", action="append", metavar="NAME:key=value,...",
                   help="DiarizationOptions to compare; the first is the baseline (default: now:, the shipped options)")
    p.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples over files (default 2000)")
    p.add_argument("--limit", type=int, default=0, help="first N files of each manifest only")
    p.add_argument("--tuned", default=",".join(("mixes16", "mixes8", "espeak", "real16", "real8")),
                   help="sets the options were chosen on (the rest are reported as held out)")
    p.add_argument("--save-hyp", type=Path, default=None, metavar="DIR", help="write hypotheses as DIR/SET/VARIANT/*.rttm")
    p.set_defaults(func=_panel)
