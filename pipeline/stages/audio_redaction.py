"""What a role that may not read raw text hears: the recording with each redacted stretch silenced.

The transcript such a role reads has personal data replaced by tags (``[SĐT]``, ``[TÊN]``…:
:mod:`pipeline.analysis.pii`). The same stretches of the recording are replaced by digital
silence, so a manager who sees ``[SĐT]`` cannot play the number:

1. :func:`redacted_spans` finds, segment by segment, the words of the unredacted text that the
   shown text replaced by a tag, and times them with the recogniser's word times (exact when
   the text still lines up word for word with the recogniser's words; else spread over the
   segment by text position with a wide margin; else the whole segment).
2. :func:`silence_intervals` pads each span (``PAD_BEFORE_S``/``PAD_AFTER_S``, chosen by
   measurement: docs/security.md, "What each role can hear") and merges what overlaps.
3. :func:`redacted_recording` writes the silence on **every channel** (a stereo call's other
   side carries the speaker's voice as line echo or crosstalk, and the listener there often
   repeats the number). A PCM/μ-law/A-law/float WAV is patched in place: the served file is the
   recording byte for byte except inside the silenced stretches. Anything else is decoded and
   served as 16 kHz PCM WAV.

The text is the source of truth: what the shown transcript hides (the detector's spans, and a
QA correction's) is what is silenced; personal data the detector missed stays audible, as it
stays readable. Times are seconds from the start of the recording as decoded.
"""

from __future__ import annotations

import io
import math
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np

from pipeline.analysis.numerals import DIGIT_WORDS, TEN, TENS
from pipeline.analysis.pii import TAGS
from pipeline.files import open_regular
from pipeline.intervals import Interval, merge
from pipeline.stages.audio import decode_audio

# Padding around each redacted span, in seconds. Chosen on the tuning calls of
# `hotline eval redaction-audio` (docs/security.md, "What each role can hear"): the recogniser's
# word times start a digit late by up to ~0.1 s and may end it early, so the pads cover that.
PAD_BEFORE_S = 0.25  # s of audio silenced before a span's first word
PAD_AFTER_S = 0.30  # s silenced after its last word
# A span timed by spreading the text over its segment (no usable word times) is widened this much
# on each side: spreading is off by up to a word or two (not measured: a fail-safe margin).
SPREAD_MARGIN_S = 1.0  # s

# A number's span is widened over the number words next to it (a digit word, or a token with a digit),
# crossing at most this many other words between two of them: the recogniser often writes the edge of
# a spoken number so that the detector tags only part of it ("… một ba xăng [SĐT]"), and those
# digits are the number's, audible however the text reads (measured: docs/figures.md).
NUMBER_KINDS = frozenset({"phone", "national_id", "bank_account", "plate"})
NUMBER_BRIDGE = 1  # other words crossed between two number words
_NUMBER_WORDS = frozenset(DIGIT_WORDS) | {TEN, TENS}

TAG_KINDS = {tag: kind for kind, tag in TAGS.items()}
_TAG_RE = "|".join(re.escape(t) for t in sorted(TAGS.values(), key=len, reverse=True))
_TOKEN = re.compile(rf"{_TAG_RE}|(?:(?!{_TAG_RE})\S)+")  # a tag, or a run of non-space up to the next tag
_IS_TAG = re.compile(rf"^(?:{_TAG_RE})$")
_WORDLIKE = re.compile(r"\w")


@dataclass(frozen=True)
class SegmentText:
    """One transcript segment as stored: what :func:`redacted_spans` reads."""

    seq: int  # order in the call
    start: float  # s
    end: float  # s
    shown: str  # the redacted text (tags in place of personal data)
    raw: str | None  # the unredacted text; None where the warehouse does not keep it
    words: tuple[tuple[float, float], ...] = ()  # (start s, end s) of the recogniser's words, in order
    channel: int | None = None  # source channel of a stereo call


@dataclass(frozen=True)
class RedactedSpan:
    """A stretch of the recording that the shown transcript hides, before padding."""

    start: float  # s
    end: float  # s
    kind: str  # pipeline.analysis.pii.KINDS, from the tag
    seq: int  # segment
    timing: str  # "words": recogniser word times | "spread": by text position | "segment": the whole segment
    channel: int | None = None  # the speaker's channel (stereo); the silence covers every channel


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def _tags(text: str) -> list[str]:
    return re.findall(_TAG_RE, text or "")


def _kind(tokens: Iterable[str]) -> str:
    kinds = [TAG_KINDS[t] for t in tokens if t in TAG_KINDS]
    return kinds[0] if kinds else "phone"


def _word_times_usable(seg: SegmentText, n_tokens: int) -> bool:
    return len(seg.words) == n_tokens and all(
        a is not None and b is not None and math.isfinite(a) and math.isfinite(b) and b >= a for a, b in seg.words)


def _whole(seg: SegmentText, kind: str) -> RedactedSpan:
    return RedactedSpan(seg.start, seg.end, kind, seg.seq, "segment", seg.channel)


def _spread(seg: SegmentText, text: str, char_start: int, char_end: int, kind: str) -> RedactedSpan:
    """The span's share of the segment by text position, widened by SPREAD_MARGIN_S (kept inside the segment ± the margin)."""
    n = max(1, len(text))
    dur = max(0.0, seg.end - seg.start)
    a = seg.start + dur * char_start / n - SPREAD_MARGIN_S
    b = seg.start + dur * char_end / n + SPREAD_MARGIN_S
    return RedactedSpan(max(a, seg.start - SPREAD_MARGIN_S), min(b, seg.end + SPREAD_MARGIN_S), kind, seg.seq,
                        "spread", seg.channel)


def _raw_regions(raw_tokens: list[str], shown_tokens: list[str]) -> list[tuple[int, int, str]]:
    """(first raw token, one past the last, kind) for each part of the shown text that holds a tag."""
    out = []
    matcher = SequenceMatcher(None, raw_tokens, shown_tokens, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        tags = [t for t in shown_tokens[j1:j2] if _IS_TAG.match(t)]
        if tags:
            out.append((i1, i2, _kind(tags)))
    return out


def _is_number_word(token: str) -> bool:
    t = token.strip(".,;:!?()\"'").lower()
    return t in _NUMBER_WORDS or any(c.isdigit() for c in t)


def widen_number(tokens: Sequence[str], i1: int, i2: int, bridge: int = NUMBER_BRIDGE) -> tuple[int, int]:
    """``[i1, i2)`` grown over the number words on each side, crossing at most ``bridge`` other words
    between two number words."""
    def step(i: int, d: int) -> int:
        while True:
            for gap in range(bridge + 1):
                j = i + d * (gap + 1)
                if 0 <= j < len(tokens) and _is_number_word(tokens[j]):
                    i = j
                    break
            else:
                return i
    lo = step(i1, -1) if i1 < len(tokens) else i1
    hi = step(i2 - 1, 1) + 1 if i2 > 0 else i2
    return lo, hi


def _offsets(text: str, tokens: Sequence[str]) -> list[tuple[int, int]]:
    """Character offsets of each token of ``text`` (for spreading)."""
    offsets, pos = [], 0
    for tok in tokens:
        pos = text.index(tok, pos)
        offsets.append((pos, pos + len(tok)))
        pos += len(tok)
    return offsets


def _place(seg: SegmentText, raw_tokens: list[str], i1: int, i2: int, kind: str) -> RedactedSpan:
    """The span of raw tokens ``[i1, i2)`` (``i2 <= i1``: the gap before token ``i1``) of ``seg``."""
    exact = _word_times_usable(seg, len(raw_tokens))
    if i2 <= i1:  # a tag where the raw text has nothing: the gap between its neighbours
        if exact and raw_tokens:
            a = seg.words[i1 - 1][1] if i1 > 0 else seg.start
            b = seg.words[i1][0] if i1 < len(seg.words) else seg.end
            return RedactedSpan(min(a, b), max(a, b), kind, seg.seq, "words", seg.channel)
        return _whole(seg, kind)
    if exact:
        return RedactedSpan(seg.words[i1][0], seg.words[i2 - 1][1], kind, seg.seq, "words", seg.channel)
    offsets = _offsets(seg.raw, raw_tokens)
    return _spread(seg, seg.raw, offsets[i1][0], offsets[i2 - 1][1], kind)


def _spans_with_raw(seg: SegmentText) -> tuple[list[RedactedSpan], list[tuple[str, str]]]:
    """The spans of ``seg``, and ("head" | "tail", kind) for each number span that reaches an end of the
    segment (the number may go on in the segment before or after)."""
    raw_tokens = seg.raw.split()
    spans, edges = [], []
    for i1, i2, kind in _raw_regions(raw_tokens, _tokens(seg.shown)):
        if kind in NUMBER_KINDS and i2 > i1:
            i1, i2 = widen_number(raw_tokens, i1, i2)
            if i1 == 0:
                edges.append(("head", kind))
            if i2 == len(raw_tokens):
                edges.append(("tail", kind))
        spans.append(_place(seg, raw_tokens, i1, i2, kind))
    return spans, edges


def _edge_number(seg: SegmentText, side: str, kind: str) -> RedactedSpan | None:
    """The number words at the end (``side="tail"``) or the start (``"head"``) of ``seg``'s raw text: the
    part of a number that the recogniser put in the segment next to the one holding its tag."""
    if seg.raw is None or _tags(seg.raw):
        return None
    tokens = seg.raw.split()
    if not tokens:
        return None
    # the first number word from that end, past at most NUMBER_BRIDGE other words ("[CCCD]" | "anh không ba …")
    ends = range(len(tokens) - 1, -1, -1) if side == "tail" else range(len(tokens))
    k = next((j for n, j in enumerate(ends) if n <= NUMBER_BRIDGE and _is_number_word(tokens[j])), None)
    if k is None:
        return None
    i1, i2 = widen_number(tokens, k, k + 1)
    return _place(seg, tokens, i1, i2, kind)


def _spans_without_raw(seg: SegmentText) -> list[RedactedSpan]:
    """Only the shown text and the word times: the words the tags stand for lie between the words
    before the first tag and after the last (each written word is one recogniser word)."""
    tokens = [t for t in _tokens(seg.shown) if _IS_TAG.match(t) or _WORDLIKE.search(t)]
    tag_at = [k for k, t in enumerate(tokens) if _IS_TAG.match(t)]
    kind = _kind(tokens[k] for k in tag_at)
    left, right = tag_at[0], len(tokens) - 1 - tag_at[-1]
    n_tags, n = len(tag_at), len(seg.words)
    usable = n and all(a is not None and b is not None for a, b in seg.words)
    inner_words = sum(1 for t in tokens[tag_at[0] : tag_at[-1] + 1] if not _IS_TAG.match(t))
    if not usable or n < left + right + inner_words + n_tags:
        return [_whole(seg, kind)]
    first, last = seg.words[left], seg.words[n - right - 1]
    return [RedactedSpan(first[0], last[1], kind, seg.seq, "words", seg.channel)]


NEIGHBOUR_GAP_S = 1.0  # s between two segments of a speaker for a number to run on from one into the other


def _neighbour(segments: Sequence[SegmentText], at: int, side: str) -> SegmentText | None:
    """The segment of the same channel just before (``side="head"``) or after (``"tail"``) ``segments[at]``,
    when it lies within NEIGHBOUR_GAP_S of it."""
    seg = segments[at]
    order = range(at - 1, -1, -1) if side == "head" else range(at + 1, len(segments))
    for j in order:
        other = segments[j]
        if other.channel != seg.channel:
            continue
        near = (other.end >= seg.start - NEIGHBOUR_GAP_S) if side == "head" else (other.start <= seg.end + NEIGHBOUR_GAP_S)
        return other if near else None
    return None


def redacted_spans(segments: Sequence[SegmentText], *, word_times: str = "model") -> tuple[RedactedSpan, ...]:
    """The stretches of the call that the shown transcript hides, in time order (not padded).

    Per segment with a tag in ``shown``: the raw words replaced by a tag (a token diff of ``raw``
    against ``shown``), timed by the recogniser's words when they line up one to one with the
    raw text, else spread by text position (± SPREAD_MARGIN_S). Without raw text (not kept, or
    equal to the shown text), the tags lie between the words before and after them. Anything
    that cannot be placed silences the whole segment: when in doubt, silence.

    ``word_times``: ``"model"`` when the recogniser gave real word times; anything else
    (``"approximate"``: spread by the adapter) widens each span by SPREAD_MARGIN_S.
    """
    out: list[RedactedSpan] = []
    for at, seg in enumerate(segments):
        if not _tags(seg.shown):
            continue
        has_raw = seg.raw is not None and seg.raw.strip() and not _tags(seg.raw)
        spans, edges = _spans_with_raw(seg) if has_raw else (_spans_without_raw(seg), [])
        for side, kind in edges:  # a number cut by a segment boundary: its part in the neighbour segment
            nxt = _neighbour(segments, at, side)
            extra = _edge_number(nxt, "tail" if side == "head" else "head", kind) if nxt is not None else None
            if extra is not None:
                spans.append(extra)
        if not spans:  # tags in the shown text but none placed against the raw text (they disagree)
            spans = [_whole(seg, _kind(_tags(seg.shown)))]
        if word_times != "model":
            spans = [RedactedSpan(s.start - SPREAD_MARGIN_S, s.end + SPREAD_MARGIN_S, s.kind, s.seq,
                                  "spread" if s.timing == "words" else s.timing, s.channel) for s in spans]
        out.extend(spans)
    return tuple(sorted(dict.fromkeys(out), key=lambda s: (s.start, s.end)))  # a neighbour's own span once


def call_spans(rows: dict) -> tuple[RedactedSpan, ...]:
    """:func:`redacted_spans` of a call as :func:`pipeline.warehouse.calls.redaction_rows` reads it."""
    words: dict[int, list[tuple[float, float]]] = {}
    for seq, s, e in rows["words"]:
        words.setdefault(seq, []).append((s, e))
    segments = [SegmentText(seq=r["seq"], start=r["start_s"], end=r["end_s"], shown=r["shown"] or "", raw=r["raw"],
                            words=tuple(words.get(r["seq"], ())), channel=r["channel"]) for r in rows["segments"]]
    return redacted_spans(segments, word_times=rows["word_times"])


def silence_intervals(spans: Iterable[RedactedSpan], duration_s: float | None = None, *,
                      pad_before: float = PAD_BEFORE_S, pad_after: float = PAD_AFTER_S) -> list[Interval]:
    """Padded spans, clipped to ``[0, duration_s]`` (no upper clip when None), overlapping ones merged."""
    hi = math.inf if duration_s is None else float(duration_s)
    return merge((max(0.0, s.start - pad_before), min(hi, s.end + pad_after)) for s in spans)


def sample_ranges(intervals: Iterable[Interval], rate: int, n_frames: int) -> list[tuple[int, int]]:
    """``[first, last)`` frame indices at ``rate`` Hz covering each interval (outward rounding), clipped to the
    recording, merged."""
    frames = ((max(0, min(n_frames, math.floor(a * rate))), max(0, min(n_frames, math.ceil(b * rate))))
              for a, b in intervals)
    return [(int(lo), int(hi)) for lo, hi in merge(frames)]


def silence_samples(samples: np.ndarray, rate: int, intervals: Iterable[Interval]) -> np.ndarray:
    """A copy of ``samples`` (``(n,)`` or ``(channels, n)``) with every channel zero inside ``intervals``."""
    out = np.array(samples, copy=True)
    n = out.shape[-1]
    for lo, hi in sample_ranges(intervals, rate, n):
        out[..., lo:hi] = 0
    return out


# --------------------------------------------------------------------------- WAV in place

_PCM, _FLOAT, _ALAW, _MULAW, _EXTENSIBLE = 1, 3, 6, 7, 0xFFFE


@dataclass(frozen=True)
class WavLayout:
    """Where a WAV file's samples lie and what silence is in its encoding."""

    data_offset: int  # byte offset of the first frame
    n_frames: int  # whole frames present in the file (a cut-short file: what is there)
    block_align: int  # bytes per frame (all channels)
    rate: int  # Hz
    channels: int
    silence: bytes  # one frame of silence


def wav_layout(data: bytes) -> WavLayout | None:
    """The layout of a RIFF/WAVE file in PCM, IEEE float, A-law or μ-law (plain or extensible); None for
    anything else (other codecs, RF64, not a WAV), which the caller decodes instead."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if cid == b"fmt " and size >= 16 and body + 16 <= len(data):
            tag, channels, rate, _, block_align, bits = struct.unpack_from("<HHIIHH", data, body)
            if tag == _EXTENSIBLE and size >= 40 and body + 26 <= len(data):
                tag = struct.unpack_from("<H", data, body + 24)[0]  # the sub-format GUID's first two bytes
            fmt = (tag, channels, rate, block_align, bits)
        elif cid == b"data":
            if fmt is None:
                return None
            tag, channels, rate, block_align, bits = fmt
            if channels < 1 or rate < 1 or block_align < channels or block_align % channels:
                return None
            width = block_align // channels
            if tag == _PCM and bits <= 8:
                sample = b"\x80" * width  # unsigned 8-bit: 128 is zero
            elif tag in (_PCM, _FLOAT):
                sample = b"\x00" * width
            elif tag == _MULAW and width == 1:
                sample = b"\xff"  # G.711 μ-law code of 0
            elif tag == _ALAW and width == 1:
                sample = b"\xd5"  # G.711 A-law code of 0
            else:
                return None
            present = max(0, min(size, len(data) - body))
            return WavLayout(body, present // block_align, block_align, rate, channels, sample * channels)
        pos = body + size + (size & 1)
    return None


def redact_wav_bytes(data: bytes, intervals: Iterable[Interval]) -> bytes | None:
    """``data`` (a WAV file's bytes) with every frame inside ``intervals`` replaced by silence on every
    channel; every other byte unchanged. None when :func:`wav_layout` cannot place the samples."""
    layout = wav_layout(data)
    if layout is None:
        return None
    out = bytearray(data)
    for lo, hi in sample_ranges(intervals, layout.rate, layout.n_frames):
        a = layout.data_offset + lo * layout.block_align
        out[a : a + (hi - lo) * layout.block_align] = layout.silence * (hi - lo)
    return bytes(out)


def redacted_recording(path: str | Path, intervals: Sequence[Interval]) -> tuple[bytes, str]:
    """The recording at ``path`` with ``intervals`` silenced: ``(bytes, media type)``.

    A WAV in PCM, float, A-law or μ-law is patched in place (same format, same bytes outside the
    intervals); any other file is decoded (:func:`pipeline.stages.audio.decode_audio`, whose time
    base the transcript's times use) and written as 16 kHz 16-bit PCM WAV, channels kept. Raises
    :class:`~pipeline.errors.AudioDecodeError` for a file that does not decode.
    """
    path = Path(path)
    with open_regular(path) as fh:  # no symbolic link followed
        data = fh.read()
    patched = redact_wav_bytes(data, intervals)
    if patched is not None:
        return patched, "audio/wav"
    import soundfile as sf

    audio = decode_audio(path)
    samples = silence_samples(audio.samples, audio.sample_rate, intervals)
    buf = io.BytesIO()
    sf.write(buf, samples.T, audio.sample_rate, format="WAV", subtype="PCM_16")
    return buf.getvalue(), "audio/wav"
