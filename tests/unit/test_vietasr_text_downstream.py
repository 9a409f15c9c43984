"""Downstream stages on viet-asr's kind of text: lower case, no punctuation, numbers spelled out.

Two sources: real viet-asr output on the demo calls (tests/data/vietasr_samples_output.tsv,
espeak voices, so mostly misheard) and the demo calls' own turns written the way viet-asr
writes (lower case, punctuation dropped: it already spells numbers as words).
"""

from __future__ import annotations

import csv
import json
import re

import pytest

from pipeline.analysis.pii import find_pii, redact
from pipeline.analysis.places import extract_places
from pipeline.analysis.urgency import detect_urgency
from pipeline.records import Segment
from pipeline.stages.transcribe import clean_segments
from pipeline.textnorm import normalize_text
from tests.helpers import DATA, REPO

OUTPUT = DATA / "vietasr_samples_output.tsv"


def _real_rows():
    with open(OUTPUT, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _as_vietasr_writes(text: str) -> str:
    """Lower case, punctuation removed: the form viet-asr writes (numbers are already words in the samples)."""
    return normalize_text(text)


def _turns():
    manifest = json.loads((REPO / "samples" / "manifest.json").read_text(encoding="utf-8"))
    return [(f, t["role"], _as_vietasr_writes(t["text"])) for f, m in manifest.items() for t in m["turns"]]


def test_real_output_looks_like_vietasr_and_passes_every_text_stage():
    rows = _real_rows()
    assert len(rows) >= 10
    for r in rows:
        text = r["hypothesis"]
        assert text == text.lower() and not re.search(r"[0-9.,?!]", text), text
        extract_places(text)
        detect_urgency(text)
        assert redact(text).text.count("[") == len(find_pii(text))
    # the loop / hallucination guards built for Whisper leave CTC output alone
    segs = [Segment(float(r["start_s"]), float(r["end_s"]), r["hypothesis"], confidence=1.0) for r in rows]
    kept, flags = clean_segments(segs)
    assert flags == [] and [s.text for s in kept] == [s.text for s in segs]


def test_spoken_phone_numbers_in_vietasr_form_are_redacted():
    phones = [t for _, _, t in _turns() if "số điện thoại của tôi là" in t]
    assert phones
    for text in phones:
        kinds = [p.kind for p in find_pii(text)]
        assert "phone" in kinds, text
        assert "không chín" not in redact(text).text


def test_places_are_found_without_capitals_or_commas():
    texts = {f: " ".join(t for g, _, t in _turns() if g == f) for f, _, _ in _turns()}
    found = {f: {p.kind for p in extract_places(t)} for f, t in texts.items()}
    # every demo call names a street or ward; capitals and commas are gone
    assert sum(bool(k & {"street", "ward"}) for k in found.values()) >= 4, found


@pytest.mark.parametrize("text", ["có người bị tai nạn giao thông ở ngã sáu cần cấp cứu gấp",
                                  "xe máy vừa ngã ở đó có người bị thương"])
def test_urgency_reads_unpunctuated_lower_case(text):
    assert detect_urgency(text).urgent
