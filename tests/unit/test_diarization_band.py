"""Telephone-band handling of the diarizer's embedding front end, VAD trimming of turns, the
speech bias of the segmentation, and the voiceprint fingerprint the speakers cache is keyed by."""

import numpy as np
import pytest

from pipeline.records import SpeakerTurn

SR = 16000


def _fbank(wave: np.ndarray):
    torch = pytest.importorskip("torch")
    kaldi = pytest.importorskip("torchaudio.compliance.kaldi")
    return kaldi.fbank(torch.from_numpy(wave.astype(np.float32))[None] * 32768, num_mel_bins=80, frame_length=25.0,
                       frame_shift=10.0, dither=0.0, sample_frequency=SR, window_type="hamming")


def _band_limited(wave: np.ndarray, hi_hz: float) -> np.ndarray:
    spec = np.fft.rfft(wave)
    freqs = np.fft.rfftfreq(len(wave), 1 / SR)
    spec[(freqs > hi_hz) | (freqs < 300)] = 0
    return np.fft.irfft(spec, n=len(wave))


def test_telephone_band_chunks_are_told_from_wideband_ones():
    from models.diarization import _is_narrowband, waveform_is_narrowband

    rng = np.random.default_rng(0)
    # a voice-like signal: harmonics of 140 Hz up to 7.5 kHz, amplitude falling with frequency, plus breath noise
    t = np.arange(3 * SR) / SR
    wide = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 54)) * 0.05 + 0.002 * rng.standard_normal(t.size)
    assert not _is_narrowband(_fbank(wide))
    narrow = _band_limited(wide, 3400) + 1e-6 * rng.standard_normal(t.size)
    assert _is_narrowband(_fbank(narrow))
    assert waveform_is_narrowband(narrow) and not waveform_is_narrowband(wide)


def test_turns_are_cut_to_vad_speech_with_a_pad():
    from models.diarization import trim_to_speech

    turns = [SpeakerTurn(0.0, 5.0, "A"), SpeakerTurn(5.0, 9.0, "B")]
    speech = [(1.0, 2.0), (2.1, 3.0), (6.0, 8.0), (8.9, 8.95)]
    out = trim_to_speech(turns, speech, pad=0.1)
    assert [(t.start, t.end, t.speaker) for t in out] == [(0.9, 3.1, "A"), (5.9, 8.1, "B"), (8.8, 9.0, "B")]
    assert trim_to_speech(turns, [], pad=0.1) == []


def test_speech_and_overlap_biases_move_only_their_classes():
    torch = pytest.importorskip("torch")
    from models.diarization import _bias_towards_speech

    class Spec:
        powerset = True
        classes = ["speaker#1", "speaker#2", "speaker#3"]  # 7 powerset classes: nobody, 3 singles, 3 pairs

    class Seg(torch.nn.Module):
        specifications = Spec()

        def forward(self, x):
            return torch.log_softmax(torch.zeros(x.shape[0], 4, 7), dim=-1)

    model = Seg()
    plain = model(torch.zeros(2, 1, 160))
    _bias_towards_speech(model, 0.7, 1.5)
    biased = model(torch.zeros(2, 1, 160))
    assert torch.allclose(biased[..., 0], plain[..., 0] - 0.7)
    assert torch.equal(biased[..., 1:4], plain[..., 1:4])
    assert torch.allclose(biased[..., 4:], plain[..., 4:] - 1.5)
    # per call (no fixed values): nothing moves unless diarize_voices set this thread's biases
    from models import diarization

    per_call = Seg()
    _bias_towards_speech(per_call)
    assert torch.equal(per_call(torch.zeros(2, 1, 160)), plain)
    diarization._biases.values = (0.0, 2.0)
    try:
        assert torch.allclose(per_call(torch.zeros(2, 1, 160))[..., 4:], plain[..., 4:] - 2.0)
    finally:
        diarization._biases.values = (0.0, 0.0)
    Spec.powerset = False
    with pytest.raises(ValueError):
        _bias_towards_speech(Seg(), 0.5)


def test_voiceprint_fingerprint_changes_with_enrolment():
    from pipeline.stages.operators import Voiceprint, voiceprints_fingerprint

    rng = np.random.default_rng(2)
    a = Voiceprint("101", rng.standard_normal(192).astype(np.float32), 2, 30.0, "form 1")
    b = Voiceprint("102", rng.standard_normal(192).astype(np.float32), 2, 30.0, "form 2")
    a2 = Voiceprint("101", rng.standard_normal(192).astype(np.float32), 3, 45.0, "form 1")
    assert voiceprints_fingerprint(()) == ""
    assert voiceprints_fingerprint((a, b)) == voiceprints_fingerprint((b, a))  # order does not matter
    assert len({voiceprints_fingerprint(p) for p in [(a,), (a, b), (a2, b), (b,)]}) == 4


def test_frame_errors_split_false_alarm_by_kind():
    from pipeline.eval.diarization_errors import frame_errors
    ref = [SpeakerTurn(1.0, 3.0, "op"), SpeakerTurn(5.0, 7.0, "cit")]
    hyp = [SpeakerTurn(0.9, 3.0, "A"),  # 0.1 s early: false alarm near an edge
           SpeakerTurn(1.5, 2.0, "B"),  # a phantom second voice inside speech, far from edges
           SpeakerTurn(4.0, 4.2, "A"),  # noise in the pause, far from speech
           SpeakerTurn(5.0, 6.0, "B")]  # the second half of the citizen's turn missed
    e = frame_errors(ref, hyp, 8.0)
    assert e["reference"] == pytest.approx(4.0)
    assert e["fa_pause_near"] == pytest.approx(0.1)
    assert e["fa_pause_far"] == pytest.approx(0.2)
    assert e["overcount_far"] == pytest.approx(0.5) and e["overcount_near"] == 0
    assert e["overlap_reference"] == 0 and e["overlap_hypothesis"] == pytest.approx(0.5)
    assert e["missed_far"] == pytest.approx(0.75, abs=0.02)  # 6.0-7.0 less the 0.25 s before the turn's end
