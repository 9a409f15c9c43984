"""The one ASR protocol every recogniser implements, and a fake recogniser for tests.

Nothing above ``models/`` sees a library's own objects: a recogniser takes 16 kHz
float32 mono samples and returns the project's records (:class:`pipeline.records.Segment`
with :class:`~pipeline.records.Word`), times in seconds from the start of what it was
given. ``pipeline/stages/transcribe.py`` cuts calls into pieces, shifts times back, cleans
and flags; it reaches a model only through these methods:

- ``find_speech(samples, vad_parameters)`` → speech stretches (start, end) in s;
- ``language_probabilities(samples)`` → {language code: probability} (first 30 s);
- ``recognize(samples, options, *, language, speech, source_rate)`` → list of segments;
- ``bare(samples, options)`` → run the bare library on the same input, nothing kept
  (what ``hotline bench`` compares the stage with);
- ``name``, ``fingerprint`` (recorded with each run, call and cache key) and
  ``capabilities`` (what the model measures itself and what is approximated).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from pipeline.records import SAMPLE_RATE, Segment, Word  # SAMPLE_RATE: Hz every recogniser is given


@dataclass(frozen=True)
class Capabilities:
    """What a recogniser's output holds, so downstream stages and docs can tell measured from approximated."""

    word_times: str  # "model": from the decoder; "approximate": spread over the piece by syllable length
    confidence: str  # "model": from token probabilities; "approximate": a proxy (see docs/asr.md)
    languages: tuple[str, ...]  # languages it can write; ("*",) for multilingual
    punctuation: bool  # writes punctuation and capitals
    digits: bool  # writes numbers as digits (False: spelled out as words)
    max_input_s: float  # longest piece the library is handed at once, s
    # Share of VAD speech below which a transcript is flagged speech_not_transcribed, when
    # stricter than TranscribeOptions.min_speech_coverage (segments that follow the VAD exactly).
    min_coverage: float = 0.0


@runtime_checkable
class Recognizer(Protocol):
    name: str
    capabilities: Capabilities
    lock: threading.Lock

    @property
    def fingerprint(self) -> str: ...

    def find_speech(self, samples: np.ndarray, vad_parameters: dict) -> list[tuple[float, float]]: ...

    def language_probabilities(self, samples: np.ndarray) -> dict[str, float]: ...

    def recognize(self, samples: np.ndarray, options, *, language: str, speech: Sequence[tuple[float, float]] | None = None,
                  source_rate: int = SAMPLE_RATE) -> list[Segment]: ...

    def bare(self, samples: np.ndarray, options, *, source_rate: int = SAMPLE_RATE) -> None: ...


def silero_speech(samples: np.ndarray, vad_parameters: dict) -> list[tuple[float, float]]:
    """Silero VAD (shipped in the faster-whisper wheel): speech stretches (start, end) in s of 16 kHz ``samples``."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    chunks = get_speech_timestamps(np.asarray(samples, dtype=np.float32), VadOptions(**vad_parameters))
    return [(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in chunks]


def spread_words(text: str, start: float, end: float, probability: float,
                 speech: Sequence[tuple[float, float]] | None = None) -> tuple[Word, ...]:
    """Approximate word times: the words of ``text`` laid over ``start``..``end`` in proportion to their length.

    When ``speech`` stretches are given, only their seconds are used (words do not land in
    pauses). Each word gets ``probability``. This is an approximation, not an alignment.
    """
    words = text.split()
    if not words:
        return ()
    spans = [(max(a, start), min(b, end)) for a, b in (speech or [(start, end)])]
    spans = [(a, b) for a, b in spans if b > a] or [(start, max(end, start + 1e-3))]
    total = sum(b - a for a, b in spans)
    weights = np.array([len(w) + 1.0 for w in words])
    bounds = np.concatenate([[0.0], np.cumsum(weights) / weights.sum() * total])

    def at(t: float) -> tuple[int, float]:  # speech-time offset -> (stretch index, call time)
        for k, (a, b) in enumerate(spans):
            if t <= b - a + 1e-9:
                return k, a + t
            t -= b - a
        return len(spans) - 1, spans[-1][1]

    out = []
    for i, w in enumerate(words):
        (k0, t0), (k1, t1) = at(bounds[i]), at(bounds[i + 1])
        if k1 != k0:  # the word would straddle a pause: keep it in the stretch holding more of it
            if spans[k0][1] - t0 >= t1 - spans[k1][0]:
                t1 = spans[k0][1]
            else:
                t0 = spans[k1][0]
        out.append(Word(start=round(float(t0), 3), end=round(float(t1), 3), text=w, probability=float(probability)))
    return tuple(out)


class FakeRecognizer:
    """Scripted recogniser for tests: speech wherever |x| > ``threshold``, fixed texts, no model.

    ``texts`` are spread evenly over the speech handed to :meth:`recognize`, one segment
    each. ``language`` is (code, probability) for language ID.
    """

    name = "fake"
    capabilities = Capabilities(word_times="approximate", confidence="model", languages=("*",), punctuation=False,
                                digits=False, max_input_s=float("inf"))

    def __init__(self, texts: Sequence[str] = ("xin chào tổng đài",), language: tuple[str, float] = ("vi", 0.9), *,
                 confidence: float = 0.8, threshold: float = 0.01):
        self.texts, self.language, self.confidence, self.threshold = tuple(texts), language, confidence, threshold
        self.calls: list[dict] = []
        self.lock = threading.Lock()

    @property
    def fingerprint(self) -> str:
        return "fake:" + str(abs(hash(self.texts)) % 10**8)

    def find_speech(self, samples, vad_parameters):
        loud = np.abs(np.asarray(samples)) > self.threshold
        if not loud.any():
            return []
        idx = np.flatnonzero(loud)
        return [(idx[0] / SAMPLE_RATE, (idx[-1] + 1) / SAMPLE_RATE)]

    def language_probabilities(self, samples):
        language, p = self.language
        return {language: p, "vi" if language != "vi" else "en": 1.0 - p}

    def recognize(self, samples, options, *, language, speech=None, source_rate=SAMPLE_RATE):
        self.calls.append({"language": language, "n": len(samples), "source_rate": source_rate})
        duration = len(samples) / SAMPLE_RATE
        if duration <= 0 or not self.texts:
            return []
        step = duration / len(self.texts)
        out = []
        for i, text in enumerate(self.texts):
            a, b = i * step, (i + 1) * step
            out.append(Segment(start=a, end=b, text=text, words=spread_words(text, a, b, self.confidence),
                               confidence=self.confidence))
        return out

    def bare(self, samples, options, *, source_rate=SAMPLE_RATE):
        self.recognize(samples, options, language="vi", source_rate=source_rate)
