"""Precision and recall of place extraction (``hotline eval places``).

Two inputs:

- a **text set** (``--text FILE.tsv``, as ``tests/data/places_daklak_test.tsv``): columns
  ``text`` and gold ``places`` (``kind:name|…``), scored on the text as written and on
  ``variants`` viet-asr-like renderings of it (:func:`models.asr_noise.vietasr_like` at the
  measured error rates, seeded);
- **real recogniser output** (``HYP.tsv GOLD.tsv``): HYP has columns ``file``, ``reference``,
  ``hypothesis`` (derived from ../shared/eval, kept under var/); GOLD (as
  ``tests/data/places_vietasr_gold.tsv``) lists per clip the places really said (``file``,
  ``kind``, ``name``); a clip without a gold row said none. Scored on the hypothesis and, for
  comparison, on the reference.

A predicted place counts as right when its kind group (administrative unit / street / number /
hamlet) and its accent-folded name match a gold place of the text (one letter of difference
allowed). Lines starting with ``#`` are comments.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from models.asr_noise import syllable_vocab, vietasr_like
from pipeline.analysis.places import extract_places
from pipeline.textnorm import fold_accents

GROUP = {"ward": "admin", "commune": "admin", "town": "admin", "district": "admin", "province": "admin",
         "street": "street", "alley": "number", "house_number": "number", "hamlet": "hamlet"}
AS_OF = date(2026, 1, 1)  # the call date the text set is read at (its admin units are the 2025 map's)

Key = tuple[str, str]  # (kind group, accent-folded name without spaces)


@dataclass(frozen=True)
class PlaceScore:
    """One scored side (``written``, ``vietasr-like``, ``hypothesis``, ``reference``)."""

    label: str
    texts: int  # texts (or clips) scored
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def line(self) -> str:
        """``LABEL texts=N gold=N predicted=N tp=N fp=N fn=N precision=0.xxx recall=0.xxx``."""
        return (f"{self.label:<13} texts={self.texts} gold={self.tp + self.fn} predicted={self.tp + self.fp} "
                f"tp={self.tp} fp={self.fp} fn={self.fn} precision={self.precision:.3f} recall={self.recall:.3f}")


def key(kind: str, name: str) -> Key:
    return GROUP.get(kind, kind), fold_accents(name).replace(" ", "")


def score(label: str, pairs: Iterable[tuple[Sequence[Key], Sequence[Key]]]) -> PlaceScore:
    """Match each text's predicted keys to its gold keys (same group, ≤ 1 letter apart), once each."""
    tp = fp = fn = n = 0
    for pred, gold in pairs:
        n += 1
        left = list(gold)
        for p in pred:
            hit = next((g for g in left if g[0] == p[0] and Levenshtein.distance(g[1], p[1]) <= 1), None)
            if hit:
                tp += 1
                left.remove(hit)
            else:
                fp += 1
        fn += len(left)
    return PlaceScore(label, n, tp, fp, fn)


def _rows(path: Path, **kw) -> Iterator[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        yield from csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t", **kw)


def _predicted(text: str, as_of: date | None = None) -> list[Key]:
    return [key(p.kind, p.name) for p in extract_places(text, as_of=as_of)]


def score_text_set(path: Path, *, variants: int = 5, seed: int = 16) -> tuple[PlaceScore, PlaceScore]:
    """The text set scored as written and as ``variants`` viet-asr-like renderings of each text."""
    rows = [(r["text"], [key(*p.split(":", 1)) for p in r["places"].split("|") if p])
            for r in _rows(path, quoting=csv.QUOTE_NONE)]
    rng = random.Random(seed)
    vocab = syllable_vocab(t for t, _ in rows)
    written = score("written", ((_predicted(t, AS_OF), gold) for t, gold in rows))
    noisy = [(vietasr_like(t, rng, vocab=vocab), gold) for t, gold in rows for _ in range(variants)]
    like = score("vietasr-like", ((_predicted(t, AS_OF), gold) for t, gold in noisy))
    return written, like


def score_recogniser_output(hyp_path: Path, gold_path: Path) -> tuple[PlaceScore, PlaceScore]:
    """Real recogniser output against the gold places: the hypothesis, then the reference."""
    gold: dict[str, list[Key]] = defaultdict(list)
    for row in _rows(gold_path):
        gold[Path(row["file"]).name].append(key(row["kind"], row["name"]))
    rows = list(_rows(hyp_path, quoting=csv.QUOTE_NONE))
    return tuple(score(side, ((_predicted(r[side]), gold.get(Path(r["file"]).name, [])) for r in rows))
                 for side in ("hypothesis", "reference"))
