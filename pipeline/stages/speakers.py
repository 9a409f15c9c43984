"""Speakers stage: who said what, and who is the operator.

- Stereo calls (operator and citizen recorded on separate channels):
  :func:`assign_channel_speakers` labels each channel's segments by channel and drops
  crosstalk leakage (the other side heard faintly through the line).
- Mono calls: :func:`assign_speakers` gives each transcribed word the diarization turn
  it overlaps most and splits segments where the speaker changes; :func:`assign_roles`
  then decides which speaker is the operator from what they say and who spoke first.

Pure functions over records; the diarization itself is :mod:`models.diarization`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from pipeline.intervals import merge, total
from pipeline.records import DecodedAudio, Segment, SpeakerTurn, Word
from pipeline.textnorm import fold_accents


@dataclass(frozen=True)
class SpeakerOptions:
    leakage_db: float = 10.0  # dB: a segment this much louder on another channel is crosstalk
    first_speaker_weight: float = 1.0  # role score for speaking first (hotlines answer first)
    strong_cue_weight: float = 2.0  # role score per distinct strong phrase cue
    weak_cue_weight: float = 1.0  # role score per distinct weak phrase cue


DEFAULT_OPTIONS = SpeakerOptions()

# Phrase cues, written with diacritics for readers and matched accent-folded, because
# ASR output often loses or garbles diacritics. Each is a regex over folded words.
_OPERATOR_STRONG = (
    "tổng đài",
    "xin nghe",
    "(tôi|em|chúng tôi) có thể giúp gì",
    "cần (hỗ trợ|giúp) gì",
    "cảm ơn (anh|chị|anh chị|ông|bà|cô|chú|bạn) đã gọi",
    "xin phép ghi nhận",
    "(đã|xin|sẽ) ghi nhận",
    "chúng tôi sẽ chuyển",
    "chuyển (cho|đến|tới|về) (đơn vị|bộ phận|cơ quan|phòng)",
)
_OPERATOR_WEAK = ("xin chào", "(anh|chị) cho (tôi|em) xin", "vui lòng")
_CITIZEN_STRONG = (
    "(tôi|em|cháu) muốn phản ánh",
    "nhà (tôi|em|cháu)",
    "cho (tôi|em|cháu) hỏi",
    "(ở|tại) (đường|phường|xã|thôn|buôn|tổ dân phố|hẻm|ngõ)",
    "(xóm|khu|hẻm|ngõ) (tôi|em|nhà tôi)",
)
_CITIZEN_WEAK = ("phản ánh", "(tôi|em) ở", "(tôi|em) tên là", "bị hỏng", "mấy ngày (nay|rồi)")


def _compile(phrases: Sequence[str]) -> tuple[re.Pattern, ...]:
    # fold_accents keeps "|", "(", ")" as punctuation would otherwise be removed, so
    # fold each alternative separately.
    out = []
    for phrase in phrases:
        folded = re.sub(r"[^()|\s]+", lambda m: fold_accents(m.group(0)), phrase)
        out.append(re.compile(r"(?:^| )" + folded + r"(?= |$)"))
    return tuple(out)


_CUES = {
    ("operator", "strong"): _compile(_OPERATOR_STRONG),
    ("operator", "weak"): _compile(_OPERATOR_WEAK),
    ("citizen", "strong"): _compile(_CITIZEN_STRONG),
    ("citizen", "weak"): _compile(_CITIZEN_WEAK),
}


# --- stereo -------------------------------------------------------------------------


def _rms_db(samples: np.ndarray, sample_rate: int, start: float, end: float) -> np.ndarray:
    """RMS level in dBFS of each channel over [start, end) s; shape (channels,)."""
    a = max(0, int(round(start * sample_rate)))
    b = min(samples.shape[1], max(a + 1, int(round(end * sample_rate))))
    chunk = samples[:, a:b].astype(np.float64)
    if chunk.shape[1] == 0:
        return np.full(samples.shape[0], -math.inf)
    rms = np.sqrt(np.mean(chunk**2, axis=1))
    with np.errstate(divide="ignore"):
        return 20.0 * np.log10(rms)


def _overlaps(a: Segment, others: Sequence[Segment]) -> bool:
    return any(min(a.end, o.end) > max(a.start, o.start) for o in others)


def assign_channel_speakers(
    segments_by_channel: Mapping[int, Sequence[Segment]],
    audio: DecodedAudio,
    *,
    operator_channel: int = 0,
    options: SpeakerOptions = DEFAULT_OPTIONS,
) -> tuple[Segment, ...]:
    """Label the segments of a stereo call by channel and drop crosstalk leakage.

    ``segments_by_channel``: channel index -> segments transcribed from that channel.
    A segment is leakage, and dropped, when over its time span the audio of another
    channel is at least ``options.leakage_db`` dB louder (RMS) than its own channel and
    that channel has a segment overlapping it in time: the words were really spoken on
    the other side. Kept segments get ``channel``, ``speaker="ch<N>"`` and ``role``
    (operator for ``operator_channel``, citizen otherwise). Sorted by start (s).

    Raises ValueError when a channel index or ``operator_channel`` is not in ``audio``.
    """
    n_channels = audio.channels
    if not 0 <= operator_channel < n_channels:
        raise ValueError(f"operator_channel {operator_channel} not in a {n_channels}-channel recording")
    for channel in segments_by_channel:
        if not 0 <= channel < n_channels:
            raise ValueError(f"segments given for channel {channel} of a {n_channels}-channel recording")

    kept: list[Segment] = []
    for channel, segments in segments_by_channel.items():
        others = [s for c, segs in segments_by_channel.items() if c != channel for s in segs]
        for seg in segments:
            levels = _rms_db(audio.samples, audio.sample_rate, seg.start, seg.end)
            own = levels[channel]
            loudest_other = max((levels[c] for c in range(n_channels) if c != channel), default=-math.inf)
            louder_elsewhere = loudest_other - own >= options.leakage_db if math.isfinite(loudest_other) else False
            if louder_elsewhere and _overlaps(seg, others):
                continue
            kept.append(
                replace(
                    seg,
                    channel=channel,
                    speaker=f"ch{channel}",
                    role="operator" if channel == operator_channel else "citizen",
                )
            )
    return tuple(sorted(kept, key=lambda s: (s.start, s.end, s.channel)))


# --- mono: words to diarization turns -----------------------------------------------


def _best_turn(start: float, end: float, turns: Sequence[SpeakerTurn]) -> str:
    """Speaker of the turn overlapping [start, end] most, else of the nearest turn."""
    best, best_overlap = None, 0.0
    for turn in turns:
        overlap = min(end, turn.end) - max(start, turn.start)
        if overlap > best_overlap:
            best, best_overlap = turn.speaker, overlap
    if best is not None:
        return best
    mid = (start + end) / 2.0
    nearest = min(turns, key=lambda t: max(t.start - mid, mid - t.end, 0.0))
    return nearest.speaker


def _text_of(words: Sequence[Word]) -> str:
    return " ".join(w.text.strip() for w in words if w.text.strip())


def assign_speakers(segments: Sequence[Segment], turns: Sequence[SpeakerTurn]) -> tuple[Segment, ...]:
    """Give each word the speaker of the diarization turn it overlaps most.

    A segment whose words belong to several speakers is split into one new segment per
    run of same-speaker words (text rebuilt from the words, start/end from the words, s).
    A segment without words takes the turn it overlaps most. With no turns at all the
    segments come back unchanged. Never mutates its input; result sorted by start.
    """
    if not turns:
        return tuple(segments)
    turns = sorted(turns, key=lambda t: t.start)
    out: list[Segment] = []
    for seg in segments:
        if not seg.words:
            out.append(replace(seg, speaker=_best_turn(seg.start, seg.end, turns)))
            continue
        labels = [_best_turn(w.start, w.end, turns) for w in seg.words]
        runs: list[tuple[str, list[Word]]] = []
        for word, label in zip(seg.words, labels):
            if runs and runs[-1][0] == label:
                runs[-1][1].append(word)
            else:
                runs.append((label, [word]))
        if len(runs) == 1:
            out.append(replace(seg, speaker=runs[0][0]))
            continue
        for label, words in runs:
            out.append(
                replace(
                    seg,
                    start=words[0].start,
                    end=words[-1].end,
                    text=_text_of(words),
                    words=tuple(words),
                    speaker=label,
                )
            )
    return tuple(sorted(out, key=lambda s: (s.start, s.end)))


# --- mono: roles --------------------------------------------------------------------


def _cue_score(text: str, side: str, options: SpeakerOptions) -> float:
    folded = fold_accents(text)
    strong = sum(1 for rx in _CUES[(side, "strong")] if rx.search(folded))
    weak = sum(1 for rx in _CUES[(side, "weak")] if rx.search(folded))
    return strong * options.strong_cue_weight + weak * options.weak_cue_weight


def assign_roles(
    segments: Sequence[Segment],
    *,
    options: SpeakerOptions = DEFAULT_OPTIONS,
) -> tuple[tuple[Segment, ...], dict[str, str], float]:
    """Decide which speaker of a mono call is the operator; the others are citizens.

    Cues, summed per speaker as operator-minus-citizen evidence: speaking first (the
    hotline answers the call), operator phrasing ("tổng đài… xin nghe", "tôi có thể
    giúp gì", "xin phép ghi nhận", "chúng tôi sẽ chuyển"…) and citizen phrasing ("tôi
    muốn phản ánh", "nhà tôi", "cho tôi hỏi", "ở đường/phường"…), matched on
    accent-folded text. Each distinct phrase counts once per speaker.

    Returns (segments with ``role`` set, speaker -> role, confidence 0..1). Confidence
    grows with the evidence margin between the operator and the next speaker: 0.5 is a
    coin toss, speaking first alone gives ~0.73, first plus a greeting ~0.95. Segments
    without a speaker get role "unknown"; with no speaker at all confidence is 0.
    """
    spoken = sorted((s for s in segments if s.speaker), key=lambda s: (s.start, s.end))
    if not spoken:
        return tuple(replace(s, role="unknown") for s in segments), {}, 0.0

    order: list[str] = []
    text_by_speaker: dict[str, list[str]] = {}
    for seg in spoken:
        if seg.speaker not in text_by_speaker:
            order.append(seg.speaker)
            text_by_speaker[seg.speaker] = []
        text_by_speaker[seg.speaker].append(seg.text)

    evidence: dict[str, float] = {}
    for speaker in order:
        text = " ".join(text_by_speaker[speaker])
        first = options.first_speaker_weight if speaker == order[0] else 0.0
        evidence[speaker] = first + _cue_score(text, "operator", options) - _cue_score(text, "citizen", options)

    ranked = sorted(order, key=lambda sp: (-evidence[sp], order.index(sp)))
    operator = ranked[0]
    if len(ranked) == 1:
        margin = evidence[operator]  # alone: only its own evidence speaks
    else:
        margin = evidence[operator] - evidence[ranked[1]]
    confidence = round(0.5 + 0.5 * math.tanh(max(margin, 0.0) / 2.0), 3)
    if len(ranked) == 1 and margin <= 0:
        roles = {operator: "unknown"}
        confidence = 0.0
    else:
        roles = {sp: ("operator" if sp == operator else "citizen") for sp in order}
    out = tuple(replace(s, role=roles.get(s.speaker, "unknown") if s.speaker else "unknown") for s in segments)
    return out, roles, confidence


def talk_time_by_role(segments: Sequence[Segment]) -> dict[str, float]:
    """Seconds of talk per role (segments without a role count as "unknown").

    Overlapping segments of the same role are counted once: the same union
    (:mod:`pipeline.intervals`) as the ``talk_time_s`` metric of :mod:`pipeline.analysis.metrics`.
    """
    spans: dict[str, list[tuple[float, float]]] = {}
    for seg in segments:
        spans.setdefault(seg.role or "unknown", []).append((seg.start, seg.end))
    return {role: round(total(merge(items)), 3) for role, items in spans.items() if merge(items)}
