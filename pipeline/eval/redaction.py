"""Span-level precision and recall of PII redaction (``hotline eval redaction FILE.tsv``).

FILE.tsv has the columns ``text`` and ``spans`` (JSON list of ``[kind, substring]``),
as ``tests/data/pii_cases.tsv`` (read by :func:`read_pii_cases`). A gold span counts as
found when a predicted span of the same kind covers at least 80 % of it
(:func:`score_redaction`). ``asr_form`` scores the cases written as the
recogniser writes (lower case, punctuation replaced by spaces); ``no_accents`` also
strips every diacritic. Both keep one character per character, so the gold spans stay
where they are.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.analysis.pii import KINDS, PiiSpan, find_pii
from pipeline.errors import HotlineError


class PiiCasesError(HotlineError):
    """The PII evaluation file is unreadable or malformed."""

    exit_code = 2



@dataclass(frozen=True)
class PiiCase:
    text: str
    spans: tuple[PiiSpan, ...]  # gold spans


@dataclass(frozen=True)
class KindScore:
    gold: int  # gold spans of this kind
    predicted: int  # predicted spans of this kind
    found: int  # gold spans covered by a prediction of the same kind
    correct: int  # predictions that cover a gold span of the same kind

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 1.0


COVER = 0.8  # a gold span counts as found when a same-kind prediction covers this share of it


def read_pii_cases(path: str | Path) -> tuple[PiiCase, ...]:
    """Read a TSV of cases: columns ``text`` and ``spans`` (JSON list of [kind, substring]).

    Repeated substrings are located in order of appearance. Raises
    :class:`PiiCasesError` naming the line for a bad row.
    """
    path = Path(path)
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    except OSError as exc:
        raise PiiCasesError(f"{path}: cannot read ({exc.strerror})") from exc
    if not rows or "text" not in rows[0] or "spans" not in rows[0]:
        raise PiiCasesError(f"{path}: needs a header line with the columns text and spans, tab-separated")
    cases = []
    for line, row in enumerate(rows, start=2):
        text = row["text"] or ""
        try:
            gold = json.loads(row["spans"] or "[]")
        except json.JSONDecodeError as exc:
            raise PiiCasesError(f"{path}:{line}: spans is not JSON ({exc.msg})") from None
        spans, searched = [], {}
        for item in gold:
            if not (isinstance(item, list) and len(item) == 2 and item[0] in KINDS):
                raise PiiCasesError(f"{path}:{line}: span {item!r} is not [kind, substring] with kind in {KINDS}")
            kind, sub = item
            s = text.find(sub, searched.get(sub, 0))
            if s < 0:
                raise PiiCasesError(f"{path}:{line}: {kind} substring not found in the text")
            searched[sub] = s + len(sub)
            spans.append(PiiSpan(kind, s, s + len(sub), sub))
        cases.append(PiiCase(text, tuple(spans)))
    return tuple(cases)


def covers(pred: PiiSpan, gold: PiiSpan) -> bool:
    """True when ``pred`` has the kind of ``gold`` and covers at least COVER of it."""
    overlap = min(pred.end, gold.end) - max(pred.start, gold.start)
    return pred.kind == gold.kind and overlap >= COVER * (gold.end - gold.start)


def score_redaction(cases: Iterable[PiiCase]) -> dict[str, KindScore]:
    """Span-level scores per kind, plus ``"all"``.

    A gold span is found when a predicted span of the same kind covers ≥ 80 % of
    it; a prediction is correct when it covers some gold span that way.
    """
    counts = {k: [0, 0, 0, 0] for k in KINDS}
    for case in cases:
        pred = find_pii(case.text)
        for g in case.spans:
            counts[g.kind][0] += 1
            counts[g.kind][2] += any(covers(p, g) for p in pred)
        for p in pred:
            counts[p.kind][1] += 1
            counts[p.kind][3] += any(covers(p, g) for g in case.spans)
    scores = {k: KindScore(*v) for k, v in counts.items()}
    scores["all"] = KindScore(*(sum(v[i] for v in counts.values()) for i in range(4)))
    return scores


def evaluate_redaction(path: str | Path) -> tuple[float, float, int]:
    """Overall span-level ``(precision, recall, n)`` on a cases file; ``n`` = number of cases."""
    cases = read_pii_cases(path)
    total = score_redaction(cases)["all"]
    return total.precision, total.recall, len(cases)


def asr_form(text: str) -> str:
    """``text`` as the recogniser writes it: lower case, punctuation replaced by spaces."""
    return re.sub(r"[^\w\s']", " ", text.lower())


def no_accents(text: str) -> str:
    """:func:`asr_form` without diacritics (``đ`` → ``d``); unchanged when a character does not fold one-to-one."""
    text = asr_form(text).replace("đ", "d")
    out = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.category(c).startswith("M"))
    return out if len(out) == len(text) else text


def rewritten(cases: Sequence[PiiCase], transform) -> tuple[PiiCase, ...]:
    """The cases with their text passed through ``transform``, gold spans kept in place."""
    out = []
    for c in cases:
        t = transform(c.text)
        if len(t) != len(c.text):
            t = c.text  # a character that does not fold one-to-one: keep the case as written
        out.append(PiiCase(t, tuple(PiiSpan(s.kind, s.start, s.end, t[s.start : s.end]) for s in c.spans)))
    return tuple(out)


def read_cases(path: Path, *, asr: bool = False, accentless: bool = False) -> tuple[PiiCase, ...]:
    """The cases of ``path``, rewritten in ASR form (``asr``) or also without accents (``accentless``)."""
    cases = read_pii_cases(path)
    if accentless:
        return rewritten(cases, no_accents)
    if asr:
        return rewritten(cases, asr_form)
    return tuple(cases)


def errors(cases: Sequence[PiiCase]) -> Iterator[tuple[int, list[str], list[str]]]:
    """(line of the case in its TSV, kinds of gold spans missed, kinds of false spans) per case
    with an error. Kinds only: the text may hold real personal data."""
    for line, case in enumerate(cases, start=2):
        pred = find_pii(case.text)
        missed = [g.kind for g in case.spans if not any(covers(p, g) for p in pred)]
        wrong = [p.kind for p in pred if not any(covers(p, g) for g in case.spans)]
        if missed or wrong:
            yield line, missed, wrong

