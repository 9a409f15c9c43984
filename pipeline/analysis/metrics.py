"""Conversation metrics of one call: who talked how long, how fast, how loud, over whom.

Named after what call-analytics products report (talk time, non-talk time, interruptions,
talk speed, loudness), measured from the transcript's segments and the decoded audio.
Pure: no I/O, the inputs are never modified.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.intervals import Interval
from pipeline.intervals import intersect as _intersect
from pipeline.intervals import merge as _merge
from pipeline.intervals import subtract as _subtract
from pipeline.intervals import total as _total
from pipeline.records import DecodedAudio, Segment
from pipeline.textnorm import syllables

SCOPES = ("call", "operator", "citizen")
_ROLES = SCOPES[1:]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MetricsOptions:
    interruption_min_overlap_s: float = 0.3  # s the interrupted side must keep talking after the turn starts;
    # shorter overlaps are ordinary turn-taking plus timestamp jitter
    clip_level: float = 0.98  # |sample| at or above this counts as clipped; μ-law's largest code decodes to 0.98
    floor_dbfs: float = -100.0  # level reported for digital silence instead of -inf, dBFS
    pitch_fmin_hz: float = 65.0  # lowest fundamental searched, Hz
    pitch_fmax_hz: float = 450.0  # highest fundamental searched, Hz
    pitch_frame_s: float = 0.064  # pyin analysis window, s (must hold two periods of pitch_fmin_hz)
    pitch_hop_s: float = 0.032  # s between pitch frames
    pitch_max_speech_s: float = 20.0  # s of each speaker's speech analysed, in blocks spread over the call;
    # 0 skips pitch (the slowest metric: pyin needs about 1 s per 20 s of speech on one core)
    pitch_block_s: float = 1.0  # s per block when the speech is longer than pitch_max_speech_s
    pitch_min_frames: int = 5  # fewer voiced frames than this: no pitch reported
    pitch_range_percentiles: tuple[float, float] = (10.0, 90.0)  # pitch range is the spread between these
    snr_guard_s: float = 0.2  # s trimmed off each side of a pause before it counts as noise
    snr_min_noise_s: float = 0.3  # s of noise needed to report an SNR


def measure_conversation(
    segments: Sequence[Segment],
    audio: DecodedAudio,
    *,
    options: MetricsOptions = MetricsOptions(),
) -> dict[tuple[str, str], float]:
    """Measure one call. Keys are ``(scope, name)``; scope is ``call``, ``operator`` or ``citizen``.

    A segment's role comes from ``Segment.role``; segments without a known role count
    in the ``call`` scope only. For stereo audio a segment is measured on its
    ``Segment.channel``; otherwise on the mono mix, without the stretches where another
    speaker talks at the same time.

    Timing (every scope unless noted):

    - ``talk_time_s``: seconds with speech (overlapping segments counted once).
    - ``non_talk_time_s``, ``non_talk_share`` (call only): seconds nobody talks, and
      that as a share 0..1 of the recording.
    - ``longest_silence_s``: longest pause between two turns (leading and trailing
      silence excluded), s. For a role: the longest pause that ended with that role
      speaking, i.e. how long it kept the other side waiting.
    - ``overlap_s``: seconds two speakers talk at once (for a role: it and someone else).
    - ``interruptions``: turns that start while another speaker is talking and keeps
      talking ``interruption_min_overlap_s`` longer; counted for the one who starts.
    - ``talk_speed_spm``: written syllables per minute of talk time.

    Acoustics, on the scope's speech (call: everyone's speech pooled):

    - ``loudness_mean_dbfs``: RMS level, dBFS (a full-scale sine is -3.01 dBFS).
    - ``loudness_peak_dbfs``: sample peak, dBFS (a full-scale sine is 0 dBFS).
    - ``pitch_median_hz``, ``pitch_range_hz``: median fundamental of voiced frames
      (pyin) and the spread between ``pitch_range_percentiles``, Hz.
    - ``clipping_ratio``: share 0..1 of samples at or above ``clip_level``.
    - ``snr_db``: speech power over the power in pauses nobody talks in, dB.

    A metric that cannot be measured (pitch of a role that never speaks, SNR of a call
    without pauses) is left out rather than set to NaN.
    """
    duration = audio.duration_s
    turns: dict[str, list[_Turn]] = {}
    for seg in segments:
        start, end = max(0.0, seg.start), min(duration, seg.end)
        if end > start:
            turns.setdefault(_speaker_key(seg), []).append((start, end, seg))
    spans = {key: _merge([(a, b) for a, b, _ in items]) for key, items in turns.items()}
    out = _timing(turns, spans, duration, options)
    out.update(_acoustics(turns, spans, audio, options))
    return out


_Turn = tuple[float, float, Segment]  # (start s, end s clipped to the recording, segment)


def _timing(
    turns: dict[str, list[_Turn]], spans: dict[str, list[Interval]], duration: float, options: MetricsOptions
) -> dict[tuple[str, str], float]:
    """Talk, silence, overlap, interruption and speed metrics; see measure_conversation."""
    speech = _merge([iv for ivs in spans.values() for iv in ivs])
    out: dict[tuple[str, str], float] = {}
    talk = _total(speech)
    out["call", "talk_time_s"] = talk
    out["call", "non_talk_time_s"] = max(0.0, duration - talk)
    out["call", "non_talk_share"] = (duration - talk) / duration if duration > 0 else 0.0
    gaps = [(a[1], b[0]) for a, b in zip(speech, speech[1:])]
    out["call", "longest_silence_s"] = max((b - a for a, b in gaps), default=0.0)
    out["call", "overlap_s"] = _overlap_time(list(spans.values()))
    interruptions = {key: _count_interruptions(key, spans, options) for key in spans}
    out["call", "interruptions"] = float(sum(interruptions.values()))
    if talk > 0:
        n = sum(len(syllables(s.text)) for items in turns.values() for _, _, s in items)
        out["call", "talk_speed_spm"] = n / (talk / 60.0)

    for role in _ROLES:
        own = spans.get(role, [])
        role_talk = _total(own)
        out[role, "talk_time_s"] = role_talk
        starts = np.array([a for a, _ in own])
        out[role, "longest_silence_s"] = max(
            (b - a for a, b in gaps if starts.size and np.isclose(starts, b).any()), default=0.0
        )
        out[role, "overlap_s"] = _total(_intersect(own, _others(role, spans)))
        out[role, "interruptions"] = float(interruptions.get(role, 0))
        if role_talk > 0:
            n = sum(len(syllables(s.text)) for _, _, s in turns[role])
            out[role, "talk_speed_spm"] = n / (role_talk / 60.0)
    return out


def _acoustics(
    turns: dict[str, list[_Turn]], spans: dict[str, list[Interval]], audio: DecodedAudio, options: MetricsOptions
) -> dict[tuple[str, str], float]:
    """Loudness, pitch, clipping and SNR per scope; see measure_conversation."""
    rate, duration = audio.sample_rate, audio.duration_s
    mono = audio.mono()
    speech = _merge([iv for ivs in spans.values() for iv in ivs])
    pauses = _shrink(_subtract([(0.0, duration)], speech), options.snr_guard_s)

    def source(channel: int | None) -> np.ndarray:
        return mono if channel is None else audio.samples[channel]

    # Each speaker's samples, from its channel (stereo) or the mono mix.
    pieces: dict[str, list[np.ndarray]] = {}
    channels: dict[str, set[int | None]] = {}
    for key, items in turns.items():
        # Sorted so pitch sampling sees the pieces in the same order on every run.
        for ch in sorted({_channel(s, audio) for _, _, s in items}, key=lambda c: -1 if c is None else c):
            ivs = _merge([(a, b) for a, b, s in items if _channel(s, audio) == ch])
            if ch is None:
                # On a mono mix the other voice is in the same samples: leave it out when we can.
                ivs = _subtract(ivs, _others(key, spans)) or ivs
            pieces.setdefault(key, []).extend(_slices(source(ch), ivs, rate))
            channels.setdefault(key, set()).add(ch)
    # Pitch once per speaker; the call pools its speakers' voiced frames.
    f0s = {key: _voiced_f0(parts, rate, options) for key, parts in pieces.items()}

    out: dict[tuple[str, str], float] = {}
    for scope in SCOPES:
        keys = list(pieces) if scope == "call" else [scope]
        parts = [p for k in keys for p in pieces.get(k, [])]
        if not parts:
            continue
        x = np.concatenate(parts)
        power = float(np.mean(np.square(x, dtype=np.float64)))
        out[scope, "loudness_mean_dbfs"] = _db(power, options.floor_dbfs, power=True)
        out[scope, "loudness_peak_dbfs"] = _db(float(np.max(np.abs(x))), options.floor_dbfs)
        out[scope, "clipping_ratio"] = float(np.mean(np.abs(x) >= options.clip_level))
        pitch = _pitch(np.concatenate([f0s[k] for k in keys if k in f0s]), options)
        if pitch is not None:
            out[scope, "pitch_median_hz"], out[scope, "pitch_range_hz"] = pitch
        used = set().union(*(channels[k] for k in keys if k in channels))
        noise = [p for ch in used for p in _slices(source(ch), pauses, rate)]
        n_noise = sum(p.size for p in noise)
        if n_noise >= options.snr_min_noise_s * rate:
            noise_power = sum(float(np.sum(np.square(p, dtype=np.float64))) for p in noise) / n_noise
            floor = 10 ** (options.floor_dbfs / 10)
            out[scope, "snr_db"] = 10 * math.log10(max(power, floor) / max(noise_power, floor))
    return out


def _others(key: str, spans: dict[str, list[Interval]]) -> list[Interval]:
    """Merged speech of every speaker but ``key``."""
    return _merge([iv for k, ivs in spans.items() if k != key for iv in ivs])


def _speaker_key(seg: Segment) -> str:
    """Who is talking: the role when known, else the diarization label (so two unknowns can overlap)."""
    if seg.role in _ROLES:
        return seg.role
    return f"unknown:{seg.speaker or ''}"


def _channel(seg: Segment, audio: DecodedAudio) -> int | None:
    if audio.channels > 1 and seg.channel is not None and 0 <= seg.channel < audio.channels:
        return seg.channel
    return None










def _shrink(intervals: list[Interval], by: float) -> list[Interval]:
    return [(a + by, b - by) for a, b in intervals if b - a > 2 * by]


def _overlap_time(speakers: list[list[Interval]]) -> float:
    """Seconds during which at least two of the speakers (each a merged list) talk."""
    events = sorted([(a, 1) for ivs in speakers for a, _ in ivs] + [(b, -1) for ivs in speakers for _, b in ivs])
    total, active, last = 0.0, 0, 0.0
    for t, step in events:
        if active >= 2:
            total += t - last
        active += step
        last = t
    return total


def _count_interruptions(key: str, spans: dict[str, list[Interval]], options: MetricsOptions) -> int:
    """Turns of ``key`` that start inside another speaker's turn that goes on long enough."""
    others = [iv for k, ivs in spans.items() if k != key for iv in ivs]
    return sum(
        any(c < a and d - a >= options.interruption_min_overlap_s for c, d in others) for a, _ in spans[key]
    )


def _slices(signal: np.ndarray, intervals: list[Interval], rate: int) -> list[np.ndarray]:
    n = signal.shape[0]
    out = []
    for a, b in intervals:
        i, j = min(n, int(round(a * rate))), min(n, int(round(b * rate)))
        if j > i:
            out.append(signal[i:j])
    return out


def _db(value: float, floor_dbfs: float, *, power: bool = False) -> float:
    if value <= 0:
        return floor_dbfs
    return max(floor_dbfs, (10 if power else 20) * math.log10(value))


def _spread(parts: list[np.ndarray], rate: int, options: MetricsOptions) -> list[np.ndarray]:
    """At most ``pitch_max_speech_s`` of the parts: blocks spread evenly over them, to keep pyin fast."""
    total = sum(p.size for p in parts)
    budget = int(options.pitch_max_speech_s * rate)
    if total <= budget:
        return parts
    x = np.concatenate(parts)
    block = max(1, int(options.pitch_block_s * rate))
    starts = np.linspace(0, x.size - block, max(1, budget // block)).astype(int)
    return [x[s : s + block] for s in starts]


def _voiced_f0(parts: list[np.ndarray], rate: int, options: MetricsOptions) -> np.ndarray:
    """Fundamental of each voiced frame of the parts (pyin), Hz.

    pyin rather than plain yin: on telephone audio (no energy below 300 Hz) yin often
    locks onto a harmonic in frames pyin correctly calls unvoiced.
    """
    import librosa  # heavy (numba); only needed here

    frame = int(2 ** math.ceil(math.log2(options.pitch_frame_s * rate)))
    hop = max(1, int(options.pitch_hop_s * rate))
    if options.pitch_max_speech_s <= 0:
        return np.zeros(0)
    voiced = []
    for x in _spread(parts, rate, options):
        if x.size < frame:
            continue
        try:
            f0, flag, _ = librosa.pyin(
                x.astype(np.float32, copy=False), fmin=options.pitch_fmin_hz, fmax=options.pitch_fmax_hz,
                sr=rate, frame_length=frame, hop_length=hop, center=False,
            )
        except Exception as exc:  # pitch is one optional metric: never lose the call for it
            # Seen once in a demo run: numba's pyin Viterbi raised SystemError ("returned a
            # result with an exception set") under heavy load; not reproducible on its own.
            log.warning("pitch estimation failed (%s: %s); pitch left out", type(exc).__name__, exc)
            continue
        voiced.append(f0[flag & np.isfinite(f0)])
    return np.concatenate(voiced) if voiced else np.zeros(0)


def _pitch(f0: np.ndarray, options: MetricsOptions) -> tuple[float, float] | None:
    """(median, range) of voiced-frame fundamentals, Hz; None when too few frames are voiced."""
    if f0.size < options.pitch_min_frames:
        return None
    lo, hi = np.percentile(f0, options.pitch_range_percentiles)
    return float(np.median(f0)), float(hi - lo)
