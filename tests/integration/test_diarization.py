"""The real offline pyannote pipeline on a short two-voice espeak-ng call."""

import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from pipeline.records import SpeakerTurn


SR = 16000
LINES = [
    ("vi+m3", "Tổng đài một không hai hai xin nghe, tôi có thể giúp gì cho anh chị?"),
    ("vi-vn-x-south+f4", "Chào chị, tôi muốn phản ánh đèn đường ở phường Tân Lợi bị hỏng."),
    ("vi+m3", "Dạ, anh cho tôi xin địa chỉ cụ thể."),
    ("vi-vn-x-south+f4", "Nhà tôi ở số mười hai đường Lê Duẩn."),
]


def _say(voice: str, text: str, tmp_path) -> np.ndarray:
    raw, wav = tmp_path / "raw.wav", tmp_path / "say.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "165", "-w", str(raw), text], check=True, capture_output=True)
    subprocess.run(["sox", str(raw), "-r", str(SR), "-c", "1", str(wav), "gain", "-n", "-6"], check=True, capture_output=True)
    audio, rate = sf.read(wav, dtype="float32")
    assert rate == SR
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    return audio[loud[0] : loud[-1] + 1]


@pytest.fixture(scope="module")
def call(tmp_path_factory):
    """(waveform, reference turns) of a ~16 s call: two voices, alternating, 0.6 s gaps."""
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        pytest.skip("needs espeak-ng and sox")
    tmp_path = tmp_path_factory.mktemp("diar")
    parts, turns, t = [np.zeros(int(0.4 * SR), np.float32)], [], 0.4
    for voice, text in LINES:
        audio = _say(voice, text, tmp_path)
        turns.append(SpeakerTurn(t, t + len(audio) / SR, voice))
        parts += [audio, np.zeros(int(0.6 * SR), np.float32)]
        t += len(audio) / SR + 0.6
    waveform = np.concatenate(parts)
    assert len(waveform) / SR <= 20.0
    return waveform, turns


@pytest.fixture(scope="module")
def diarizer():
    from models.diarization import load_diarizer

    return load_diarizer()


def _overlap(a: SpeakerTurn, b: SpeakerTurn) -> float:
    return max(0.0, min(a.end, b.end) - max(a.start, b.start))


def test_two_speakers_found_with_boundaries_near_the_truth(call, diarizer):
    waveform, truth = call

    turns = diarizer.diarize(waveform)

    assert len({t.speaker for t in turns}) == 2
    # Each reference turn is mostly covered by one hypothesis speaker, and the two
    # voices map to different labels.
    label_of = {}
    for ref in truth:
        cover = {}
        for hyp in turns:
            cover[hyp.speaker] = cover.get(hyp.speaker, 0.0) + _overlap(ref, hyp)
        best = max(cover, key=cover.get)
        assert cover[best] >= 0.8 * (ref.end - ref.start), (ref, turns)
        assert label_of.setdefault(ref.speaker, best) == best
    assert len(set(label_of.values())) == 2
    # Every change of speaker in the truth has a hypothesis boundary within 0.5 s.
    boundaries = [t.start for t in turns] + [t.end for t in turns]
    for ref in truth[1:]:
        assert min(abs(b - ref.start) for b in boundaries) < 0.5


def test_known_speaker_count_and_turns_in_order(call, diarizer):
    waveform, _ = call
    turns = diarizer.diarize(waveform, num_speakers=2)
    assert list(turns) == sorted(turns, key=lambda t: (t.start, t.end, t.speaker))
    assert all(0.0 <= t.start < t.end <= len(waveform) / SR + 0.01 for t in turns)


def test_model_arguments_of_other_types_are_rejected(tmp_path):
    from models.diarization import PyannoteDiarizer
    from pipeline.errors import ModelUnavailable

    with pytest.raises(ModelUnavailable, match="not found"):
        PyannoteDiarizer(segmentation=tmp_path / "missing.bin")

    with pytest.raises(TypeError, match="int"):
        PyannoteDiarizer(segmentation=42)
    with pytest.raises(TypeError, match="dict"):
        PyannoteDiarizer(embedding={"checkpoint": "pyannote/embedding"})


def test_an_injected_pipeline_is_used_as_is(call, diarizer, monkeypatch):
    from models.diarization import PyannoteDiarizer

    injected = PyannoteDiarizer(pipeline=diarizer.pipeline, options=diarizer.options)
    assert injected.pipeline is diarizer.pipeline  # neither copied nor rebuilt
    seen = []
    apply = diarizer.pipeline.apply
    monkeypatch.setattr(diarizer.pipeline, "apply", lambda file, **kw: seen.append((file, kw)) or apply(file, **kw))
    turns = injected.diarize(call[0])
    assert len(seen) == 1, "diarize ran the injected pipeline once"
    file, bounds = seen[0]
    assert file["sample_rate"] == SR and file["waveform"].shape == (1, len(call[0]))
    assert bounds["min_speakers"] == injected.min_speakers and bounds["max_speakers"] == injected.max_speakers
    assert turns and turns == diarizer.diarize(call[0])  # the same pipeline, the same turns
    with pytest.raises(TypeError, match="str"):
        PyannoteDiarizer(pipeline="pyannote/speaker-diarization-community-1")
