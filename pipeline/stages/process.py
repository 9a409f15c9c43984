"""The stages of one call, in order, as plain functions over records, and the one per-call sequence.

:func:`run_call` is the sequence (decode → transcribe → speakers → analyse). It runs
each stage through a :class:`Stages` object: the plain functions here
(:func:`process_recording`: benchmarks, notebooks, tests), or Prefect tasks with the
stage cache (``flows/process_calls.py``). The records it returns are in
:mod:`pipeline.records` (``CallResult``, ``SpeakerResult``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from models import language_model
from models.diarization import load_diarizer
from models.readable_text import load_readable_model
from models.registry import load_recognizer
from models.topic_model import load_topic_model
from pipeline.config import Settings
# CallResult and SpeakerResult stay importable from here: cached speaker results pickled before they moved
# to records name pipeline.stages.process.SpeakerResult (Prefect's stage cache keeps them a week).
from pipeline.records import CallAnalysis, CallResult, DecodedAudio, Recording, SpeakerResult, Transcript, TranscriptInfo
from pipeline.stages import operators, speakers
from pipeline.stages.analyse import analyse_call
from pipeline.stages.audio import decode_audio
from pipeline.stages.operators import read_voiceprints
from pipeline.stages.transcribe import TranscribeOptions, options_for, transcribe_call

log = logging.getLogger(__name__)


class Models:
    """The models a run uses, each loaded on first use and then shared (one per process)."""

    def __init__(self, settings: Settings, *, asr=None, diarizer=None, topic_model=None, voiceprints=None, readable=None):
        self.settings = settings
        self._asr, self._diarizer, self._topic_model = asr, diarizer, topic_model
        self._voiceprints = voiceprints
        self._asr_lm = None if asr is None else "given"  # the LM state the recogniser was loaded with
        self._readable = readable
        self._lock = threading.Lock()

    @property
    def voiceprints(self):
        """Enrolled operator voiceprints (pipeline.stages.operators), read from the warehouse once."""
        with self._lock:
            if self._voiceprints is None:
                self._voiceprints = read_voiceprints(self.settings.database) if self.settings.known_operators else ()
            return self._voiceprints

    def use_voiceprints(self, voiceprints) -> None:
        """Use these voiceprints (a cluster worker gets them from the run, which reads the warehouse)."""
        with self._lock:
            self._voiceprints = tuple(voiceprints)

    @property
    def asr(self):
        """The recogniser; loaded again when its language model changed on disk (``hotline lm build``)."""
        with self._lock:
            if self._asr_lm == "given":  # a recogniser handed in (tests, benchmarks): kept as it is
                return self._asr
            s = self.settings
            lm_now = language_model.state(s.asr_lm, s.site_lm_dir)
            if self._asr is None or lm_now != self._asr_lm:
                self._asr_lm = lm_now
                self._asr = load_recognizer(s.asr_model, cache_dir=s.model_cache, device=s.asr_device,
                                            compute_type=s.asr_compute_type, cpu_threads=s.cpu_threads, lm=s.asr_lm,
                                            lm_dir=s.site_lm_dir, lm_weight=s.asr_lm_weight, lm_bonus=s.asr_lm_bonus)
            return self._asr

    @property
    def diarizer(self):
        with self._lock:
            if self._diarizer is None:
                s = self.settings
                self._diarizer = load_diarizer(min_speakers=s.min_speakers, max_speakers=s.max_speakers, threads=s.cpu_threads)
            return self._diarizer

    @property
    def readable(self):
        """The case and punctuation model of the readable transcript (models.readable_text)."""
        with self._lock:
            if self._readable is None:
                self._readable = load_readable_model()
            return self._readable

    @property
    def topic_model(self):
        with self._lock:
            if self._topic_model is None:
                self._topic_model = load_topic_model()
            return self._topic_model


_MODELS: dict[Settings, Models] = {}
_MODELS_LOCK = threading.Lock()


def get_models(settings: Settings) -> Models:
    """One :class:`Models` per process and settings (Dask workers each load their own)."""
    with _MODELS_LOCK:
        if settings not in _MODELS:
            _MODELS[settings] = Models(settings)
        return _MODELS[settings]


def decode_stage(recording: Recording, settings: Settings | None = None) -> DecodedAudio:
    """Decode a recording; longer than ``settings.max_duration_s`` is refused from its header."""
    if settings is None:
        return decode_audio(recording.path)
    return decode_audio(recording.path, max_duration_s=settings.max_duration_s or None,
                        max_channels=settings.max_channels or None, max_source_rate=settings.max_source_rate_hz or None,
                        max_decoded_bytes=int(settings.max_decoded_mb * 2**20) or None)


def transcribe_stage(audio: DecodedAudio, models: Models, options: TranscribeOptions = TranscribeOptions()) -> tuple[Transcript, ...]:
    return transcribe_call(audio, models.asr, options)


def speakers_stage(audio: DecodedAudio, transcripts: tuple[Transcript, ...], models: Models, settings: Settings,
                   operator_ext: str | None = None) -> SpeakerResult:
    """Stereo: one speaker per channel. Mono: pyannote turns, words assigned to turns, roles
    from an enrolled operator's voice when one matches (flagged when the call log's
    ``operator_ext`` names another operator), else from cues."""
    if len(transcripts) > 1:
        by_channel = {i: t.segments for i, t in enumerate(transcripts)}
        segs = speakers.assign_channel_speakers(by_channel, audio, operator_channel=settings.operator_channel)
        return SpeakerResult(tuple(segs), len({s.speaker for s in segs}), 1.0, "channels")
    segments = transcripts[0].segments
    if not segments:
        return SpeakerResult((), 0, 0.0, "none")
    prints = models.voiceprints
    if prints and hasattr(models.diarizer, "diarize_voices"):
        turns, embeddings = models.diarizer.diarize_voices(audio.mono())
    else:
        turns, embeddings = models.diarizer.diarize(audio.mono()), {}
    assigned = speakers.assign_speakers(segments, turns)
    match = operators.match_operator(operators.voices_from_turns(turns, embeddings), prints) if embeddings else None
    if match is not None and any(s.speaker == match.speaker for s in assigned):
        with_roles, _, confidence = operators.roles_from_match(assigned, match)
    else:
        with_roles, _, confidence = speakers.assign_roles(assigned)
        match = None
    return SpeakerResult(tuple(with_roles), len({s.speaker for s in with_roles if s.speaker}), float(confidence), "pyannote",
                         operator_voice=match.extension if match else None,
                         flags=operators.mismatch_flags(match, operator_ext))


def merge_info(transcripts: tuple[Transcript, ...]) -> TranscriptInfo:
    """One call-level info from the per-channel transcripts."""
    first = transcripts[0].info
    flags = set().union(*(t.info.flags for t in transcripts))
    if any(t.segments for t in transcripts):
        flags.discard("no_speech")
    return replace(first, speech_s=sum(t.info.speech_s for t in transcripts), flags=tuple(sorted(flags)))


def analyse_stage(audio: DecodedAudio, spk: SpeakerResult, info: TranscriptInfo, models: Models,
                  settings: Settings, call_date=None) -> CallAnalysis:
    """Topics, places, routing, urgency, redaction, metrics and the review decision."""
    analysis = analyse_call(audio, spk.segments, info, topic_model=models.topic_model, settings=settings,
                            role_confidence=spk.role_confidence, call_date=call_date, readable_model=models.readable)
    if spk.flags:
        reasons = analysis.review_reasons + tuple(f for f in spk.flags if f not in analysis.review_reasons)
        analysis = replace(analysis, needs_review=True, review_reasons=reasons)
    return analysis


def call_date(recording: Recording):
    """Date the call started (call log), or None when the log has no time for it."""
    started = recording.log.started_at if recording.log else None
    return started.date() if started else None


class StageTimer:
    """``with timer("decode"): …`` adds the block's wall seconds to ``seconds["decode"]`` when it succeeds."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        self.seconds[stage] = time.perf_counter() - t0


class Stages:
    """How each stage of :func:`run_call` runs: here, as the plain stage functions.

    ``flows/process_calls.py`` subclasses it to run each stage as a Prefect task
    (with the stage cache), so the flow, the benchmark and notebooks run one
    sequence and differ only in how a stage is called.
    """

    def __init__(self, models: Models, settings: Settings, options: TranscribeOptions | None = None):
        # Default: the settings' transcription options (HOTLINE_ASR_*), as the flow's transcribe task uses.
        self.models, self.settings = models, settings
        self.options = options if options is not None else options_for(settings)

    def decode(self, recording: Recording) -> DecodedAudio:
        return decode_stage(recording, self.settings)

    def transcribe(self, recording: Recording, audio: DecodedAudio) -> tuple[Transcript, ...]:
        return transcribe_stage(audio, self.models, self.options)

    def speakers(self, recording: Recording, audio: DecodedAudio, transcripts: tuple[Transcript, ...]) -> SpeakerResult:
        return speakers_stage(audio, transcripts, self.models, self.settings, operator_ext(recording))

    def analyse(self, recording: Recording, audio: DecodedAudio, spk: SpeakerResult, info: TranscriptInfo) -> CallAnalysis:
        return analyse_stage(audio, spk, info, self.models, self.settings, call_date(recording))


def operator_ext(recording: Recording) -> str | None:
    """The operator's extension from the call log, or None."""
    return recording.log.operator_ext if recording.log else None


def run_call(recording: Recording, stages: Stages, timer: StageTimer | None = None) -> CallResult:
    """The per-call sequence: decode → transcribe → speakers → analyse, each stage timed.

    ``timer`` measures each stage; its seconds go into the result's ``timings``. Raises what
    the stages raise (:class:`~pipeline.errors.AudioDecodeError` for a bad recording).
    """
    timer = timer or StageTimer()
    with timer("decode"):
        audio = stages.decode(recording)
    with timer("transcribe"):
        transcripts = stages.transcribe(recording, audio)
    with timer("speakers"):
        spk = stages.speakers(recording, audio, transcripts)
    info = merge_info(transcripts)
    with timer("analyse"):
        analysis = stages.analyse(recording, audio, spk, info)
    return build_result(recording, audio, info, spk, analysis, stages.models, timer.seconds)


def process_recording(recording: Recording, models: Models, settings: Settings,
                      options: TranscribeOptions | None = None) -> CallResult:
    """All stages for one recording, timed (:func:`run_call` with the plain stages). Raises what the stages raise.

    ``options``: default ``options_for(settings)`` (``HOTLINE_ASR_*``), as in the flow."""
    return run_call(recording, Stages(models, settings, options))


def build_result(recording: Recording, audio: DecodedAudio, info: TranscriptInfo, spk: SpeakerResult,
                 analysis: CallAnalysis, models: Models, timings: dict) -> CallResult:
    return CallResult(
        recording=recording,
        duration_s=audio.duration_s,
        channels=audio.channels,
        source_sample_rate=audio.source_sample_rate,
        info=info,
        speakers=spk,
        analysis=analysis,
        asr_model=models.asr.name,
        asr_fingerprint=models.asr.fingerprint,
        timings=dict(timings),
        asr_word_times=getattr(getattr(models.asr, "capabilities", None), "word_times", "model"),
        asr_confidence=getattr(getattr(models.asr, "capabilities", None), "confidence", "model"),
        asr_lm=getattr(models.asr, "lm_fingerprint", None),
        readable_model=models.readable.fingerprint if any(s.readable_raw for s in analysis.segments) else "",
    )
