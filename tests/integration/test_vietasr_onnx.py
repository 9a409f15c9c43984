"""viet-asr's graph run directly (the default route) against the SDK itself, on real model output.

The two are fed the same int16 pieces at the same rate. Exact agreement is not reached
(docs/asr.md, "The ONNX route": int8 rounding makes near-tied syllables flip), so these
tests measure how close the text is and check the times and probabilities the SDK cannot give.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from pipeline.eval.asr import edit_distance
from pipeline.stages.audio import decode_audio
from pipeline.stages.transcribe import SAMPLE_RATE, TranscribeOptions
from tests.helpers import DATA

_REPO = Path(__file__).resolve().parents[2]
EVAL = Path(os.environ.get("HOTLINE_EVAL_DIR") or next(
    (p for p in (_REPO.parent / "shared" / "eval", _REPO.parent.parent / "shared" / "eval") if p.is_dir()),
    _REPO.parent / "shared" / "eval"))


@pytest.fixture(scope="module")
def rec():
    pytest.importorskip("vietasr")
    from models.viet_asr import VietASR

    return VietASR(route="onnx")


def _both(rec, pieces):
    sdk = [" ".join(rec.pipeline.transcribe(x, sample_rate=float(r)).text.split()) for x, r in pieces]
    onnx = rec._ctc_model().decode(pieces, batch=1)
    return sdk, onnx


def _wer(hyps, refs):
    errors = sum(edit_distance(r.split(), h.split()) for r, h in zip(refs, hyps))
    return errors / max(1, sum(len(r.split()) for r in refs))


@pytest.mark.skipif(not (EVAL / "asr-dev" / "manifest.tsv").is_file(), reason="../shared/eval not present")
def test_text_matches_the_sdk_on_most_real_clips(rec):
    from pipeline.eval.asr import read_clips as read_manifest

    rows = read_manifest(EVAL / "asr-dev" / "manifest.tsv")[:12]
    pieces = [rec._prepare(decode_audio(r.path).mono(), 16000) for r in rows]
    sdk, onnx = _both(rec, pieces)
    same = sum(a == b.text for a, b in zip(sdk, onnx))
    # measured on all 41 clips: 36 identical, syllable WER between the two 0.010
    assert same >= 9, list(zip(sdk, [o.text for o in onnx]))
    assert _wer([o.text for o in onnx], sdk) <= 0.05


def test_word_times_lie_in_the_speech_and_probabilities_track_certainty(rec):
    clip = decode_audio(DATA / "short_vi.wav")
    x = clip.mono()
    speech = rec.find_speech(x, TranscribeOptions().vad_parameters())
    segments = rec.recognize(x, TranscribeOptions(), speech=speech, source_rate=16000)
    assert segments and rec.capabilities.word_times == "model" and rec.capabilities.confidence == "model"
    words = [w for s in segments for w in s.words]
    sdk, _ = _both(rec, [rec._prepare(x[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)], 16000) for a, b in [(0, len(x) / SAMPLE_RATE)]])
    assert _wer([" ".join(s.text for s in segments)], sdk) <= 0.2  # same model, same words, give or take a near-tie
    assert all(a.start <= b.start and a.end <= b.start + 1e-6 for a, b in zip(words, words[1:]))
    for w in words:  # every word inside (or within 0.3 s of) the VAD's speech
        assert any(a - 0.3 <= w.start and w.end <= b + 0.3 for a, b in speech), (w, speech)
    assert words[0].start >= speech[0][0] - 0.3
    # real times, not a spread: the words do not tile the speech evenly
    durations = np.array([w.end - w.start for w in words])
    assert durations.std() > 0.02
    # posteriors: the words on the clip are mostly sure; the same audio under heavy noise is less sure
    noisy = x + np.random.default_rng(0).normal(0, 0.3, len(x)).astype(np.float32)
    worse = rec.recognize(noisy, TranscribeOptions(), speech=speech, source_rate=16000)
    clean_conf = np.mean([s.confidence for s in segments])
    noisy_conf = np.mean([s.confidence for s in worse]) if worse else 0.0
    assert clean_conf > noisy_conf


def test_batched_pieces_decode_like_single_ones_within_a_near_tie(rec):
    clip = decode_audio(DATA / "short_vi.wav").mono()
    n = len(clip)
    pieces = [rec._prepare(clip[: n // 2], 16000), rec._prepare(clip[n // 2 :], 16000)]
    one = [r.text for r in rec._ctc_model().decode(pieces, batch=1)]
    batched = [r.text for r in rec._ctc_model().decode(pieces, batch=8)]
    assert all(one) and len(batched) == 2
    assert _wer(batched, one) <= 0.2


def test_phone_audio_goes_through_the_sdks_resampler_and_reads_alike(rec):
    from scipy.signal import resample_poly

    from pipeline.stages.audio import simulate_telephone

    phone = simulate_telephone(decode_audio(DATA / "short_vi.wav").mono(), 16000)
    piece = rec._prepare(phone, 8000)
    assert piece[1] == 8000  # fed at 8 kHz, as the SDK is
    (sdk,), (onnx,) = _both(rec, [piece])
    # a synthetic voice through the line: many near-ties, which split or glue BPE pieces
    # ("cho để" / "choet"); the characters agree far more than the words
    assert onnx.text and edit_distance(sdk, onnx.text) / len(sdk) <= 0.15
    # scipy's resampler instead of the SDK's: frames further from what the SDK computes
    ours = rec._ctc_model().features(*piece)
    scipy_frames = __import__("models.vietasr_ctc", fromlist=["features"]).features(
        resample_poly(piece[0].astype(np.float32), 2, 1), int16_scale=True)
    n = min(len(ours), len(scipy_frames))
    assert np.abs(ours[:n] - scipy_frames[:n]).mean() > 0.05
