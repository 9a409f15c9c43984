"""``hotline eval redaction FILE.tsv``: span-level precision and recall of PII redaction
(:mod:`pipeline.eval.redaction`). The last line printed is
``precision=0.xxx recall=0.xxx n=N`` (N = cases)."""

from __future__ import annotations

from pathlib import Path

from pipeline.analysis.pii import KINDS
from pipeline.eval import redaction


def _eval(args) -> int:
    cases = redaction.read_cases(args.cases, asr=args.asr_form, accentless=args.no_accents)
    scores = redaction.score_redaction(cases)
    print(f"{'kind':<14}{'gold':>6}{'pred':>6}{'found':>7}{'correct':>9}{'precision':>11}{'recall':>8}")
    for kind in (*KINDS, "all"):
        s = scores[kind]
        print(
            f"{kind:<14}{s.gold:>6}{s.predicted:>6}{s.found:>7}{s.correct:>9}"
            f"{s.precision:>11.3f}{s.recall:>8.3f}"
        )
    if args.errors:
        # Line numbers and kinds only: the text may hold real personal data.
        for line, missed, wrong in redaction.errors(cases):
            print(f"line {line}: missed {missed or '-'} false {wrong or '-'}")
    total = scores["all"]
    print(f"precision={total.precision:.3f} recall={total.recall:.3f} n={len(cases)}")
    return 0


def register(sub, eval_sub) -> None:
    p = eval_sub.add_parser("redaction", help="precision/recall of PII redaction on a TSV of cases")
    p.add_argument("cases", type=Path, help="TSV with columns text, spans (JSON list of [kind, substring])")
    p.add_argument("--errors", action="store_true", help="list line numbers and kinds of misses and false spans")
    p.add_argument("--asr-form", action="store_true", help="score the cases in lower case without punctuation")
    p.add_argument("--no-accents", action="store_true", help="… and without diacritics")
    p.set_defaults(func=_eval)
