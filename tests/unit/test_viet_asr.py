"""viet-asr adapter logic without the model: pieces never exceed what the SDK handles, long calls stay covered."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from models import viet_asr as va
from models.recognizer import spread_words
from pipeline.stages.transcribe import SAMPLE_RATE, TranscribeOptions, speech_coverage, transcribe


class ScriptedSDK(va.VietASR):
    """The adapter with its SDK call replaced: records each piece, writes 4 syllables per second of it."""

    def __init__(self, feed_native_8k=True):  # no model loaded
        self.feed_native_8k, self._language_id, self._cache_dir = feed_native_8k, None, None
        self.lock = threading.Lock()
        self.pieces: list[float] = []
        self.rates: list[int] = []

    def _sdk(self, samples16, source_rate):
        seconds = len(samples16) / SAMPLE_RATE
        assert seconds <= va.MAX_PIECE_S + 1e-3, f"SDK handed {seconds:.1f} s"
        self.pieces.append(seconds)
        self.rates.append(8000 if self.feed_native_8k and source_rate <= 8000 else 16000)
        return " ".join(["dạ"] * max(1, int(seconds * 4)))


def _call(speech, duration):
    """Samples with tone where ``speech`` says and silence elsewhere."""
    x = np.zeros(int(duration * SAMPLE_RATE), np.float32)
    for a, b in speech:
        t = np.arange(int(a * SAMPLE_RATE), int(b * SAMPLE_RATE))
        x[t] = 0.2 * np.sin(2 * np.pi * 180 * t / SAMPLE_RATE)
    return x


def test_pieces_are_at_most_15_s_and_cut_in_pauses():
    speech = [(i * 4.0, i * 4.0 + 3.0) for i in range(50)]  # 3 s speech, 1 s pause
    pieces = va.group_pieces(speech, 200.0)
    assert all(b - a <= va.MAX_PIECE_S for a, b, _ in pieces)
    assert sum(len(inner) for _, _, inner in pieces) == 50  # every stretch in exactly one piece
    assert all(b1 <= a2 for (_, b1, _), (a2, _, _) in zip(pieces, pieces[1:]))
    for a, b, _ in pieces:  # piece ends lie in pauses, never inside speech
        assert not any(s < a < e or s < b < e for s, e in speech)


def test_an_overlong_stretch_is_cut_at_its_quietest_point():
    samples = _call([(0, 40)], 40.0)
    quiet = int(11.0 * SAMPLE_RATE)
    samples[quiet : quiet + SAMPLE_RATE // 10] = 0.0  # a 100 ms dip at 11 s
    pieces = va.group_pieces([(0.0, 40.0)], 40.0, samples=samples)
    assert all(b - a <= va.MAX_PIECE_S for a, b, _ in pieces) and len(pieces) >= 3
    assert pieces[0][1] == pytest.approx(11.05, abs=0.06)
    assert pieces[-1][1] == pytest.approx(40.0)


def test_a_25_minute_call_never_overloads_the_sdk_and_stays_covered():
    # 25 min: speech turns of 2-20 s separated by 0.3-3 s pauses, some turns longer than a piece.
    rng = np.random.default_rng(1)
    speech, t = [], 0.5
    while t < 1500 - 25:
        length = float(rng.uniform(2, 20))
        speech.append((t, t + length))
        t += length + float(rng.uniform(0.3, 3.0))
    rec = ScriptedSDK()
    samples = _call(speech, 1500.0)
    out = transcribe(samples, rec, TranscribeOptions(), speech=speech, source_rate=8000)
    assert rec.pieces and max(rec.pieces) <= va.MAX_PIECE_S
    assert speech_coverage(speech, out.segments) >= 0.95
    assert "speech_not_transcribed" not in out.info.flags
    assert set(rec.rates) == {8000}  # phone audio fed at its native rate
    assert out.segments[-1].end == pytest.approx(speech[-1][1], abs=0.01)


def test_wideband_audio_is_fed_at_16_khz_and_16k_setting_never_downsamples():
    rec = ScriptedSDK()
    transcribe(_call([(0, 3)], 4.0), rec, TranscribeOptions(), speech=[(0.0, 3.0)], source_rate=16000)
    assert rec.rates == [16000]
    rec16 = ScriptedSDK(feed_native_8k=False)
    transcribe(_call([(0, 3)], 4.0), rec16, TranscribeOptions(), speech=[(0.0, 3.0)], source_rate=8000)
    assert rec16.rates == [16000]


def test_rate_confidence_is_high_for_plausible_speaking_rates_only():
    assert va.rate_confidence(20, 5.0) == 1.0  # 4 syllables/s
    assert va.rate_confidence(2, 5.0) < 0.5  # text dropped
    assert va.rate_confidence(80, 5.0) < 0.5  # text invented
    assert va.rate_confidence(0, 5.0) == 0.0 and va.rate_confidence(3, 0.0) == 0.0


def test_spread_words_keeps_words_in_speech_and_in_order():
    words = spread_words("một hai ba bốn", 0.0, 10.0, 0.7, speech=[(0.0, 2.0), (8.0, 10.0)])
    assert [w.text for w in words] == ["một", "hai", "ba", "bốn"]
    assert all(a.end <= b.start + 1e-6 for a, b in zip(words, words[1:]))
    for w in words:
        assert not (2.0 < (w.start + w.end) / 2 < 8.0), "a word placed in the pause"
        assert w.probability == 0.7
    assert words[0].start == 0.0 and words[-1].end == pytest.approx(10.0)


def test_quiet_pieces_are_raised_loud_ones_untouched():
    quiet = (0.001 * np.sin(np.arange(16000) / 5)).astype(np.float32)
    assert np.abs(va._to_int16(quiet)).max() > 1000
    loud = (0.5 * np.sin(np.arange(16000) / 5)).astype(np.float32)
    assert np.abs(va._to_int16(loud)).max() == pytest.approx(0.5 * 32767, rel=0.01)


def test_a_piece_longer_than_the_sdk_handles_is_refused():
    rec = va.VietASR.__new__(va.VietASR)
    rec.feed_native_8k, rec.lock = True, threading.Lock()
    with pytest.raises(ValueError, match="longer than"):
        rec._sdk(np.zeros(int(16.5 * SAMPLE_RATE), np.float32), 16000)


def test_a_call_with_a_silent_piece_is_flagged_below_95_percent_coverage():
    class DropsOne(ScriptedSDK):
        def _sdk(self, samples16, source_rate):
            text = super()._sdk(samples16, source_rate)
            return "" if len(self.pieces) == 2 else text  # the second piece comes back empty

    speech = [(i * 10.0, i * 10.0 + 8.0) for i in range(12)]  # 12 pieces of 8 s
    rec = DropsOne()
    out = transcribe(_call(speech, 120.0), rec, TranscribeOptions(), speech=speech)
    assert 0.9 < speech_coverage(speech, out.segments) < 0.95
    assert "speech_not_transcribed" in out.info.flags
