"""``hotline eval places``: precision and recall of place extraction (:mod:`pipeline.eval.places`).

``hotline eval places --text tests/data/places_daklak_test.tsv`` scores a labelled text set as
written and as viet-asr-like text; ``hotline eval places HYP.tsv GOLD.tsv`` scores real
recogniser output. One line per side, each ending ``precision=0.xxx recall=0.xxx``.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import HotlineError
from pipeline.eval import places


def _eval(args) -> int:
    try:
        if args.text is not None:
            if args.files:
                raise HotlineError("give either --text FILE or HYP.tsv GOLD.tsv, not both")
            sides = places.score_text_set(args.text, variants=args.variants, seed=args.seed)
        elif len(args.files) == 2:
            sides = places.score_recogniser_output(*args.files)
        else:
            raise HotlineError("give --text FILE.tsv, or the recogniser output HYP.tsv and the gold GOLD.tsv")
    except (OSError, KeyError, ValueError) as exc:
        raise HotlineError(f"cannot score places: {exc}") from exc
    for side in sides:
        print(side.line())
    return 0


def register(sub, eval_sub) -> None:
    p = eval_sub.add_parser("places", help="precision/recall of place extraction on a labelled text set or ASR output")
    p.add_argument("files", nargs="*", type=Path, metavar="HYP.tsv GOLD.tsv",
                   help="recogniser output (file, reference, hypothesis) and the places really said (file, kind, name)")
    p.add_argument("--text", type=Path, default=None, help="TSV with columns text, places (kind:name|…)")
    p.add_argument("--variants", type=int, default=5, help="viet-asr-like renderings of each text (--text)")
    p.add_argument("--seed", type=int, default=16, help="seed of the renderings (--text)")
    p.set_defaults(func=_eval)
