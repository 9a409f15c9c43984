"""Missed-speech breakdown and gap filling (pipeline/eval/diarization_errors.py)."""

import pytest

from pipeline.eval.diarization_errors import fill_short_gaps, missed_breakdown
from pipeline.records import SpeakerTurn as T


def test_each_kind_of_miss_lands_in_its_category():
    reference = [T(0.0, 4.0, "op"), T(3.5, 8.0, "cit"), T(10.0, 12.0, "cit")]
    hypothesis = [
        T(0.2, 1.9, "A"),  # 0.2 s missed at the start: edge
        T(2.1, 4.0, "A"),  # 0.2 s pause not bridged: short gap (1.9-2.1)
        T(4.0, 8.0, "B"),  # ref overlap 3.5-4.0 with one hyp speaker: 0.5 s missed
        # 10-12 not found at all: 0.25 s edges each side, 1.5 s interior
    ]
    b = missed_breakdown(reference, hypothesis)
    assert b.reference_s == pytest.approx(4.0 + 4.5 + 2.0)
    assert b.missed_s["edge"] == pytest.approx(0.2 + 0.5, abs=1e-6)
    assert b.missed_s["short_gap"] == pytest.approx(0.2, abs=1e-6)
    assert b.missed_s["overlap"] == pytest.approx(0.5, abs=1e-6)
    assert b.missed_s["interior"] == pytest.approx(1.5, abs=1e-6)
    assert b.by_speaker["cit"][0] == pytest.approx(0.25 + 2.0, abs=1e-6)


def test_a_perfect_hypothesis_misses_nothing_and_filling_closes_short_gaps():
    reference = [T(0.0, 2.0, "a"), T(2.5, 4.0, "b")]
    assert missed_breakdown(reference, [T(0.0, 2.0, "x"), T(2.5, 4.0, "y")]).missed_total == 0.0
    turns = [T(0.0, 1.0, "x"), T(1.2, 2.0, "x"), T(2.1, 3.0, "y"), T(3.8, 4.0, "x")]
    filled = fill_short_gaps(turns, 0.3)
    assert filled == (T(0.0, 2.0, "x"), T(2.1, 3.0, "y"), T(3.8, 4.0, "x"))
    assert fill_short_gaps(turns, 0.0) == tuple(turns)
