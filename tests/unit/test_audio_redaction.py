"""The redacted audio a role without raw text hears (pipeline.stages.audio_redaction): which stretches are
silenced (text tags → words → times, padding, merging, edges) and how (every channel, the WAV patched in place)."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import soundfile as sf

from pipeline.stages import audio_redaction as ar
from pipeline.stages.audio_redaction import RedactedSpan, SegmentText


def _words(start: float, n: int, step: float = 0.3, dur: float = 0.25) -> tuple[tuple[float, float], ...]:
    return tuple((round(start + step * i, 3), round(start + step * i + dur, 3)) for i in range(n))


def _seg(shown, raw, words=(), start=1.0, end=6.0, seq=0, channel=None):
    return SegmentText(seq=seq, start=start, end=end, shown=shown, raw=raw, words=words, channel=channel)


# --------------------------------------------------------------------------- which words, which times

def test_the_words_behind_a_tag_are_timed_by_the_recognisers_words():
    raw = "số của tôi là không chín không năm một hai ba bốn năm sáu nhé"
    words = _words(1.0, 15)
    spans = ar.redacted_spans([_seg("số của tôi là [SĐT] nhé", raw, words)])
    assert spans == (RedactedSpan(words[4][0], words[13][1], "phone", 0, "words", None),)


def test_tags_glued_to_punctuation_and_tags_with_a_space():
    raw = "biển số 47A1-23456, tên Nguyễn Văn Hùng."
    shown = "biển số [BIỂN SỐ], tên [TÊN]."
    words = _words(0.0, 7)
    spans = ar.redacted_spans([_seg(shown, raw, words, start=0.0)])
    assert [(s.kind, s.start, s.end) for s in spans] == [
        ("plate", words[2][0], words[2][1]), ("person_name", words[4][0], words[6][1])]


def test_each_tag_of_a_segment_is_its_own_span_and_untagged_segments_give_none():
    raw = "tôi là Hùng số 0905123456 cảm ơn"
    shown = "tôi là [TÊN] số [SĐT] cảm ơn"
    words = _words(2.0, 7)
    segs = [_seg("dạ tổng đài xin nghe", "dạ tổng đài xin nghe", _words(0.0, 5), start=0.0, end=1.5),
            _seg(shown, raw, words, start=2.0, end=4.5, seq=1, channel=1)]
    spans = ar.redacted_spans(segs)
    assert [(s.kind, s.seq, s.channel, s.start, s.end) for s in spans] == [
        ("person_name", 1, 1, words[2][0], words[2][1]), ("phone", 1, 1, words[4][0], words[4][1])]


def test_a_number_split_across_two_segments_is_silenced_in_both():
    a = _seg("số tôi là [SĐT]", "số tôi là không chín không năm", _words(0.0, 7), start=0.0, end=2.1)
    b = _seg("[SĐT] nhé", "một hai ba bốn năm sáu nhé", _words(2.5, 7), start=2.5, end=4.6, seq=1)
    spans = ar.redacted_spans([a, b])
    assert [(s.seq, s.start, s.end) for s in spans] == [(0, 0.9, 2.05), (1, 2.5, 4.25)]


def test_without_raw_text_a_tag_takes_the_words_between_its_neighbours():
    words = _words(1.0, 15)
    one = ar.redacted_spans([_seg("số của tôi là [SĐT] nhé", None, words)])
    assert [(s.start, s.end, s.timing) for s in one] == [(words[4][0], words[13][1], "words")]
    # two tags: one span from the first to the last (the words between them cannot be told apart)
    two = ar.redacted_spans([_seg("tôi là [TÊN], số [SĐT] ạ", None, _words(0.0, 9), start=0.0)])
    assert [(s.start, s.end) for s in two] == [(0.6, 2.35)]
    # raw text equal to the shown text (the warehouse keeps none: segments_raw is coalesced) reads the same
    assert ar.redacted_spans([_seg("số của tôi là [SĐT] nhé", "số của tôi là [SĐT] nhé", words)]) == one


def test_when_the_text_does_not_line_up_with_the_words_the_span_is_spread_with_a_margin():
    raw = "số của tôi là không chín không năm một hai ba bốn năm sáu nhé"
    spans = ar.redacted_spans([_seg("số của tôi là [SĐT] nhé", raw, _words(1.0, 12), start=1.0, end=6.0)])
    (s,) = spans
    assert s.timing == "spread"
    # by text position over the segment's 5 s, then ± SPREAD_MARGIN_S
    lo = 1.0 + 5.0 * raw.index("không") / len(raw)
    hi = 1.0 + 5.0 * raw.index(" nhé") / len(raw)
    assert s.start == pytest.approx(lo - ar.SPREAD_MARGIN_S) and s.end == pytest.approx(hi + ar.SPREAD_MARGIN_S)


def test_nothing_to_place_by_silences_the_whole_segment():
    no_words = ar.redacted_spans([_seg("số [SĐT]", None, (), start=3.0, end=7.5)])
    assert [(s.start, s.end, s.timing) for s in no_words] == [(3.0, 7.5, "segment")]
    too_few = ar.redacted_spans([_seg("số của tôi là [SĐT]", None, _words(3.0, 3), start=3.0, end=7.5)])
    assert [(s.start, s.end, s.timing) for s in too_few] == [(3.0, 7.5, "segment")]


def test_approximate_word_times_widen_every_span():
    words = _words(1.0, 15)
    exact = ar.redacted_spans([_seg("số của tôi là [SĐT] nhé", None, words)])
    wide = ar.redacted_spans([_seg("số của tôi là [SĐT] nhé", None, words)], word_times="approximate")
    assert wide[0].start == pytest.approx(exact[0].start - ar.SPREAD_MARGIN_S)
    assert wide[0].end == pytest.approx(exact[0].end + ar.SPREAD_MARGIN_S) and wide[0].timing == "spread"


def test_an_operators_own_name_left_in_the_text_is_left_in_the_audio():
    raw = "dạ em là Hương tổng đài viên xin nghe"
    assert ar.redacted_spans([_seg(raw, raw, _words(0.0, 8), start=0.0)]) == ()


def test_call_spans_reads_the_warehouse_rows():
    rows = {"status": "done", "duration_s": 9.0, "word_times": "model",
            "segments": [{"seq": 0, "start_s": 1.0, "end_s": 3.0, "channel": 1, "shown": "số [SĐT]", "raw": "số 0905123456"}],
            "words": [(0, 1.0, 1.4), (0, 1.4, 2.9)]}
    assert ar.call_spans(rows) == (RedactedSpan(1.4, 2.9, "phone", 0, "words", 1),)


# --------------------------------------------------------------------------- padding, merging, samples

def _span(a, b):
    return RedactedSpan(a, b, "phone", 0, "words")


def test_spans_are_padded_clipped_and_merged():
    spans = [_span(0.1, 1.0), _span(1.4, 2.0), _span(5.0, 5.5), _span(9.8, 9.95)]
    got = ar.silence_intervals(spans, 10.0, pad_before=0.25, pad_after=0.3)
    assert got == [pytest.approx(i) for i in [(0.0, 2.3), (4.75, 5.8), (9.55, 10.0)]]
    # pads that do not reach leave two stretches
    got = ar.silence_intervals(spans[:2], 10.0, pad_before=0.1, pad_after=0.1)
    assert got == [pytest.approx(i) for i in [(0.0, 1.1), (1.3, 2.1)]]
    assert ar.silence_intervals([], 10.0) == []


def test_sample_ranges_round_outward_and_stay_inside_the_recording():
    assert ar.sample_ranges([(0.10001, 0.2)], 8000, 16000) == [(800, 1600)]
    assert ar.sample_ranges([(0.10003, 0.20003)], 16000, 16000) == [(1600, 3201)]
    assert ar.sample_ranges([(1.9, 3.0), (0.5, 0.6), (0.55, 0.7)], 8000, 16000) == [(4000, 5600), (15200, 16000)]
    assert ar.sample_ranges([(2.5, 3.0)], 8000, 16000) == []  # past the end


def test_silence_samples_clears_every_channel_and_nothing_else():
    rng = np.random.default_rng(1)
    x = rng.uniform(-0.5, 0.5, (2, 8000)).astype(np.float32)
    y = ar.silence_samples(x, 8000, [(0.25, 0.5)])
    assert np.all(y[:, 2000:4000] == 0)
    assert np.array_equal(y[:, :2000], x[:, :2000]) and np.array_equal(y[:, 4000:], x[:, 4000:])
    assert np.any(x[:, 2000:4000] != 0)  # the input is untouched


# --------------------------------------------------------------------------- the WAV patched in place

def _wav(samples: np.ndarray, rate: int, subtype: str) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples.T if samples.ndim == 2 else samples, rate, format="WAV", subtype=subtype)
    return buf.getvalue()


@pytest.mark.parametrize("subtype,silence", [("PCM_16", 0), ("PCM_24", 0), ("PCM_U8", 0), ("FLOAT", 0),
                                             ("ULAW", 0), ("ALAW", 0)])
def test_a_wav_is_patched_in_place_in_its_own_encoding(subtype, silence):
    rng = np.random.default_rng(2)
    x = rng.uniform(-0.6, 0.6, (2, 8000)).astype(np.float32)
    data = _wav(x, 8000, subtype)
    out = ar.redact_wav_bytes(data, [(0.25, 0.5)])
    assert out is not None and len(out) == len(data)
    layout = ar.wav_layout(data)
    a, b = layout.data_offset + 2000 * layout.block_align, layout.data_offset + 4000 * layout.block_align
    assert out[:a] == data[:a] and out[b:] == data[b:]  # byte for byte outside the stretch
    assert out[a:b] != data[a:b]
    decoded, _ = sf.read(io.BytesIO(out), always_2d=True)
    assert np.abs(decoded[2000:4000]).max() <= 1e-3  # both channels silent in the stretch (μ-law/A-law: ±1 step)


def test_a_wav_with_chunks_before_its_data_and_cut_short():
    x = np.full(8000, 0.3, np.float32)
    data = _wav(x, 8000, "PCM_16")
    # insert a LIST chunk (odd length, padded) before "data", then cut the file short
    fmt_end = data.index(b"data")
    extra = b"LIST" + struct.pack("<I", 5) + b"abcde\x00"
    data = data[:fmt_end] + extra + data[fmt_end:]
    data = data[:-4000]  # 2000 of the 8000 frames missing
    layout = ar.wav_layout(data)
    assert layout.n_frames == 6000
    out = ar.redact_wav_bytes(data, [(0.5, 2.0)])  # past the end of what is there
    assert len(out) == len(data)
    start = layout.data_offset + 4000 * 2
    assert out[start:] == b"\x00" * (len(data) - start) and out[:start] == data[:start]


def test_what_is_not_a_patchable_wav_is_decoded(tmp_path):
    assert ar.wav_layout(b"ID3\x04 not a wav") is None
    x = 0.4 * np.sin(2 * np.pi * 300 * np.arange(16000) / 16000).astype(np.float32)
    path = tmp_path / "call.flac"
    sf.write(path, np.stack([x, x]).T, 16000, format="FLAC")
    body, media = ar.redacted_recording(path, [(0.25, 0.5)])
    assert media == "audio/wav"
    y, rate = sf.read(io.BytesIO(body), always_2d=True)
    assert rate == 16000 and y.shape == (16000, 2)
    assert np.all(y[4000:8000] == 0) and np.abs(y[:3990]).max() > 0.3 and np.abs(y[8010:]).max() > 0.3


def test_a_link_is_not_followed(tmp_path):
    real = tmp_path / "real.wav"
    real.write_bytes(_wav(np.zeros(800, np.float32), 8000, "PCM_16"))
    link = tmp_path / "link.wav"
    link.symlink_to(real)
    with pytest.raises(OSError):
        ar.redacted_recording(link, [(0.0, 0.05)])


def test_a_number_span_takes_in_the_number_words_the_tag_left_out():
    # the detector tagged only the tail of the number ("… một ba xăng [SĐT]"): its head is silenced too
    raw = "chứng minh của tôi là con không sáu chín hai bảy một ba xăng không ba ba năm không nhé"
    shown = "chứng minh của tôi là con không sáu chín hai bảy một ba xăng [SĐT] nhé"
    words = _words(1.0, len(raw.split()))
    (span,) = ar.redacted_spans([_seg(shown, raw, words, end=8.0)])
    assert (span.start, span.end) == (words[6][0], words[18][1])  # "không sáu" … "năm không"; "con", "nhé" kept
    # a name is not widened over number words next to it
    (name,) = ar.redacted_spans([_seg("tôi là [TÊN] hai mươi tuổi", "tôi là lan hai mươi tuổi", _words(1.0, 6))])
    assert (name.start, name.end) == (_words(1.0, 6)[2][0], _words(1.0, 6)[2][1])


def test_a_number_cut_by_a_segment_boundary_is_silenced_in_both_segments():
    head = _seg("gọi món gì của tôi là ông không ba một", "gọi món gì của tôi là ông không ba một",
                _words(20.0, 10), start=15.0, end=23.0, seq=3, channel=1)
    other_side = _seg("không ba một", "không ba một", _words(21.0, 3), start=20.0, end=23.0, seq=4, channel=0)
    tail = _seg("[SĐT] quyến rũ", "ba bảy bảy hai không mười quyến rũ", _words(23.2, 8), start=23.1, end=26.0,
                seq=5, channel=1)
    spans = ar.redacted_spans([head, other_side, tail])
    assert [(s.seq, s.start, s.end) for s in spans] == [(3, head.words[7][0], head.words[9][1]),
                                                        (5, tail.words[0][0], tail.words[5][1])]
    far = _seg(head.shown, head.raw, _words(10.0, 10), start=5.0, end=13.0, seq=3, channel=1)  # 10 s earlier
    assert [s.seq for s in ar.redacted_spans([far, tail])] == [5]


def test_the_neighbour_segment_may_start_with_one_other_word_before_the_number_goes_on():
    head = _seg("chứng minh của tôi [CCCD]", "chứng minh của tôi không sáu hai bảy một ba", _words(20.0, 10),
                start=20.0, end=23.0, seq=3, channel=1)
    tail = _seg("anh không ba ba năm không", "anh không ba ba năm không", _words(23.2, 6), start=23.1, end=25.0,
                seq=5, channel=1)
    spans = ar.redacted_spans([head, tail])
    assert [(s.seq, s.start, s.end) for s in spans] == [(3, head.words[4][0], head.words[9][1]),
                                                        (5, tail.words[1][0], tail.words[5][1])]
    chat = _seg("anh chị cảm ơn nhé", "anh chị cảm ơn nhé", _words(23.2, 5), start=23.1, end=25.0, seq=5, channel=1)
    assert [s.seq for s in ar.redacted_spans([head, chat])] == [3]
