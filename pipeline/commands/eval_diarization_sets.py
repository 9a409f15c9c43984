"""``hotline eval diarization-set mixes|real`` (:mod:`pipeline.eval.diarization_sets`): build the
diarization evaluation sets from evaluation data read in place, under an ignored folder."""

from __future__ import annotations

from pathlib import Path

from pipeline.eval import diarization_sets as sets


def _build(args) -> int:
    if args.kind == "mixes":
        sets.build_mixes(args.source, args.out, calls=args.calls or 8, seed=args.seed or 1022,
                         log=lambda line: print(line, flush=True))
    else:
        sets.build_real(args.source, args.out, calls=args.calls or 10, seed=args.seed or 1907, louder=args.louder,
                        log=lambda line: print(line, flush=True))
    return 0


def register(sub, eval_sub) -> None:
    p = eval_sub.add_parser("diarization-set", help="build a diarization evaluation set (two-voice calls) from eval data")
    p.add_argument("kind", choices=("mixes", "real"),
                   help="mixes: VIVOS/FOSD mixes + espeak-ng calls from asr-dev; real: two real voices a call from a pool")
    p.add_argument("source", type=Path, help="asr-dev folder (mixes) or fosd-pool folder (real), read in place")
    p.add_argument("--out", type=Path, required=True, help="output folder under var/ (derived from eval data: never commit)")
    p.add_argument("--calls", type=int, default=0, help="calls to build (default 8 mixes, 10 real)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 1022 mixes, 1907 real)")
    p.add_argument("--louder", choices=("operator", "random"), default="operator",
                   help="real: which side is 2-8 dB louder (default the operator, as the first build)")
    p.set_defaults(func=_build)
