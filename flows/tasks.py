"""The per-call Prefect tasks: one task per call (``call``), holding one task per stage.

Deterministic stages do not retry (the run book retries the I/O: a load, a quarantine
copy). The transcribe and speakers tasks cache their results by recording hash, the
recogniser's fingerprint and the settings they depend on, so a run killed after
transcribing a call does no model work for it again. A call task runs where the flow's
task runner puts it (here, or a Dask worker); what it returns is recorded by the flow's
process alone (:class:`pipeline.runs.book.RunBook`).
"""

# No `from __future__ import annotations`: task parameter types are read by Prefect.

import hashlib
from datetime import timedelta

from prefect import task
from prefect.cache_policies import NO_CACHE

from models.diarization import DiarizationOptions
from models.registry import fingerprint_of
from pipeline.config import Settings
from pipeline.errors import AudioDecodeError
from pipeline.records import Recording
from pipeline.runs.book import CallOutcome
from pipeline.stages.operators import voiceprints_fingerprint
from pipeline.stages.process import (Stages, analyse_stage, call_date, decode_stage, get_models, operator_ext, run_call,
                                     speakers_stage, transcribe_stage)
from pipeline.stages.transcribe import options_for

# Cached stage results hold raw transcripts: keep them a week at most (``hotline purge`` also deletes them).
CACHE_EXPIRATION = timedelta(days=7)


def stage_cache_key(context, parameters) -> str:
    """Recording hash + the recogniser's fingerprint + the settings and options a stage's output depends on.

    The fingerprint is :func:`asr_fingerprint`'s: no model is loaded to name it.
    """
    rec: Recording = parameters["rec"]
    settings: Settings = parameters["settings"]
    depends = (settings.asr_model, settings.asr_compute_type, settings.operator_channel, settings.min_speakers,
               settings.max_speakers, repr(options_for(settings)), repr(DiarizationOptions()),
               settings.known_operators)
    audio = parameters.get("audio")
    if context.task.name == "speakers" and settings.known_operators and getattr(audio, "channels", 1) == 1:
        depends += (voiceprints_fingerprint(get_models(settings).voiceprints),)  # (re-)enrolment re-tags mono calls
    digest = hashlib.sha256(repr(depends).encode()).hexdigest()[:12]
    return f"{context.task.name}-{rec.sha256}-{asr_fingerprint(settings)}-{digest}"


def asr_fingerprint(settings: Settings) -> str:
    """The recogniser's fingerprint (:func:`models.registry.fingerprint_of`, no model loaded), or, for a
    model hub id, whose snapshot is known once fetched, the loaded model's: what the stage cache and a
    backfill compare calls with."""
    fingerprint = fingerprint_of(settings.asr_model, settings.model_cache, lm=settings.asr_lm,
                                 lm_dir=settings.site_lm_dir, lm_weight=settings.asr_lm_weight,
                                 lm_bonus=settings.asr_lm_bonus)
    return get_models(settings).asr.fingerprint if fingerprint == "?" else fingerprint


def cached_if_kept(stage_task, settings: Settings):
    """The stage task as it is, or (``keep_raw_text`` off) without Prefect's persisted result cache.

    Cached stage results are pickles of raw (unredacted) transcripts: with raw text
    not to be kept, nothing of it may be written under the Prefect home either.
    """
    if settings.keep_raw_text:
        return stage_task
    return stage_task.with_options(cache_policy=NO_CACHE, persist_result=False)


@task(name="decode", cache_policy=NO_CACHE)
def decode_task(rec: Recording, settings: Settings):
    """Decoded audio, or the decoder's problem as a string.

    A bad recording is an expected outcome (it is quarantined and the flow logs one
    warning), not a task failure for Prefect to log with a traceback.
    """
    try:
        return decode_stage(rec, settings)
    except AudioDecodeError as exc:
        return exc.problem


@task(name="transcribe", cache_key_fn=stage_cache_key, cache_expiration=CACHE_EXPIRATION, persist_result=True)
def transcribe_task(rec: Recording, audio, settings: Settings):
    return transcribe_stage(audio, get_models(settings), options_for(settings))


@task(name="speakers", cache_key_fn=stage_cache_key, cache_expiration=CACHE_EXPIRATION, persist_result=True)
def speakers_task(rec: Recording, audio, transcripts, settings: Settings):
    return speakers_stage(audio, transcripts, get_models(settings), settings, operator_ext(rec))


@task(name="analyse", cache_policy=NO_CACHE)
def analyse_task(audio, spk, info, settings, call_date=None):
    return analyse_stage(audio, spk, info, get_models(settings), settings, call_date)


class TaskStages(Stages):
    """The stages of :func:`pipeline.stages.process.run_call` as these tasks (transcribe and speakers cached)."""

    def __init__(self, settings: Settings):
        super().__init__(get_models(settings), settings)
        self._transcribe = cached_if_kept(transcribe_task, settings)
        self._speakers = cached_if_kept(speakers_task, settings)

    def decode(self, rec: Recording):
        audio = decode_task(rec, self.settings)
        if isinstance(audio, str):
            raise AudioDecodeError(rec.relpath, audio)
        return audio

    def transcribe(self, rec: Recording, audio):
        return self._transcribe(rec, audio, self.settings)

    def speakers(self, rec: Recording, audio, transcripts):
        return self._speakers(rec, audio, transcripts, self.settings)

    def analyse(self, rec: Recording, audio, spk, info):
        return analyse_task(audio, spk, info, self.settings, call_date(rec))


@task(name="call", cache_policy=NO_CACHE)
def call_task(rec: Recording, settings: Settings) -> CallOutcome:
    """All stages of one call (on whichever worker runs it); recording it is left to the flow's run book."""
    try:
        return CallOutcome(rec, result=run_call(rec, TaskStages(settings)))
    except AudioDecodeError as exc:
        return CallOutcome(rec, quarantine_error=exc.problem)
