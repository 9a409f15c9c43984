"""Speakers stage: words to diarization turns, stereo leakage, roles from cues."""

import numpy as np
import pytest

from pipeline.records import DecodedAudio, Segment, SpeakerTurn, Word
from pipeline.stages.speakers import assign_channel_speakers, assign_roles, assign_speakers, talk_time_by_role

SR = 16000


def _words(*spans):
    """Words from (start, end, text) triples."""
    return tuple(Word(start=s, end=e, text=t, probability=0.9) for s, e, t in spans)


def _segment(words, **kw):
    return Segment(start=words[0].start, end=words[-1].end, text=" ".join(w.text for w in words), words=words, **kw)


# --- words -> turns -------------------------------------------------------------------


def test_segment_split_where_speaker_changes():
    words = _words((0.0, 0.4, "alo"), (0.5, 0.9, "xin"), (1.0, 1.4, "nghe"), (1.6, 2.0, "chào"), (2.1, 2.5, "chị"))
    seg = _segment(words, avg_logprob=-0.3)
    turns = [SpeakerTurn(0.0, 1.5, "SPEAKER_00"), SpeakerTurn(1.5, 3.0, "SPEAKER_01")]

    out = assign_speakers([seg], turns)

    assert [s.speaker for s in out] == ["SPEAKER_00", "SPEAKER_01"]
    assert [s.text for s in out] == ["alo xin nghe", "chào chị"]
    assert (out[0].start, out[0].end) == (0.0, 1.4)
    assert (out[1].start, out[1].end) == (1.6, 2.5)
    assert all(s.avg_logprob == -0.3 for s in out)
    assert sum(len(s.words) for s in out) == len(words)
    assert seg.speaker is None  # input untouched


def test_word_takes_turn_of_largest_overlap():
    words = _words((0.9, 1.5, "vâng"))  # 0.1 s in the first turn, 0.5 s in the second
    turns = [SpeakerTurn(0.0, 1.0, "A"), SpeakerTurn(1.0, 2.0, "B")]
    assert assign_speakers([_segment(words)], turns)[0].speaker == "B"


def test_word_outside_every_turn_takes_nearest():
    words = _words((0.0, 0.3, "a"), (5.0, 5.2, "b"))
    turns = [SpeakerTurn(0.5, 1.0, "A"), SpeakerTurn(3.0, 4.5, "B")]
    out = assign_speakers([_segment(words)], turns)
    assert [s.speaker for s in out] == ["A", "B"]


def test_segment_without_words_takes_turn_of_max_overlap():
    seg = Segment(start=1.0, end=3.0, text="không có từ")
    turns = [SpeakerTurn(0.0, 1.5, "A"), SpeakerTurn(1.5, 4.0, "B")]
    assert assign_speakers([seg], turns)[0].speaker == "B"


def test_unsplit_segment_keeps_its_text_and_span():
    words = _words((0.2, 0.5, "xin"), (0.6, 0.9, "chào"))
    seg = Segment(start=0.0, end=1.2, text="Xin chào.", words=words)
    out = assign_speakers([seg], [SpeakerTurn(0.0, 2.0, "A")])
    assert out == (Segment(start=0.0, end=1.2, text="Xin chào.", words=words, speaker="A"),)


def test_no_turns_returns_segments_unchanged():
    seg = _segment(_words((0.0, 0.5, "a")))
    assert assign_speakers([seg], []) == (seg,)


# --- stereo leakage ---------------------------------------------------------------------


def _tone(seconds, amplitude, freq=220.0):
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _stereo():
    """Operator speaks 0-2 s on ch0, citizen 3-5 s on ch1; each leaks into the other
    channel 20 dB down (amplitude / 10)."""
    n = 6 * SR
    left, right = np.zeros(n, np.float32), np.zeros(n, np.float32)
    left[0 : 2 * SR] += _tone(2, 0.5)
    right[0 : 2 * SR] += _tone(2, 0.05)
    right[3 * SR : 5 * SR] += _tone(2, 0.4, 330.0)
    left[3 * SR : 5 * SR] += _tone(2, 0.04, 330.0)
    return DecodedAudio(samples=np.stack([left, right]), sample_rate=SR, source_sample_rate=8000)


def test_leaked_segments_are_dropped_and_channels_labelled():
    audio = _stereo()
    by_channel = {
        0: [Segment(0.0, 2.0, "tổng đài xin nghe"), Segment(3.1, 4.9, "nhà tôi bị ngập (leak)")],
        1: [Segment(0.1, 1.9, "tổng đài xin nghe (leak)"), Segment(3.0, 5.0, "nhà tôi bị ngập")],
    }

    out = assign_channel_speakers(by_channel, audio, operator_channel=0)

    assert [(s.text, s.speaker, s.role, s.channel) for s in out] == [
        ("tổng đài xin nghe", "ch0", "operator", 0),
        ("nhà tôi bị ngập", "ch1", "citizen", 1),
    ]


def test_quiet_segment_without_overlapping_speech_is_kept():
    # A faint segment is only leakage if the other side speaks at the same time.
    out = assign_channel_speakers({0: [], 1: [Segment(0.1, 1.9, "thì thầm")]}, _stereo())
    assert [s.text for s in out] == ["thì thầm"]


def test_operator_channel_sets_roles():
    audio = _stereo()
    out = assign_channel_speakers({0: [Segment(0.0, 2.0, "x")], 1: [Segment(3.0, 5.0, "y")]}, audio, operator_channel=1)
    assert {s.speaker: s.role for s in out} == {"ch0": "citizen", "ch1": "operator"}


def test_operator_channel_out_of_range_is_an_error():
    with pytest.raises(ValueError, match="operator_channel 2"):
        assign_channel_speakers({0: []}, _stereo(), operator_channel=2)


# --- roles ------------------------------------------------------------------------------


def _call(*lines):
    """Segments from (speaker, text) lines, 2 s each, in order."""
    return [Segment(start=2.0 * i, end=2.0 * i + 1.8, text=t, speaker=sp) for i, (sp, t) in enumerate(lines)]


def test_greeting_speaker_is_operator_even_when_not_first():
    segs = _call(
        ("B", "Alo, cho tôi hỏi, nhà tôi ở phường Tân Lợi bị mất điện"),
        ("A", "Dạ tổng đài 1022 xin nghe, tôi có thể giúp gì cho anh"),
        ("B", "Mất điện từ sáng"),
        ("A", "Dạ, chúng tôi xin phép ghi nhận và sẽ chuyển cho đơn vị điện lực"),
    )
    out, roles, confidence = assign_roles(segs)
    assert roles == {"B": "citizen", "A": "operator"}
    assert [s.role for s in out] == ["citizen", "operator", "citizen", "operator"]
    assert confidence > 0.9


def test_roles_from_accent_folded_asr_text():
    segs = _call(
        ("SPEAKER_01", "toi muon phan anh ve rac o duong Y Jut"),
        ("SPEAKER_00", "tong dai xin nghe a, co the giup gi cho chi"),
    )
    _, roles, _ = assign_roles(segs)
    assert roles == {"SPEAKER_01": "citizen", "SPEAKER_00": "operator"}


def test_without_phrase_cues_the_first_speaker_is_operator_with_lower_confidence():
    segs = _call(("X", "một hai ba"), ("Y", "bốn năm sáu"), ("X", "bảy tám"))
    _, roles, confidence = assign_roles(segs)
    _, _, confident = assign_roles(_call(("X", "tổng đài xin nghe"), ("Y", "bốn năm sáu")))
    assert roles == {"X": "operator", "Y": "citizen"}
    assert 0.5 < confidence < confident <= 1.0


def test_segments_without_speaker_get_unknown_role():
    segs = [Segment(0.0, 1.0, "a"), Segment(1.0, 2.0, "b", speaker="A")]
    out, roles, _ = assign_roles(segs)
    assert out[0].role == "unknown"
    assert roles == {"A": "operator"}
    assert assign_roles([Segment(0.0, 1.0, "a")])[2] == 0.0


def test_talk_time_by_role_counts_overlap_once():
    segs = [
        Segment(0.0, 2.0, "a", role="operator"),
        Segment(1.0, 3.0, "b", role="operator"),
        Segment(3.0, 4.5, "c", role="citizen"),
        Segment(5.0, 5.5, "d"),
    ]
    assert talk_time_by_role(segs) == {"operator": 3.0, "citizen": 1.5, "unknown": 0.5}
