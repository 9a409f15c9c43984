"""The recogniser contract of tests/unit/test_asr_contract.py, run against each real adapter:
Whisper base (CTranslate2), viet-asr through its graph and through its SDK, on tests/data/short_vi.wav.

The tests are the unit file's own (imported, so there is one contract); only ``rec`` differs.
They check the shape of what a recogniser returns (times inside the clip, words inside their
segment, probabilities in 0..1), never its text, so int8 rounding on any CPU leaves them alone.
"""

from __future__ import annotations

import pytest

from tests.unit.test_asr_contract import (  # noqa: F401  (the contract's tests and its clip fixture)
    clip,
    test_bare_runs_on_the_same_input,
    test_eight_khz_calls_are_transcribed,
    test_find_speech_gives_ordered_stretches_inside_the_clip,
    test_it_implements_the_protocol,
    test_language_probabilities_are_probabilities,
    test_recognize_returns_project_segments_with_times_words_and_confidence,
    test_transcribe_call_works_through_the_protocol_alone,
)


def _load(name: str):
    if name.startswith("viet-asr"):
        pytest.importorskip("vietasr")
    from models.registry import load_recognizer
    from tests.conftest import MODEL_CACHE

    if name == "base":
        return load_recognizer("base", cache_dir=MODEL_CACHE, device="cpu", compute_type="int8", cpu_threads=2)
    return load_recognizer(name, cache_dir=MODEL_CACHE)


@pytest.fixture(scope="module", params=["base", "viet-asr", "viet-asr-sdk"],
                ids=["whisper-base", "viet-asr", "viet-asr-sdk"])
def rec(request):
    return _load(request.param)
