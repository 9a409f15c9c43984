import numpy as np
import pytest

from pipeline.audio import decode_audio, simulate_telephone
from pipeline.errors import AudioDecodeError

from tests.helpers import DATA, SAMPLES


def test_decodes_resamples_and_keeps_stereo_channels_apart():
    audio = decode_audio(DATA / "short_stereo.wav")
    assert audio.channels == 2 and audio.sample_rate == 16000
    left, right = audio.samples
    # The operator speaks first on the left: the left channel is louder in the first second.
    assert np.sqrt(np.mean(left[:16000] ** 2)) > 5 * np.sqrt(np.mean(right[:16000] ** 2))


@pytest.mark.parametrize("path", sorted(p for p in SAMPLES.rglob("*") if p.suffix in {".wav", ".mp3"}))
def test_every_sample_format_decodes_to_16k(path):
    audio = decode_audio(path)
    assert audio.sample_rate == 16000
    assert 15 < audio.duration_s < 95
    assert audio.source_sample_rate in {8000, 16000, 22050, 24000, 44100, 48000}


def test_array_input_is_resampled_from_its_rate():
    x = np.sin(2 * np.pi * 440 * np.arange(8000) / 8000).astype(np.float32)
    audio = decode_audio(x, source_rate=8000)
    assert audio.samples.shape == (1, 16000)
    assert audio.duration_s == pytest.approx(1.0)


@pytest.mark.parametrize("name, problem", [
    ("empty.wav", "empty file"),
    ("not_audio.mp3", "not decodable"),
    ("random.flac", "not decodable"),
])
def test_bad_files_raise_an_error_naming_file_and_problem(name, problem):
    with pytest.raises(AudioDecodeError) as err:
        decode_audio(DATA / "bad" / name)
    assert name in str(err.value) and problem in str(err.value)


def test_truncated_wav_decodes_what_is_there_and_is_flagged():
    audio = decode_audio(DATA / "bad" / "truncated.wav")
    assert audio.warnings == ("truncated",)
    assert 1.0 < audio.duration_s < decode_audio(DATA / "short_vi.wav").duration_s


def test_wrong_extension_is_decoded_by_content():
    assert decode_audio(DATA / "bad" / "mp3_named.wav").duration_s > 4


def test_silence_and_nan_inputs():
    with pytest.raises(AudioDecodeError, match="too short"):
        decode_audio(np.zeros(100, dtype=np.float32))
    with pytest.raises(AudioDecodeError, match="non-finite"):
        decode_audio(np.full(16000, np.nan, dtype=np.float32))


def test_telephone_channel_removes_high_frequencies():
    t = np.arange(16000) / 16000
    high = (0.5 * np.sin(2 * np.pi * 6000 * t)).astype(np.float32)
    mid = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    assert np.sqrt(np.mean(simulate_telephone(high) ** 2)) < 0.01
    assert np.sqrt(np.mean(simulate_telephone(mid) ** 2)) > 0.25
