"""Typed records passed between stages. Frozen: a stage returns new records, never mutates.

Units are in each field's comment: seconds (s), hertz (Hz), decibels full scale (dBFS).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

ROLES = ("operator", "citizen", "unknown")
# Hz of decoded audio: every stage and model after decode works at this rate (the one definition).
SAMPLE_RATE = 16000


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
    dialled: str | None = None  # the hotline number the citizen dialled (DID), inbound only; never the caller's


@dataclass(frozen=True)
class Recording:
    """A recording file found by ingest, identified by the SHA-256 of its bytes."""

    path: Path  # absolute path of the file in the source folder
    relpath: str  # path relative to the source folder (POSIX separators)
    sha256: str  # hex digest of the file's bytes
    size_bytes: int  # file size in bytes
    log: CallLogEntry | None = None  # matching call-log row, if any
    # No call-log start time: the start estimated from the recording (pipeline.intake.start_time) and where from
    estimated_start: datetime | None = None  # local time
    start_source: str | None = None  # metadata | file_name | file_time

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


# Words a place kind is said with ("phường Tân Tiến"); streets, hamlets and numbers have their own.
KIND_WORDS = {"ward": "phường", "commune": "xã", "town": "thị trấn", "district": "huyện", "province": "tỉnh"}


@dataclass(frozen=True)
class Place:
    """A location said in a call (pipeline.analysis.places)."""

    kind: str  # one of pipeline.analysis.places.KINDS
    text: str  # as said (input substring)
    name: str  # canonical name with diacritics (admin units, streets) or tidied as said
    unit_code: str | None  # gazetteer code for admin units, else None
    resolved_from: str | None  # old unit ("phường Tân Tiến") when it was merged or renamed
    start: int  # char offset in the input
    end: int  # char offset just past the place

    @property
    def label(self) -> str:
        """Name with its kind word where it has one: ``phường Tân Tiến``, ``đường Lê Duẩn``."""
        if self.kind in KIND_WORDS:
            return f"{KIND_WORDS[self.kind]} {self.name}"
        if self.kind == "street" and not self.name.lower().startswith(("quốc lộ", "tỉnh lộ", "đường")):
            return f"đường {self.name}"
        return self.name

    def as_row(self) -> dict:
        return {
            "kind": self.kind,
            "text": self.text,
            "name": self.name,
            "label": self.label,
            "unit_code": self.unit_code,
            "resolved_from": self.resolved_from,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True)
class Route:
    """An agency a call goes to (pipeline.analysis.routing)."""

    agency: str  # English name
    agency_vi: str  # Vietnamese name, as shown to operators
    reason: str  # why: "topic environment; place phường Tân Tiến"


@dataclass(frozen=True)
class Metric:
    """One conversation metric of a call (pipeline.analysis.metrics.measure_conversation)."""

    scope: str  # call | operator | citizen
    name: str  # e.g. "talk_time_s"; the unit is the name's suffix (s, spm, dbfs, hz, db) or a share 0..1
    value: float


@dataclass(frozen=True)
class RedactedSegment:
    """A transcript segment with the text that is stored and shown: personal data replaced by tags."""

    segment: Segment  # as transcribed, with speaker and role; its ``text`` is raw (may hold personal data)
    text: str  # ``segment.text`` with personal data replaced by tags ("[SĐT]", "[TÊN]"…)
    # The readable forms (pipeline.analysis.readable): capitals, punctuation, digits; "" when not made.
    readable: str = ""  # of ``text``, with the readable form's own numbers redacted too: what most roles see
    readable_raw: str = ""  # of ``segment.text`` (may hold personal data)
    readable_align: str = ""  # recogniser words per token of ``readable_raw`` ("1 1 3 1"); "" when they do not line up


@dataclass(frozen=True)
class CallAnalysis:
    """What the analyse stage derives from a transcript (and the audio for metrics)."""

    topics: tuple[TopicScore, ...] = ()
    places: tuple[Place, ...] = ()
    routes: tuple[Route, ...] = ()
    urgent: bool = False
    urgency_reasons: tuple[str, ...] = ()
    metrics: tuple[Metric, ...] = ()
    segments: tuple[RedactedSegment, ...] = ()  # every transcript segment, in order, with its redacted text
    pii_counts: dict = field(default_factory=dict)  # kind -> count
    caller_initials: str | None = None  # initials of the name the citizen gave ("N.V.H."), for exports
    confidence: float = 0.0  # 0..1, duration-weighted mean segment confidence (pipeline.stages.analyse.mean_confidence)
    needs_review: bool = False
    review_reasons: tuple[str, ...] = ()
    summary: str = ""  # one-line Vietnamese summary (pipeline.analysis.summary)
    sentiment: dict = field(default_factory=dict)  # pipeline.analysis.sentiment.CallSentiment.as_dict(); {} when not scored
    topic_model: str = ""  # fingerprint of the topic model that tagged the call (models.topic_model.TopicModel.fingerprint)


@dataclass(frozen=True)
class SpeakerResult:
    """What the speakers stage gives: segments with speaker and role."""

    segments: tuple[Segment, ...]  # with speaker, role; sorted by start
    n_speakers: int
    role_confidence: float  # 0..1
    method: str  # channels | pyannote | none
    operator_voice: str | None = None  # extension whose enrolled voiceprint matched the operator (mono)
    flags: tuple[str, ...] = ()  # QA flags, e.g. operator_voice_mismatch


@dataclass(frozen=True)
class CallResult:
    """Everything the warehouse stores about one processed call."""

    recording: Recording
    duration_s: float  # s
    channels: int
    source_sample_rate: int  # Hz
    info: TranscriptInfo
    speakers: SpeakerResult
    analysis: CallAnalysis
    asr_model: str
    asr_fingerprint: str
    timings: dict = field(default_factory=dict)  # stage -> wall seconds (decode … analyse); never changed after
    asr_word_times: str = "model"  # "model" | "approximate" (models.recognizer.Capabilities)
    asr_confidence: str = "model"  # "model" | "approximate"
    asr_lm: str | None = None  # fingerprint of the language model fused into the decoder; None without one
    readable_model: str = ""  # fingerprint of the case and punctuation model (models.readable_text); "" when none ran
