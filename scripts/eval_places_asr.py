"""Precision and recall of place extraction on real recogniser output.

    PYTHONPATH=$PWD .venv/bin/python scripts/eval_places_asr.py var/eval/places_vietasr.tsv \
        tests/data/places_vietasr_gold.tsv

The first file (under var/, never committed: it is derived from ../shared/eval) has
columns ``file``, ``reference``, ``hypothesis``: viet-asr's output for every eval clip
whose reference mentions a place word (``var/eval/run_vietasr_places.py`` writes it).
The gold file (committed) lists, per clip, the places really said (``file``, ``kind``,
``name``); clips without a gold row said none, however many "đường" or "thôn" they
contain ("đường dây", "nông thôn"). A predicted place counts as right when its kind
group (administrative unit / street / number / hamlet) and its accent-folded name
match a gold place of the clip (one letter of difference allowed). Scored on the
hypothesis and, for comparison, on the reference.
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rapidfuzz.distance import Levenshtein  # noqa: E402

from pipeline.analysis.places import extract_places  # noqa: E402
from pipeline.textnorm import fold_accents  # noqa: E402

GROUP = {"ward": "admin", "commune": "admin", "town": "admin", "district": "admin", "province": "admin",
         "street": "street", "alley": "number", "house_number": "number", "hamlet": "hamlet"}


def _key(kind: str, name: str) -> tuple[str, str]:
    return GROUP.get(kind, kind), fold_accents(name).replace(" ", "")


def score(pairs):
    tp = fp = fn = 0
    for pred, gold in pairs:
        left = list(gold)
        for p in pred:
            hit = next((g for g in left if g[0] == p[0] and Levenshtein.distance(g[1], p[1]) <= 1), None)
            if hit:
                tp += 1
                left.remove(hit)
            else:
                fp += 1
        fn += len(left)
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    return tp, fp, fn, prec, rec


def text_mode(path: str, variants: int = 5, seed: int = 16) -> int:
    """``--text FILE``: a TSV of ``text`` and gold ``places`` (``kind:name|…``), scored on
    the text as written and on ``variants`` viet-asr-like renderings of it
    (:func:`models.asr_noise.vietasr_like` at the measured error rates)."""
    import random
    from datetime import date

    from models.asr_noise import syllable_vocab, vietasr_like

    rows = []
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t", quoting=csv.QUOTE_NONE):
            gold = [_key(*p.split(":", 1)) for p in row["places"].split("|") if p]
            rows.append((row["text"], gold))
    rng = random.Random(seed)
    vocab = syllable_vocab(t for t, _ in rows)
    for label, texts in [("written", [[t] for t, _ in rows]),
                         ("vietasr-like", [[vietasr_like(t, rng, vocab=vocab) for _ in range(variants)] for t, _ in rows])]:
        pairs = [([_key(p.kind, p.name) for p in extract_places(v, as_of=date(2026, 1, 1))], gold)
                 for vs, (_, gold) in zip(texts, rows) for v in vs]
        tp, fp, fn, prec, rec = score(pairs)
        print(f"{label:<13} texts={len(pairs)} gold={tp + fn} predicted={tp + fp} tp={tp} fp={fp} fn={fn} "
              f"precision={prec:.3f} recall={rec:.3f}")
    return 0


def main(argv=None) -> int:
    argv = list(argv or sys.argv[1:])
    if argv and argv[0] == "--text":
        return text_mode(argv[1])
    hyp_path, gold_path = argv[:2]
    gold = defaultdict(list)
    with open(gold_path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t"):
            gold[Path(row["file"]).name].append(_key(row["kind"], row["name"]))
    rows = list(csv.DictReader(open(hyp_path, encoding="utf-8", newline=""), delimiter="\t", quoting=csv.QUOTE_NONE))
    for side in ("hypothesis", "reference"):
        pairs = []
        for r in rows:
            pred = [_key(p.kind, p.name) for p in extract_places(r[side])]
            pairs.append((pred, gold.get(Path(r["file"]).name, [])))
        tp, fp, fn, prec, rec = score(pairs)
        print(f"{side:<10} clips={len(rows)} gold={tp + fn} predicted={tp + fp} tp={tp} fp={fp} fn={fn} "
              f"precision={prec:.3f} recall={rec:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
