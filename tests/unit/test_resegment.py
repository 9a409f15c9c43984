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
    a, b = truth[6], truth[7]  # the last A turn, then B after a 0.4 s pause: pyannote made them one A turn
    merged = truth[:6] + [SpeakerTurn(start=a.start, end=b.end, speaker="A")]
    out = relabel_turns(wave, merged)
    assert len(out) == 8 and [t.speaker for t in out[-2:]] == ["A", "B"]
    assert a.end - 0.1 <= out[-2].end <= b.start + 0.1
    assert relabel_turns(wave, merged, split_gain=0.0) == tuple(merged)


def test_the_diarizer_applies_the_three_passes_its_options_name():
    from models.diarization import DiarizationOptions, PyannoteDiarizer

    rng = np.random.default_rng(5)
    wave, truth, given = _call(rng, {4: "B"})
    # 40 ms early, and 0.15 s too wide into the (quiet) pauses each side
    early = [SpeakerTurn(start=round(t.start - 0.19, 3), end=round(t.end + 0.11, 3), speaker=t.speaker) for t in given]
    diarizer = object.__new__(PyannoteDiarizer)  # no models needed for the second look
    diarizer.options = DiarizationOptions()
    out = diarizer._refine(wave, early)
    assert [t.speaker for t in out] == [t.speaker for t in truth]

    def excess(turns):  # seconds of turn outside the true voice
        return sum(abs(o.start - t.start) + abs(o.end - t.end) for o, t in zip(turns, truth))

    untrimmed = _with(diarizer, trim_above_floor_db=-1.0)._refine(wave, early)
    assert excess(untrimmed) == pytest.approx(8 * 0.30, abs=0.02)  # shifted 40 ms: still 0.15 s too wide each side
    assert excess(out) < 0.5 * excess(untrimmed)
    diarizer.options = DiarizationOptions(time_shift_s=0.0, relabel_margin=-1.0, trim_above_floor_db=-1.0)
    assert diarizer._refine(wave, early) == early


def test_a_turn_cut_in_two_by_a_wrong_label_becomes_one_again():
    rng = np.random.default_rng(6)
    wave, truth, _ = _call(rng)
    t = truth[2]
    middle = round((t.start + t.end) / 2, 3)
    cut = truth[:2] + [SpeakerTurn(start=t.start, end=middle, speaker="A"),
                       SpeakerTurn(start=middle, end=t.end, speaker="B")] + truth[3:]
    assert list(relabel_turns(wave, cut)) == truth


def test_shift_clips_turn_ends_to_the_call():
    (turn,) = shift_turns([SpeakerTurn(start=9.0, end=9.98, speaker="A")], 0.04, 10.0)
    assert (turn.start, turn.end) == (9.04, 10.0)
    assert shift_turns([SpeakerTurn(start=9.96, end=10.2, speaker="A")], 0.04, 10.0) == ()


def _with(diarizer, **options):
    from dataclasses import replace as changed

    from models.diarization import PyannoteDiarizer

    other = object.__new__(PyannoteDiarizer)
    other.options = changed(diarizer.options, **options)
    return other
