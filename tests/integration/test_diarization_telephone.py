"""The real diarizer on a telephone copy (8 kHz mu-law, 300-3400 Hz, via sox) of the two-voice
espeak-ng call: detected as telephone-band, both voices found, and the telephone options
(biases, flattened fbank) change only such calls."""

import shutil
import subprocess

import pytest
import soundfile as sf

from tests.integration.test_diarization import _overlap, call  # noqa: F401  (fixture)


SR = 16000


@pytest.fixture(scope="module")
def phone(call, tmp_path_factory):  # noqa: F811
    if not shutil.which("sox"):
        pytest.skip("needs sox")
    waveform, truth = call
    tmp = tmp_path_factory.mktemp("phone")
    sf.write(tmp / "wide.wav", waveform, SR)
    subprocess.run(["sox", str(tmp / "wide.wav"), "-r", "8000", "-c", "1", "-e", "u-law", str(tmp / "tel.wav"),
                    "sinc", "300-3400"], check=True, capture_output=True)
    from pipeline.stages.audio import decode_audio

    return decode_audio(tmp / "tel.wav").mono(), truth


@pytest.fixture(scope="module")
def diarizers():
    from models.diarization import DiarizationOptions, PyannoteDiarizer

    return (PyannoteDiarizer(),
            PyannoteDiarizer(options=DiarizationOptions(narrowband="none", speech_bias=0.0, overlap_bias=0.0)))


def test_the_telephone_copy_is_told_from_the_wideband_call(call, phone):  # noqa: F811
    from models.diarization import waveform_is_narrowband

    assert waveform_is_narrowband(phone[0])
    assert not waveform_is_narrowband(call[0])


def test_both_voices_found_on_the_telephone_copy(phone, diarizers):
    waveform, truth = phone
    turns = diarizers[0].diarize(waveform)
    assert len({t.speaker for t in turns}) == 2
    label_of = {}
    for ref in truth:
        cover = {}
        for hyp in turns:
            cover[hyp.speaker] = cover.get(hyp.speaker, 0.0) + _overlap(ref, hyp)
        best = max(cover, key=cover.get)
        assert cover[best] >= 0.8 * (ref.end - ref.start), (ref, turns)
        assert label_of.setdefault(ref.speaker, best) == best
    assert len(set(label_of.values())) == 2


def test_telephone_options_leave_wideband_calls_alone(call, diarizers):  # noqa: F811
    new, old = diarizers
    assert new.diarize(call[0]) == old.diarize(call[0])
