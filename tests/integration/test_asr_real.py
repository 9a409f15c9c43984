"""The real bundled Whisper base on a 5 s espeak Vietnamese clip, through the production settings."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest

from pipeline.records import DecodedAudio
from pipeline.stages.audio import decode_audio
from pipeline.stages.transcribe import TranscribeOptions, transcribe_call
from pipeline.textnorm import fold_accents, normalize_text
from tests.helpers import DATA


REFERENCE = "Rác ở đường Y Jút phường Tân Tiến cả tuần nay không được thu gom, bốc mùi lắm."


@pytest.fixture(scope="module")
def transcript(asr):
    (t,) = transcribe_call(decode_audio(DATA / "short_vi.wav"), asr, TranscribeOptions())
    return t


def test_vietnamese_text_with_diacritics(transcript):
    text = normalize_text(transcript.text)
    assert text, "no text"
    assert any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", text)) or "đ" in text
    assert transcript.info.language == "vi" and "not_vietnamese" not in transcript.info.flags
    # espeak is hard for Whisper base (WER 0.7-0.8), but some syllables must come through.
    assert set(fold_accents(transcript.text).split()) & set(fold_accents(REFERENCE).split())


def test_word_timestamps_lie_inside_their_segment(transcript):
    assert any(s.words for s in transcript.segments)
    for seg in transcript.segments:
        assert 0.0 <= seg.start < seg.end <= transcript.info.duration_s + 0.5
        for w in seg.words:
            assert seg.start - 0.05 <= w.start <= w.end <= seg.end + 0.05
            assert 0.0 <= w.probability <= 1.0


def test_confidence_is_a_probability(transcript):
    # all() over no segments is True: an empty transcript must fail here, not pass
    assert transcript.segments, "no segments"
    assert all(s.text.strip() for s in transcript.segments), "a segment without text"
    assert all(0.0 < s.confidence <= 1.0 for s in transcript.segments)


def test_speech_is_covered_by_segments(transcript):
    assert "speech_not_transcribed" not in transcript.info.flags
    assert 0.0 < transcript.info.speech_s <= transcript.info.duration_s + 0.01
    # the segments must span most of the speech found (the clip is ~5 s of continuous speech)
    covered = sum(s.end - s.start for s in transcript.segments)
    assert covered >= 0.5 * transcript.info.speech_s, (covered, transcript.info.speech_s)


def test_silence_gives_no_text(asr):
    quiet = np.random.default_rng(0).normal(0, 1e-4, 16000 * 4).astype(np.float32)
    (t,) = transcribe_call(DecodedAudio(samples=quiet[None, :], sample_rate=16000, source_sample_rate=16000), asr)
    assert t.segments == () and "no_speech" in t.info.flags


def test_a_minute_long_call_is_covered_to_the_end(asr):
    """Three different utterances cycled with pauses to ~60 s: every window must yield text."""
    vi = decode_audio(DATA / "short_vi.wav").mono()
    stereo = decode_audio(DATA / "short_stereo.wav").samples
    pause = np.random.default_rng(1).normal(0, 1e-3, 16000).astype(np.float32)
    parts = [vi, pause, stereo[0], pause, stereo[1], pause] * 4
    call = np.concatenate(parts)
    (t,) = transcribe_call(DecodedAudio(samples=call[None, :], sample_rate=16000, source_sample_rate=16000), asr)
    assert t.info.duration_s > 50
    assert "speech_not_transcribed" not in t.info.flags
    starts = [s.start for s in t.segments]
    assert starts == sorted(starts)
    assert t.segments[-1].end > t.info.duration_s - 10  # the last window was not dropped
