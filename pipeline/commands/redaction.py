"""``hotline eval redaction FILE.tsv``: span-level precision and recall of PII redaction.

FILE.tsv has the columns ``text`` and ``spans`` (JSON list of ``[kind, substring]``),
as ``tests/data/pii_cases.tsv``. A gold span counts as found when a predicted span of
the same kind covers at least 80 % of it (:func:`pipeline.pii.score_redaction`).
The last line printed is ``precision=0.xxx recall=0.xxx n=N`` (N = cases).
``--asr-form`` scores the cases written as the recogniser writes (lower case,
punctuation replaced by spaces); ``--no-accents`` also strips every diacritic. Both keep
one character per character, so the gold spans stay where they are.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from pipeline.pii import KINDS, PiiCase, PiiSpan, covers, find_pii, read_pii_cases, score_redaction


def _asr_form(text: str) -> str:
    return re.sub(r"[^\w\s']", " ", text.lower())


def _no_accents(text: str) -> str:
    text = _asr_form(text).replace("đ", "d")
    out = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.category(c).startswith("M"))
    return out if len(out) == len(text) else text


def _rewritten(cases, transform):
    out = []
    for c in cases:
        t = transform(c.text)
        if len(t) != len(c.text):
            t = c.text  # a character that does not fold one-to-one: keep the case as written
        out.append(PiiCase(t, tuple(PiiSpan(s.kind, s.start, s.end, t[s.start : s.end]) for s in c.spans)))
    return tuple(out)


def _eval(args) -> int:
    cases = read_pii_cases(args.cases)
    if args.no_accents:
        cases = _rewritten(cases, _no_accents)
    elif args.asr_form:
        cases = _rewritten(cases, _asr_form)
    scores = score_redaction(cases)
    print(f"{'kind':<14}{'gold':>6}{'pred':>6}{'found':>7}{'correct':>9}{'precision':>11}{'recall':>8}")
    for kind in (*KINDS, "all"):
        s = scores[kind]
        print(
            f"{kind:<14}{s.gold:>6}{s.predicted:>6}{s.found:>7}{s.correct:>9}"
            f"{s.precision:>11.3f}{s.recall:>8.3f}"
        )
    if args.errors:
        # Line numbers and kinds only: the text may hold real personal data.
        for line, case in enumerate(cases, start=2):
            pred = find_pii(case.text)
            missed = [g.kind for g in case.spans if not any(covers(p, g) for p in pred)]
            wrong = [p.kind for p in pred if not any(covers(p, g) for g in case.spans)]
            if missed or wrong:
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
