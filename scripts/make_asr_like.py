"""Write ASR-like variants of a labelled topic TSV (columns ``text``, ``labels``).

Imitates what Whisper base writes for Vietnamese telephone speech, with noise that
differs on purpose from the augmentation used at training time
(:func:`models.asr_noise.make_asr_like`): besides lost diacritics and wrong tones it
confuses initial and final consonants the way southern and central speakers are
misheard (s/x, tr/ch, d/gi/r/v, n/ng…), repeats and drops syllables, inserts
hesitations. Seeded, so the output is reproducible::

    .venv/bin/python scripts/make_asr_like.py tests/data/topics_test.tsv \
        tests/data/topics_test_asr.tsv --seed 1022

``--style vietasr`` writes the default recogniser's kind of errors instead
(:mod:`models.asr_noise`), e.g. ``tests/data/topics_v2_test_vietasr.tsv``.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.asr_noise import swap_tone  # noqa: E402
from models.topic_training import read_topic_tsv  # noqa: E402
from pipeline.textnorm import fold_accents, normalize_text  # noqa: E402

# (written, heard) pairs at the start of a syllable; each applies both ways.
_INITIALS = [("tr", "ch"), ("s", "x"), ("gi", "d"), ("r", "d"), ("v", "d"), ("l", "n")]
# Final consonants that merge in southern speech.
_FINALS = [("n", "ng"), ("t", "c"), ("nh", "n")]
_HESITATIONS = ("ờ", "ừm", "à", "ơ", "dạ dạ", "cái", "nói chung là", "thì là")


def _confuse_consonant(syl: str, rng: random.Random) -> str:
    pairs = [(a, b) for a, b in _INITIALS] + [(b, a) for a, b in _INITIALS]
    rng.shuffle(pairs)
    for a, b in pairs:
        if syl.startswith(a) and not (a == "g" and syl.startswith("gi")):
            return b + syl[len(a):]
    for a, b in _FINALS + [(b, a) for a, b in _FINALS]:
        if syl.endswith(a):
            return syl[: -len(a)] + b
    return syl


def asr_like(
    text: str,
    rng: random.Random,
    *,
    fold_word: float = 0.5,  # probability per syllable of losing its diacritics
    tone: float = 0.06,  # probability per syllable of a wrong tone
    consonant: float = 0.07,  # probability per syllable of a misheard consonant
    drop: float = 0.06,  # probability per syllable of being dropped
    repeat: float = 0.03,  # probability per syllable of being said twice
    hesitate: float = 0.04,  # probability per syllable of a hesitation before it
) -> str:
    """One noisy, lower-case, unpunctuated version of ``text``."""
    out: list[str] = []
    for syl in normalize_text(text).split():
        r = rng.random()
        if r < drop:
            continue
        if rng.random() < hesitate:
            out.append(rng.choice(_HESITATIONS))
        if rng.random() < consonant:
            syl = _confuse_consonant(syl, rng)
        if rng.random() < tone:
            syl = swap_tone(syl, rng)
        if rng.random() < fold_word:
            syl = fold_accents(syl)
        out.append(syl)
        if rng.random() < repeat:
            out.append(syl)
    return " ".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="TSV with columns text, labels")
    parser.add_argument("target", type=Path, help="TSV to write, same labels")
    parser.add_argument("--seed", type=int, default=1022)
    parser.add_argument("--style", choices=("whisper", "vietasr"), default="whisper",
                        help="whisper: this script's noise (lost diacritics…); vietasr: models.asr_noise "
                             "(diacritics kept, misheard syllables, numbers as words)")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    rows = read_topic_tsv(args.source)
    if args.style == "vietasr":
        from models.asr_noise import vietasr_like_rows

        out = vietasr_like_rows(rows, args.seed)  # also what `hotline eval topics --vietasr-like SEED` scores
    else:
        out = [(asr_like(text, rng), labels) for text, labels in rows]
    with open(args.target, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", quoting=csv.QUOTE_NONE, lineterminator="\n")
        writer.writerow(["text", "labels"])
        for text, labels in out:
            writer.writerow([text, ",".join(labels)])
    print(f"wrote {len(rows)} rows to {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
