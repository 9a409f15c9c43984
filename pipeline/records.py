"""Typed records passed between stages. Frozen: a stage returns new records, never mutates.

Units are in each field's comment: seconds (s), hertz (Hz), decibels full scale (dBFS).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

ROLES = ("operator", "citizen", "unknown")


@dataclass(frozen=True)
class CallLogEntry:
    """One row of the PBX call log. The caller number never leaves ingest in clear."""

    pbx_call_id: str  # the PBX's own id for the call
    file_name: str  # recording path relative to the source folder
    started_at: datetime | None  # local time the call started
    caller_hash: str | None  # salted SHA-256 of the normalised caller number
    caller_last3: str | None  # last three digits, for QA to tell callers apart
    operator_ext: str | None  # operator's extension
    direction: str | None  # inbound | outbound


@dataclass(frozen=True)
class Recording:
    """A recording file found by ingest, identified by the SHA-256 of its bytes."""

    path: Path  # absolute path of the file in the source folder
    relpath: str  # path relative to the source folder (POSIX separators)
    sha256: str  # hex digest of the file's bytes
    size_bytes: int  # file size in bytes
    log: CallLogEntry | None = None  # matching call-log row, if any

    @property
    def call_id(self) -> str:
        """Stable id of the call: the first 16 hex digits of the recording hash."""
        return self.sha256[:16]


@dataclass(frozen=True, eq=False)
class DecodedAudio:
    """Decoded audio, resampled, channels kept apart."""

    samples: np.ndarray  # float32, shape (channels, n_samples), range [-1, 1]
    sample_rate: int  # Hz of ``samples`` (16000 after decode)
    source_sample_rate: int  # Hz of the file as recorded
    source_format: str = ""  # container/codec as soundfile or the decoder names it
    warnings: tuple[str, ...] = ()  # decodable but suspect, e.g. "truncated"

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration_s(self) -> float:
        return self.samples.shape[1] / float(self.sample_rate)

    def mono(self) -> np.ndarray:
        """Mean of the channels, float32 shape (n_samples,)."""
        return self.samples.mean(axis=0).astype(np.float32)


@dataclass(frozen=True)
class Word:
    start: float  # s from the start of the call
    end: float  # s
    text: str  # as the model wrote it, leading space stripped
    probability: float  # model's probability of the word, 0..1


@dataclass(frozen=True)
class Segment:
    """A stretch of speech with its text. Speaker fields are filled by the speakers stage."""

    start: float  # s from the start of the call
    end: float  # s
    text: str  # transcript text (raw, may hold personal data)
    avg_logprob: float = 0.0  # model's mean token log-probability
    no_speech_prob: float = 0.0  # model's probability that this is not speech, 0..1
    words: tuple[Word, ...] = ()
    channel: int | None = None  # source channel for stereo calls
    speaker: str | None = None  # speaker label: "ch0", "SPEAKER_00"…
    role: str | None = None  # operator | citizen | unknown
    confidence: float = 0.0  # 0..1, derived from avg_logprob and no_speech_prob
    flags: tuple[str, ...] = ()  # e.g. "loop_removed", "hallucination_removed"


@dataclass(frozen=True)
class TranscriptInfo:
    language: str  # detected or forced language code, e.g. "vi"
    language_probability: float  # 0..1
    duration_s: float  # audio seconds transcribed
    speech_s: float = 0.0  # seconds VAD kept as speech
    flags: tuple[str, ...] = ()  # call-level: "not_vietnamese", "no_speech"


@dataclass(frozen=True)
class Transcript:
    segments: tuple[Segment, ...]
    info: TranscriptInfo

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments if s.text)


@dataclass(frozen=True)
class SpeakerTurn:
    start: float  # s
    end: float  # s
    speaker: str  # label, e.g. "SPEAKER_00" or "ch1"


@dataclass(frozen=True)
class TopicScore:
    topic: str  # taxonomy key, e.g. "environment"
    score: float  # calibrated probability 0..1
    assigned: bool  # score above the topic's threshold


@dataclass(frozen=True)
class CallAnalysis:
    """What the analyse stage derives from a transcript (and the audio for metrics)."""

    topics: tuple[TopicScore, ...] = ()
    places: tuple[dict, ...] = ()  # see pipeline.places.Place.as_row()
    routes: tuple[dict, ...] = ()  # see pipeline.routing
    urgent: bool = False
    urgency_reasons: tuple[str, ...] = ()
    metrics: dict = field(default_factory=dict)  # (scope, name) -> value; scope call|operator|citizen
    redacted_segments: tuple[str, ...] = ()  # redacted text, one per transcript segment
    pii_counts: dict = field(default_factory=dict)  # kind -> count
    caller_initials: str | None = None  # initials of the name the citizen gave ("N.V.H."), for exports
    needs_review: bool = False
    review_reasons: tuple[str, ...] = ()
    summary: str = ""  # one-line Vietnamese summary (pipeline.summary)
    sentiment: dict = field(default_factory=dict)  # pipeline.sentiment.CallSentiment.as_dict(); {} when not scored
