"""Score underthesea's NER as a person-name finder on a PII cases file, beside ours.

underthesea is no dependency of the project (its NER was measured and not used, see
docs/names.md). To rerun the measurement, install it outside the venv and put it on the
path after the project:

    pip install --target /tmp/ut underthesea==9.5.0
    PYTHONPATH=$PWD:/tmp/ut .venv/bin/python scripts/research/eval_names_ner.py tests/data/pii_names.tsv

Prints one line per finder: precision, recall, and how many place negatives (cases with
no gold span) got a name.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.analysis.pii import PiiSpan, find_pii
from pipeline.eval.redaction import covers, read_pii_cases


def _ner_spans(text: str, ner) -> list[PiiSpan]:
    """B-PER/I-PER runs of underthesea's ``ner`` as spans into ``text``."""
    spans, pos, cur = [], 0, None
    for item in ner(text):
        word, tag = item[0], item[-1]
        s = text.find(word, pos)
        if s < 0:
            continue
        e = pos = s + len(word)
        if tag == "B-PER" or (tag == "I-PER" and cur is None):
            if cur:
                spans.append(cur)
            cur = [s, e]
        elif tag == "I-PER":
            cur[1] = e
        elif cur:
            spans.append(cur)
            cur = None
    if cur:
        spans.append(cur)
    return [PiiSpan("person_name", s, e, text[s:e]) for s, e in spans]


def _score(cases, find) -> str:
    gold = pred = found = correct = places = 0
    for c in cases:
        ps = [p for p in find(c.text) if p.kind == "person_name"]
        gs = [g for g in c.spans if g.kind == "person_name"]
        gold, pred = gold + len(gs), pred + len(ps)
        found += sum(any(covers(p, g) for p in ps) for g in gs)
        correct += sum(any(covers(p, g) for g in gs) for p in ps)
        places += not c.spans and bool(ps)
    negatives = sum(1 for c in cases if not c.spans)
    return (f"precision={correct / pred if pred else 1.0:.3f} recall={found / gold if gold else 1.0:.3f} "
            f"place_negatives_with_a_name={places}/{negatives}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases", type=Path)
    args = ap.parse_args()
    try:
        from underthesea import ner
    except ImportError:
        print("underthesea is not importable: see this script's docstring", file=sys.stderr)
        return 2
    cases = read_pii_cases(args.cases)
    print(f"underthesea {_score(cases, lambda t: _ner_spans(t, ner))}")
    print(f"pipeline.analysis.names {_score(cases, find_pii)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
