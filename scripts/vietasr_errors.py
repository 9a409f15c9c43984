"""What kinds of errors viet-asr makes: syllable alignment of reference vs hypothesis.

    PYTHONPATH=$PWD .venv/bin/python scripts/vietasr_errors.py var/eval/vietasr_hyp.tsv

Input: TSV with columns ``reference`` and ``hypothesis`` (viet-asr run on
../shared/eval clips, written under var/). Output: aggregate rates only (per reference
syllable: substitutions by kind, deletions, insertions), which
:mod:`models.asr_noise` uses as its defaults. No clip text is printed or stored.
"""

from __future__ import annotations

import csv
import sys
import unicodedata
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.textnorm import fold_accents, normalize_text  # noqa: E402

_TONES = "\u0300\u0301\u0309\u0303\u0323"
_INITIALS = sorted("ngh ng gh gi kh ph th tr ch nh qu b c d đ g h k l m n p r s t v x".split(), key=len, reverse=True)


def align(ref: list[str], hyp: list[str]) -> list[tuple[str | None, str | None]]:
    """Levenshtein alignment: pairs (ref, hyp), None for an insertion/deletion side."""
    n, m = len(ref), len(hyp)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]))
    out, i, j = [], n, m
    while i or j:
        if i and j and d[i][j] == d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            out.append((ref[i - 1], hyp[j - 1]))
            i, j = i - 1, j - 1
        elif i and d[i][j] == d[i - 1][j] + 1:
            out.append((ref[i - 1], None))
            i -= 1
        else:
            out.append((None, hyp[j - 1]))
            j -= 1
    return out[::-1]


def parts(syl: str) -> tuple[str, str, str]:
    """(initial, rhyme without tone, tone mark) of a syllable."""
    nfd = unicodedata.normalize("NFD", syl)
    tone = "".join(ch for ch in nfd if ch in _TONES)
    bare = unicodedata.normalize("NFC", "".join(ch for ch in nfd if ch not in _TONES))
    ini = next((i for i in _INITIALS if bare.startswith(i) and len(bare) > len(i)), "")
    return ini, bare[len(ini):], tone


def kind_of(ref: str, hyp: str) -> str:
    if fold_accents(ref) == fold_accents(hyp):
        return "diacritic_only"
    ri, rr, rt = parts(ref)
    hi, hr, ht = parts(hyp)
    if ri != hi and rr == hr:
        return "initial"
    if ri == hi and rr != hr:
        return "rhyme"
    return "other"


def main(argv=None) -> int:
    path = Path((argv or sys.argv[1:])[0])
    counts: Counter = Counter()
    n_ref = 0
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            ref = normalize_text(row["reference"]).split()
            hyp = normalize_text(row["hypothesis"]).split()
            n_ref += len(ref)
            for r, h in align(ref, hyp):
                if r is None:
                    counts["insertion"] += 1
                elif h is None:
                    counts["deletion"] += 1
                elif r != h:
                    counts["sub_" + kind_of(r, h)] += 1
                else:
                    counts["correct"] += 1
    print(f"reference syllables: {n_ref}")
    for k in sorted(counts):
        print(f"{k:<22} {counts[k]:6d}  {counts[k] / n_ref:.4f} per reference syllable")
    errors = sum(v for k, v in counts.items() if k != "correct")
    print(f"syllable error rate    {errors / n_ref:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
