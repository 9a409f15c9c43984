"""Conversation metrics on synthetic signals whose true values follow from their construction."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.analysis.metrics import SCOPES, MetricsOptions, measure_conversation
from pipeline.records import DecodedAudio, Segment

RATE = 16000
NO_PITCH = MetricsOptions(pitch_max_speech_s=0)


def _sine(freq_hz: float, amplitude: float, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def _audio(*channels: np.ndarray) -> DecodedAudio:
    return DecodedAudio(np.stack(channels).astype(np.float32), RATE, RATE)


def _silence(seconds: float) -> DecodedAudio:
    return _audio(np.zeros(int(seconds * RATE), np.float32))


def test_sine_gives_its_pitch_and_level():
    amplitude, freq = 0.5, 200.0
    audio = _audio(_sine(freq, amplitude, 2.0))
    m = measure_conversation([Segment(0.0, 2.0, "xin chào", role="operator")], audio)
    assert m["operator", "pitch_median_hz"] == pytest.approx(freq, abs=2.0)
    assert m["operator", "pitch_range_hz"] < 5.0
    assert m["operator", "loudness_mean_dbfs"] == pytest.approx(20 * math.log10(amplitude / math.sqrt(2)), abs=0.05)
    assert m["operator", "loudness_peak_dbfs"] == pytest.approx(20 * math.log10(amplitude), abs=0.05)
    assert m["operator", "clipping_ratio"] == 0.0


def test_stereo_roles_are_measured_on_their_own_channel():
    left, right = _sine(220.0, 0.5, 3.0), _sine(110.0, 0.05, 3.0)
    left[int(1.5 * RATE) :] = 0  # operator talks first, citizen second, each on its side
    right[: int(1.5 * RATE)] = 0
    segments = [
        Segment(0.0, 1.5, "a lô", channel=0, role="operator"),
        Segment(1.5, 3.0, "vâng", channel=1, role="citizen"),
    ]
    m = measure_conversation(segments, _audio(left, right))
    assert m["operator", "pitch_median_hz"] == pytest.approx(220.0, abs=2.5)
    assert m["citizen", "pitch_median_hz"] == pytest.approx(110.0, abs=1.5)
    assert m["citizen", "loudness_peak_dbfs"] == pytest.approx(20 * math.log10(0.05), abs=0.05)
    assert m["call", "loudness_peak_dbfs"] == pytest.approx(20 * math.log10(0.5), abs=0.05)


def test_overlap_interruption_and_silences():
    segments = [
        Segment(0.0, 3.0, "một hai ba", role="operator"),
        Segment(2.0, 5.0, "bốn năm", role="citizen"),  # starts 1 s before the operator stops
        Segment(6.5, 8.0, "sáu", role="operator"),  # after 1.5 s of dead air
    ]
    m = measure_conversation(segments, _silence(10.0), options=NO_PITCH)
    assert m["call", "overlap_s"] == pytest.approx(1.0)
    assert m["operator", "overlap_s"] == m["citizen", "overlap_s"] == pytest.approx(1.0)
    assert (m["citizen", "interruptions"], m["operator", "interruptions"], m["call", "interruptions"]) == (1, 0, 1)
    assert m["call", "talk_time_s"] == pytest.approx(5.0 + 1.5)
    assert m["call", "non_talk_time_s"] == pytest.approx(10.0 - 6.5)
    assert m["call", "non_talk_share"] == pytest.approx(3.5 / 10.0)
    assert m["call", "longest_silence_s"] == pytest.approx(1.5)
    assert m["operator", "longest_silence_s"] == pytest.approx(1.5)  # the citizen waited for the operator
    assert m["citizen", "longest_silence_s"] == 0.0


def test_a_brief_overlap_is_turn_taking_not_an_interruption():
    options = MetricsOptions(pitch_max_speech_s=0, interruption_min_overlap_s=0.3)
    segments = [Segment(0.0, 2.0, "dạ", role="operator"), Segment(1.9, 3.0, "vâng", role="citizen")]
    m = measure_conversation(segments, _silence(4.0), options=options)
    assert m["call", "overlap_s"] == pytest.approx(0.1)
    assert m["call", "interruptions"] == 0


def test_talk_speed_counts_syllables_per_minute():
    text = "tôi muốn phản ánh rác chưa được thu gom ở phường"  # 11 syllables
    m = measure_conversation([Segment(1.0, 6.5, text, role="citizen")], _silence(8.0), options=NO_PITCH)
    assert m["citizen", "talk_speed_spm"] == pytest.approx(11 / (5.5 / 60))
    assert m["call", "talk_speed_spm"] == pytest.approx(m["citizen", "talk_speed_spm"])


def test_unknown_role_counts_in_the_call_only():
    segments = [Segment(0.0, 2.0, "alô", role="operator"), Segment(3.0, 4.0, "ừ", role=None, speaker="SPEAKER_02")]
    m = measure_conversation(segments, _silence(5.0), options=NO_PITCH)
    assert {scope for scope, _ in m} <= set(SCOPES)
    assert m["call", "talk_time_s"] == pytest.approx(3.0)
    assert m["operator", "talk_time_s"] == pytest.approx(2.0)
    assert m["citizen", "talk_time_s"] == 0.0
    assert ("citizen", "loudness_mean_dbfs") not in m  # nothing to measure, so no value rather than NaN


def test_clipping_ratio_counts_samples_at_full_scale():
    clipped = np.clip(_sine(150.0, 2.0, 1.0), -1.0, 1.0)
    options = MetricsOptions(pitch_max_speech_s=0, clip_level=0.98)
    m = measure_conversation([Segment(0.0, 1.0, "a", role="citizen")], _audio(clipped), options=options)
    assert m["citizen", "clipping_ratio"] == pytest.approx(float(np.mean(np.abs(clipped) >= 0.98)))
    assert m["citizen", "clipping_ratio"] > 0.5


def test_snr_compares_speech_with_pauses():
    noise = (np.random.default_rng(0).standard_normal(6 * RATE) * 0.001).astype(np.float32)
    signal = noise.copy()
    signal[2 * RATE : 4 * RATE] += _sine(300.0, 0.1, 2.0)
    m = measure_conversation([Segment(2.0, 4.0, "a", role="operator")], _audio(signal), options=NO_PITCH)
    expected = 10 * math.log10((0.1**2 / 2 + 0.001**2) / 0.001**2)
    assert m["operator", "snr_db"] == pytest.approx(expected, abs=0.5)


def test_inputs_are_not_modified():
    samples = _sine(200.0, 0.3, 1.0)
    audio = _audio(samples)
    segments = (Segment(0.0, 1.0, "a", role="operator"),)
    measure_conversation(segments, audio, options=NO_PITCH)
    assert np.array_equal(audio.samples[0], samples)


_turns = st.lists(
    st.tuples(st.floats(0, 9), st.floats(0.05, 3), st.sampled_from(["operator", "citizen", None])), max_size=8
)


@settings(max_examples=60, deadline=None)
@given(_turns)
def test_timing_metrics_are_consistent(turns):
    segments = [Segment(s, s + d, "a b", role=r) for s, d, r in turns]
    m = measure_conversation(segments, _silence(10.0), options=NO_PITCH)
    assert m["call", "talk_time_s"] + m["call", "non_talk_time_s"] == pytest.approx(10.0)
    for role in ("operator", "citizen"):
        assert m[role, "talk_time_s"] <= m["call", "talk_time_s"] + 1e-9
        assert m[role, "overlap_s"] <= m[role, "talk_time_s"] + 1e-9
        assert m[role, "longest_silence_s"] <= m["call", "longest_silence_s"] + 1e-9
    assert m["call", "overlap_s"] <= min(m["operator", "talk_time_s"] + m["citizen", "talk_time_s"], 10.0) + 1e-9
    assert m["call", "interruptions"] >= m["operator", "interruptions"] + m["citizen", "interruptions"]
