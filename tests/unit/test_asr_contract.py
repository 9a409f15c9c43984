"""One contract for every recogniser of the ASR protocol (models/recognizer.py).

Here against the fake recogniser; tests/integration/test_recognizer_contract.py runs the same
tests against each real adapter (Whisper base, viet-asr through its graph, viet-asr through its
SDK) on the same short clip (tests/data/short_vi.wav, 5 s).
"""

from __future__ import annotations

import numpy as np
import pytest

from models.recognizer import Capabilities, FakeRecognizer, Recognizer
from pipeline.records import DecodedAudio, Segment
from pipeline.stages.audio import decode_audio
from pipeline.stages.transcribe import SAMPLE_RATE, TranscribeOptions, transcribe_call
from tests.helpers import DATA

CLIP = DATA / "short_vi.wav"


def _fake():
    return FakeRecognizer(texts=("rác ở đường y jút", "phường tân tiến không được thu gom"))


RECOGNIZERS = [pytest.param(_fake, id="fake")]  # the real adapters: tests/integration/test_recognizer_contract.py

_CACHE: dict = {}


@pytest.fixture(params=RECOGNIZERS)
def rec(request):
    factory = request.param
    if factory not in _CACHE:
        _CACHE[factory] = factory()
    return _CACHE[factory]


@pytest.fixture(scope="module")
def clip() -> DecodedAudio:
    return decode_audio(CLIP)


def test_it_implements_the_protocol(rec):
    assert isinstance(rec, Recognizer)
    assert isinstance(rec.capabilities, Capabilities)
    assert rec.capabilities.word_times in {"model", "approximate"}
    assert rec.capabilities.confidence in {"model", "approximate"}
    assert isinstance(rec.name, str) and rec.name
    assert isinstance(rec.fingerprint, str) and len(rec.fingerprint) >= 8


def test_find_speech_gives_ordered_stretches_inside_the_clip(rec, clip):
    speech = rec.find_speech(clip.mono(), TranscribeOptions().vad_parameters())
    assert speech, "no speech found in a spoken clip"
    assert all(0.0 <= a < b <= clip.duration_s + 0.01 for a, b in speech)
    assert all(b1 <= a2 for (_, b1), (a2, _) in zip(speech, speech[1:]))
    quiet = np.random.default_rng(0).normal(0, 1e-4, SAMPLE_RATE * 3).astype(np.float32)
    assert rec.find_speech(quiet, TranscribeOptions().vad_parameters()) == []


def test_language_probabilities_are_probabilities(rec, clip):
    probabilities = rec.language_probabilities(clip.mono())
    assert probabilities and all(isinstance(k, str) for k in probabilities)
    assert all(0.0 <= p <= 1.0 for p in probabilities.values())
    assert sum(probabilities.values()) <= 1.0 + 1e-3


def test_recognize_returns_project_segments_with_times_words_and_confidence(rec, clip):
    samples = clip.mono()
    speech = rec.find_speech(samples, TranscribeOptions().vad_parameters())
    segments = rec.recognize(samples, TranscribeOptions(), language="vi", speech=speech, source_rate=16000)
    assert segments and all(type(s) is Segment for s in segments)
    for s in segments:
        assert 0.0 <= s.start < s.end <= clip.duration_s + 0.5
        assert s.text and s.text == " ".join(s.text.split())
        assert 0.0 <= s.confidence <= 1.0
        assert s.words, "every segment carries word times"
        assert [w.text for w in s.words] == [w.text for w in s.words if w.text.strip()]
        for w in s.words:
            assert s.start - 0.05 <= w.start <= w.end <= s.end + 0.05
            assert 0.0 <= w.probability <= 1.0
        assert all(a.start <= b.start for a, b in zip(s.words, s.words[1:]))


def test_transcribe_call_works_through_the_protocol_alone(rec, clip):
    (t,) = transcribe_call(clip, rec)
    assert t.text and t.info.language == "vi"
    assert "speech_not_transcribed" not in t.info.flags
    assert all(s.channel is None for s in t.segments)


def test_eight_khz_calls_are_transcribed(rec, clip):
    from pipeline.stages.audio import simulate_telephone

    phone = simulate_telephone(clip.mono(), 16000)
    audio = DecodedAudio(samples=phone[None, :], sample_rate=16000, source_sample_rate=8000, source_format="telephone-sim")
    (t,) = transcribe_call(audio, rec)
    assert t.text


def test_bare_runs_on_the_same_input(rec, clip):
    assert rec.bare(clip.mono(), TranscribeOptions(), source_rate=16000) is None
