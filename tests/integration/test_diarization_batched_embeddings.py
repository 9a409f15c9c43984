"""The fast CAM++ path (equal-length items batched, BatchNorms folded) gives the embeddings
and the diarization the one-by-one path gives, on a demo call, to float rounding."""

from pathlib import Path

import numpy as np
import pytest


SR = 16000
SAMPLE = Path(__file__).resolve().parents[2] / "samples/2026/11/03/rec_20261103_082512_ext101.wav"


@pytest.fixture(scope="module")
def wave():
    from pipeline.stages.audio import decode_audio, resample

    if not SAMPLE.is_file():
        pytest.skip(f"demo sample missing: {SAMPLE}")
    mono = decode_audio(SAMPLE).mono()
    return resample(resample(mono, SR, 8000), 8000, SR).astype(np.float32)  # telephone band, like most calls


def _embeddings(batch: int):
    from models import diarization

    try:
        return diarization.build_campplus_embedding(max_embedding_s=3.0, narrowband="flat", batch=batch)
    except Exception as exc:  # weights not installed here
        pytest.skip(f"CAM++ not available: {exc}")


def test_batched_embeddings_equal_one_by_one(wave):
    import torch

    one, fast = _embeddings(1), _embeddings(4)
    calls = []
    forward = fast.campplus.forward
    fast.campplus.forward = lambda x: calls.append(tuple(x.shape[:2])) or forward(x)
    # as pyannote sends them: each 10 s chunk once per local speaker, masks of 589 frames
    chunks, masks = [], []
    rng = np.random.default_rng(0)
    for start in (0.0, 3.5, 7.0, 10.5):  # the call is 22 s long
        chunk = torch.from_numpy(wave[int(start * SR): int(start * SR) + 10 * SR])
        for kind in ("long", "short", "none"):
            mask = np.zeros(589, np.float32)
            if kind == "long":  # > 3 s of speech: cut to its middle 3 s (300 frames)
                mask[rng.integers(0, 100):][:rng.integers(250, 450)] = 1
            elif kind == "short":  # 0.5-2.5 s: a length of its own
                mask[300:][:rng.integers(30, 150)] = 1
            chunks.append(chunk[None])
            masks.append(torch.from_numpy(mask))
    waves, weights = torch.stack(chunks), torch.stack(masks)
    with torch.inference_mode():
        a, b = one(waves, weights), fast(waves, weights)
    assert torch.equal(torch.isnan(a), torch.isnan(b))
    assert int(torch.isnan(a[:, 0]).sum()) == 4  # the empty masks
    ok = ~torch.isnan(a[:, 0])
    assert float((a[ok] - b[ok]).abs().max()) < 1e-5 * float(a[ok].abs().max())
    assert (4, 300) in calls  # the four 3 s items went through CAM++ together


def _der(reference, hypothesis) -> float:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    def annotation(turns):
        out = Annotation()
        for i, t in enumerate(turns):
            out[Segment(t.start, t.end), i] = t.speaker
        return out

    return float(DiarizationErrorRate()(annotation(reference), annotation(hypothesis)))


def test_fast_diarizer_gives_the_same_turns(wave):
    from models.diarization import DiarizationOptions, PyannoteDiarizer

    try:
        old = PyannoteDiarizer(options=DiarizationOptions(embedding_batch=1))
        new = PyannoteDiarizer()
    except Exception as exc:
        pytest.skip(f"diarizer not available: {exc}")
    assert new.pipeline.embedding_batch_size == 24 and old.pipeline.embedding_batch_size == 3
    turns_old, voices_old = old.diarize_voices(wave)
    turns_new, voices_new = new.diarize_voices(wave)
    assert len({t.speaker for t in turns_old}) == 2
    # The embeddings differ by float rounding only (< 1e-5 relative, test above), so the turns
    # are the same diarization: DER between the two ≤ 1 % (a boundary a frame off, never a voice
    # moved), not equality of floats that another CPU's kernels round differently.
    assert _der(turns_old, turns_new) <= 0.01, (turns_old, turns_new)
    assert voices_new.keys() == voices_old.keys()
    for label, row in voices_old.items():
        assert np.allclose(voices_new[label], row, atol=1e-5)


def test_onnx_embedding_gives_the_same_turns(wave):
    """CAM++ run by onnxruntime (fp32) instead of torch: same turns, centroids equal to
    float error (a tolerance that leaves room for other CPUs' fp32 kernels)."""
    from models.diarization import DiarizationOptions, PyannoteDiarizer

    try:
        by_torch = PyannoteDiarizer(options=DiarizationOptions(embedding_backend="torch"))
        by_onnx = PyannoteDiarizer(options=DiarizationOptions(embedding_backend="onnx"))
    except Exception as exc:
        pytest.skip(f"diarizer not available: {exc}")
    turns_torch, voices_torch = by_torch.diarize_voices(wave)
    turns_onnx, voices_onnx = by_onnx.diarize_voices(wave)
    assert len({t.speaker for t in turns_torch}) == 2
    assert turns_onnx == turns_torch
    assert voices_onnx.keys() == voices_torch.keys()
    for label, row in voices_torch.items():
        assert np.allclose(voices_onnx[label], row, atol=1e-3)
