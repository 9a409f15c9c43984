"""The second look at diarized turns (models/resegment.py) on synthetic voices."""

import numpy as np
import pytest

from models.resegment import relabel_turns, shift_turns, trim_quiet_edges
from pipeline.records import SAMPLE_RATE, SpeakerTurn

SR = SAMPLE_RATE


def _voice(seconds: float, f0: float, formants: tuple[float, ...], rng: np.random.Generator) -> np.ndarray:
    """A buzzy vowel-like sound: harmonics of a wandering f0 shaped by fixed formants."""
    t = np.arange(int(seconds * SR)) / SR
    pitch = f0 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t + rng.uniform(0, 6)))
    phase = 2 * np.pi * np.cumsum(pitch) / SR
    out = np.zeros_like(t)
    for h in range(1, 30):
        freq = h * f0
        if freq > 3800:
            break
        gain = sum(np.exp(-((freq - f) / 150.0) ** 2) for f in formants) + 0.02
        out += gain * np.sin(h * phase)
    return (0.1 * out / np.abs(out).max()).astype(np.float32)


def _call(rng, labels_wrong: dict[int, str] | None = None):
    """Eight alternating turns of two voices (A: low, B: high) with pauses; returns the
    waveform, the true turns and the turns with some labels swapped."""
    voices = {"A": (110.0, (500.0, 1500.0)), "B": (230.0, (850.0, 2600.0))}
    pieces, truth, t = [], [], 0.0
    for i in range(8):
        who = "AB"[i % 2]
        pause = np.zeros(int(0.4 * SR), np.float32)
        sound = _voice(2.0, *voices[who], rng)
        pieces += [pause, sound]
        t += 0.4
        truth.append(SpeakerTurn(start=round(t, 3), end=round(t + 2.0, 3), speaker=who))
        t += 2.0
    wave = np.concatenate(pieces + [np.zeros(int(0.4 * SR), np.float32)])
    wave = wave + rng.normal(0, 1e-3, wave.shape).astype(np.float32)
    given = [SpeakerTurn(start=x.start, end=x.end, speaker=(labels_wrong or {}).get(i, x.speaker))
             for i, x in enumerate(truth)]
    return wave, truth, given


def test_a_turn_given_to_the_wrong_voice_goes_back():
    rng = np.random.default_rng(0)
    wave, truth, given = _call(rng, {2: "B"})
    assert given != truth
    assert list(relabel_turns(wave, given)) == truth


def test_right_labels_are_left_alone():
    rng = np.random.default_rng(1)
    wave, truth, _ = _call(rng)
    assert relabel_turns(wave, truth) == tuple(truth)


def test_one_speaker_or_too_little_speech_is_left_alone():
    rng = np.random.default_rng(2)
    wave, truth, _ = _call(rng)
    alone = [SpeakerTurn(start=x.start, end=x.end, speaker="A") for x in truth]
    assert relabel_turns(wave, alone) == tuple(alone)
    short = [truth[0], SpeakerTurn(start=truth[1].start, end=truth[1].start + 0.5, speaker="B")]
    assert relabel_turns(wave, short) == tuple(short)


def test_shift_moves_turns_later_within_the_call():
    turns = [SpeakerTurn(start=0.0, end=1.0, speaker="A"), SpeakerTurn(start=9.99, end=10.0, speaker="B")]
    shifted = shift_turns(turns, 0.04, 10.0)
    assert shifted[0] == SpeakerTurn(start=0.04, end=1.04, speaker="A")
    assert len(shifted) == 1  # the last one would start past the end of the call
    assert shift_turns(turns, -0.04, 10.0)[0].start == 0.0


def test_quiet_edges_are_cut_off_speech_is_not():
    rng = np.random.default_rng(3)
    wave = rng.normal(0, 1e-3, 4 * SR).astype(np.float32)
    wave[SR: 2 * SR] += _voice(1.0, 150.0, (700.0, 2000.0), rng)
    turns = [SpeakerTurn(start=0.85, end=2.5, speaker="A")]
    (trimmed,) = trim_quiet_edges(wave, turns)
    assert trimmed.start == pytest.approx(1.0, abs=0.011)
    assert trimmed.end == pytest.approx(2.3, abs=0.011)  # at most 0.2 s off an edge
    inside = [SpeakerTurn(start=1.1, end=1.9, speaker="A")]
    assert trim_quiet_edges(wave, inside) == tuple(inside)


def test_two_voices_merged_into_one_turn_are_split_where_the_voice_changes():
    rng = np.random.default_rng(4)
    wave, truth, _ = _call(rng)
    # the last A turn runs straight into a B voice, with no pause: pyannote's merged turn
    a, b = truth[6], truth[7]
    start = int(a.start * SR)
    wave = wave.copy()
    wave[start + 2 * SR: start + 3 * SR] = _voice(1.0, 230.0, (850.0, 2600.0), rng)
    merged = truth[:6] + [SpeakerTurn(start=a.start, end=a.end + 1.0, speaker="A"), b]
    out = relabel_turns(wave, merged, split_gain=50.0)
    pieces = [t for t in out if t.start >= a.start - 0.01]
    assert [t.speaker for t in pieces][:2] == ["A", "B"]
    assert pieces[0].end == pytest.approx(a.end, abs=0.15)
    assert relabel_turns(wave, merged, split_gain=0.0) == tuple(merged)


def test_the_diarizer_applies_the_three_passes_its_options_name():
    from models.diarization import DiarizationOptions, PyannoteDiarizer

    rng = np.random.default_rng(5)
    wave, truth, given = _call(rng, {4: "B"})
    early = [SpeakerTurn(start=round(t.start - 0.04, 3), end=round(t.end - 0.04, 3), speaker=t.speaker) for t in given]
    diarizer = object.__new__(PyannoteDiarizer)  # no models needed for the second look
    diarizer.options = DiarizationOptions()
    out = diarizer._refine(wave, early)
    assert [t.speaker for t in out] == [t.speaker for t in truth]
    assert all(abs(o.start - t.start) < 0.03 and abs(o.end - t.end) < 0.03 for o, t in zip(out, truth))
    diarizer.options = DiarizationOptions(time_shift_s=0.0, relabel_margin=-1.0, trim_above_floor_db=-1.0)
    assert diarizer._refine(wave, early) == early
