"""Transcription stage logic with a scripted ASR: loops, hallucinations, language and speech flags."""

from __future__ import annotations

from dataclasses import replace
import numpy as np
import pytest

from models.asr import faster_whisper_kwargs, segment_confidence
from models.recognizer import FakeRecognizer
from pipeline.records import DecodedAudio, Segment, Word
from pipeline.stages.transcribe import (
    TranscribeOptions,
    clean_segments,
    collapse_loops,
    is_hallucination,
    speech_coverage,
    split_points,
    strip_hallucinations,
    transcribe,
    transcribe_call,
    uncovered_speech,
)

SR = 16000


ScriptedASR = FakeRecognizer  # the protocol's fake recogniser (models/recognizer.py)


def _speech(seconds=2.0):
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def _seg(text, start=0.0, end=1.0, words=()):
    return Segment(start=start, end=end, text=text, words=tuple(words), confidence=0.8)


def test_collapse_loops_keeps_one_occurrence():
    text, changed = collapse_loops("cho tôi hỏi bà bà bà bà bà bà ở đâu")
    assert changed
    assert text == "cho tôi hỏi bà ở đâu"


def test_collapse_loops_catches_phrase_loops_and_ignores_case_and_punctuation():
    text, changed = collapse_loops("Alo, anh ơi. alo anh ơi alo anh ơi, alo anh ơi")
    assert changed
    assert text.lower().count("alo") == 1


def test_natural_repetition_is_not_a_loop():
    for sentence in ("vâng vâng vâng em nghe", "dạ dạ anh nói đi", "cảm ơn anh cảm ơn anh"):
        assert collapse_loops(sentence) == (sentence, False)


@pytest.mark.parametrize("text", ["Hãy subscribe cho kênh Ghiền Mì Gõ để không bỏ lỡ những video hấp dẫn",
                                  "Cảm ơn các bạn đã theo dõi.", "HÃY ĐĂNG KÝ KÊNH"])
def test_known_hallucinations_are_recognised_whatever_the_case_and_accents(text):
    assert is_hallucination(text)


def test_real_speech_is_not_a_hallucination():
    assert not is_hallucination("Tôi muốn phản ánh về rác thải ở phường Tân Tiến")
    assert not is_hallucination("")


def test_hallucinated_phrase_is_cut_out_of_real_speech():
    text, removed = strip_hallucinations("Đường Quang Trung bị ngập nước rồi anh ơi. Cảm ơn các bạn đã theo dõi")
    assert removed
    assert "theo dõi" not in text and "Quang Trung" in text


def test_clean_segments_drops_hallucinations_and_marks_loops():
    words = [Word(0.1 * i, 0.1 * i + 0.1, "bà", 0.9) for i in range(6)]
    segments = [_seg("Cảm ơn các bạn đã theo dõi", 0, 2), _seg("bà bà bà bà bà bà", 2, 4, words), _seg("điện bị cúp", 4, 5)]
    kept, flags = clean_segments(segments)
    assert [s.text for s in kept] == ["bà", "điện bị cúp"]
    assert kept[0].flags == ("loop_removed",) and len(kept[0].words) == 1
    assert flags == ["hallucination_removed", "loop_removed"]


def test_clean_segments_merges_a_loop_across_segments():
    segments = [_seg("anh cho em xin địa chỉ", i, i + 1) for i in range(5)] + [_seg("ở Ea Kao", 5, 6)]
    kept, flags = clean_segments(segments)
    assert [s.text for s in kept] == ["anh cho em xin địa chỉ", "ở Ea Kao"]
    assert kept[0].end == 5 and "loop_removed" in kept[0].flags
    assert flags == ["loop_removed"]


def test_repeated_short_replies_and_two_identical_sentences_are_kept():
    kept, flags = clean_segments([_seg("alo", i, i + 1) for i in range(4)])
    assert len(kept) == 4 and flags == []
    kept, flags = clean_segments([_seg("anh cho em xin địa chỉ", i, i + 1) for i in range(2)])
    assert len(kept) == 2 and flags == []


def test_segment_confidence_is_a_probability_that_falls_with_logprob_and_no_speech():
    assert 0.0 <= segment_confidence(-5.0, 0.9) < segment_confidence(-0.5, 0.1) < segment_confidence(-0.1, 0.0) <= 1.0
    assert segment_confidence(0.3, 0.0) == 1.0


def test_uncovered_speech_finds_the_dropped_window():
    segments = [_seg("a", 0, 30), _seg("b", 60, 90)]
    assert uncovered_speech([(0, 90)], segments) == [(30, 60)]
    assert speech_coverage([(0, 90)], segments) == pytest.approx(2 / 3)
    assert speech_coverage([], segments) == 1.0


def test_silence_is_flagged_no_speech_and_never_decoded():
    asr = ScriptedASR(texts=("Hãy subscribe cho kênh",))
    audio = DecodedAudio(samples=np.zeros((1, 3 * SR), np.float32), sample_rate=SR, source_sample_rate=SR)
    (t,) = transcribe_call(audio, asr)
    assert t.segments == () and "no_speech" in t.info.flags
    assert asr.calls == []


def test_only_hallucination_output_is_flagged():
    t = transcribe(_speech(), ScriptedASR(texts=("Cảm ơn các bạn đã theo dõi",)))
    assert t.segments == ()
    assert {"no_speech", "hallucination_removed"} <= set(t.info.flags)


def test_other_language_is_flagged_and_decoded_in_that_language():
    asr = ScriptedASR(texts=("hello this is a test",), language=("en", 0.93))
    audio = DecodedAudio(samples=_speech()[None, :], sample_rate=SR, source_sample_rate=SR)
    (t,) = transcribe_call(audio, asr)
    assert "not_vietnamese" in t.info.flags
    assert asr.calls[0]["language"] == "en" and t.info.language == "en"


@pytest.mark.parametrize("language", [("vi", 0.97), ("en", 0.55)])
def test_vietnamese_or_unsure_detection_is_decoded_as_vietnamese(language):
    asr = ScriptedASR(language=language)
    audio = DecodedAudio(samples=_speech()[None, :], sample_rate=SR, source_sample_rate=SR)
    (t,) = transcribe_call(audio, asr)
    assert "not_vietnamese" not in t.info.flags
    assert asr.calls[0]["language"] == "vi"


def test_stereo_channels_are_transcribed_apart():
    asr = ScriptedASR()
    audio = DecodedAudio(samples=np.stack([_speech(), np.zeros(2 * SR, np.float32)]), sample_rate=SR,
                         source_sample_rate=8000)
    left, right = transcribe_call(audio, asr)
    assert left.segments and all(s.channel == 0 for s in left.segments)
    assert right.segments == () and "no_speech" in right.info.flags


def test_options_become_faster_whisper_arguments():
    kw = faster_whisper_kwargs(TranscribeOptions())
    assert kw["language"] == "vi" and kw["word_timestamps"] is True
    assert kw["vad_parameters"]["min_silence_duration_ms"] == TranscribeOptions().vad_min_silence_ms
    assert isinstance(kw["temperature"], list)
    fast = TranscribeOptions.fast()
    assert fast.beam_size <= TranscribeOptions().beam_size and len(fast.temperature) == 1


def test_long_audio_is_cut_in_pauses_into_bounded_pieces():
    speech = [(i * 10.0, i * 10.0 + 8.0) for i in range(150)]  # 25 min: 8 s speech, 2 s pause
    pieces = split_points(speech, 1500.0, 300.0)
    assert pieces[0][0] == 0.0 and pieces[-1][1] == 1500.0
    assert all(a < b for a, b in pieces) and all(b1 == a2 for (_, b1), (a2, _) in zip(pieces, pieces[1:]))
    assert all(b - a <= 300.0 for a, b in pieces[:-1]) and len(pieces) >= 5
    for a, _ in pieces[1:]:  # every cut lies in a pause, never inside speech
        assert not any(s < a < e for s, e in speech)
    assert split_points([(0, 20)], 30.0, 300.0) == [(0.0, 30.0)]


def test_pieces_are_transcribed_apart_and_times_shifted_back():
    asr = ScriptedASR()
    samples = np.concatenate([_speech(4), np.zeros(2 * SR, np.float32), _speech(4)])
    t = transcribe(samples, asr, replace(TranscribeOptions(), max_piece_s=5.0), speech=[(0, 4), (6, 10)])
    assert len(asr.calls) == 2
    assert [round(s.start, 2) for s in t.segments] == [0.0, 5.0]
    assert t.segments[-1].end == pytest.approx(10.0)


def test_the_recording_rate_reaches_the_recogniser():
    asr = ScriptedASR()
    audio = DecodedAudio(samples=_speech()[None, :], sample_rate=SR, source_sample_rate=8000)
    transcribe_call(audio, asr)
    assert asr.calls and all(c["source_rate"] == 8000 for c in asr.calls)
