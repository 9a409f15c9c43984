"""Span-level precision and recall of PII redaction (``hotline eval redaction FILE.tsv``).

FILE.tsv has the columns ``text`` and ``spans`` (JSON list of ``[kind, substring]``),
as ``tests/data/pii_cases.tsv`` (read by :func:`pipeline.analysis.pii.read_pii_cases`). A gold
span counts as found when a predicted span of the same kind covers at least 80 % of it
(:func:`pipeline.analysis.pii.score_redaction`). ``asr_form`` scores the cases written as the
recogniser writes (lower case, punctuation replaced by spaces); ``no_accents`` also
strips every diacritic. Both keep one character per character, so the gold spans stay
where they are.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path

from pipeline.analysis.pii import PiiCase, PiiSpan, covers, find_pii, read_pii_cases


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

