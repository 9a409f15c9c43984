import numpy as np
import pytest

from pipeline.errors import AudioDecodeError
from pipeline.stages.audio import decode_audio, simulate_telephone

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


@pytest.mark.parametrize("rate, channels", [(11025, 1), (44100, 2), (8000, 1), (22050, 2)])
def test_odd_sample_rates_and_layouts_decode_to_16k_with_channels_kept(tmp_path, rate, channels):
    import soundfile as sf

    t = np.arange(int(1.5 * rate)) / rate
    tone = 0.3 * np.sin(2 * np.pi * 440 * t)
    data = np.stack([tone * (c + 1) / channels for c in range(channels)], axis=1).astype(np.float32)
    sf.write(tmp_path / "odd.wav", data, rate)
    audio = decode_audio(tmp_path / "odd.wav")
    assert (audio.sample_rate, audio.source_sample_rate, audio.channels) == (16000, rate, channels)
    assert audio.duration_s == pytest.approx(1.5, abs=0.01)
    assert np.abs(audio.samples).max() > 0.1


def test_silent_file_decodes_as_silence(tmp_path):
    import soundfile as sf

    sf.write(tmp_path / "silent.wav", np.zeros(8000 * 3, dtype=np.float32), 8000, subtype="ULAW")
    audio = decode_audio(tmp_path / "silent.wav")
    assert audio.duration_s == pytest.approx(3.0) and np.abs(audio.samples).max() == 0


def test_a_three_hour_file_is_refused_from_its_header_without_decoding(tmp_path, monkeypatch):
    import soundfile as sf

    import pipeline.stages.audio as audio_mod

    path = tmp_path / "stuck line.wav"
    with sf.SoundFile(str(path), "w", samplerate=8000, channels=1, subtype="ULAW", format="WAV") as fh:
        block = np.zeros(8000 * 600, dtype=np.float32)  # 10 min at a time: the file is ~86 MB, never all in memory
        for _ in range(18):
            fh.write(block)

    def no_decoding(*args, **kwargs):
        raise AssertionError("the limit must be checked before decoding")

    monkeypatch.setattr(audio_mod, "_read_soundfile", no_decoding)
    monkeypatch.setattr(audio_mod, "_read_pyav", no_decoding)
    with pytest.raises(AudioDecodeError, match=r"longer than the 2\.0 h limit \(3\.0 h\)"):
        decode_audio(path)
    assert audio_mod.header_duration(path) == pytest.approx(3 * 3600)


def test_the_duration_limit_can_be_raised_or_lifted(tmp_path):
    import soundfile as sf

    sf.write(tmp_path / "a.wav", np.zeros(16000 * 2, dtype=np.float32), 16000)
    with pytest.raises(AudioDecodeError, match="longer than"):
        decode_audio(tmp_path / "a.wav", max_duration_s=1.0)
    assert decode_audio(tmp_path / "a.wav", max_duration_s=None).duration_s == pytest.approx(2.0)


def test_the_duration_limit_is_a_setting(tmp_path, monkeypatch):
    import soundfile as sf

    from pipeline.config import load_settings
    from pipeline.records import Recording
    from pipeline.stages.process import decode_stage

    sf.write(tmp_path / "a.wav", np.zeros(32000, dtype=np.float32), 16000)
    rec = Recording(path=tmp_path / "a.wav", relpath="a.wav", sha256="0" * 64, size_bytes=1)
    monkeypatch.setenv("HOTLINE_MAX_DURATION_S", "1.5")
    with pytest.raises(AudioDecodeError, match="limit"):
        decode_stage(rec, load_settings())
    assert decode_stage(rec, load_settings(max_duration_s=0)).duration_s == pytest.approx(2.0)
