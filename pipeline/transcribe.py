"""Transcribe Vietnamese speech with a Whisper model; clean loops and hallucinations.

:func:`transcribe_call` returns one :class:`Transcript` per channel for stereo calls
(each side of a phone line is transcribed on its own) and one for mono calls.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import numpy as np

from pipeline.records import DecodedAudio, Segment, Transcript, TranscriptInfo, Word
from pipeline.textnorm import fold_accents, normalize_text

# Phrases Whisper writes on silence, music or noise: YouTube outros learnt from its
# training data. Compared after accent folding.
HALLUCINATIONS = tuple(
    fold_accents(p)
    for p in (
        "hãy subscribe cho kênh",
        "đăng ký kênh",
        "like và subscribe",
        "cảm ơn các bạn đã theo dõi",
        "cảm ơn các bạn đã xem",
        "hẹn gặp lại các bạn trong những video tiếp theo",
        "ghiền mì gõ",
        "để không bỏ lỡ những video hấp dẫn",
        "subtitles by",
        "la la school",
    )
)
LOOP_MIN_REPEATS = 4  # an n-gram said this many times in a row is a decoding loop


@dataclass(frozen=True)
class TranscribeOptions:
    """Decoding settings for calls. Defaults measured on asr-dev (see README)."""

    language: str = "vi"  # forced language; detection still flags calls in another language
    beam_size: int = 5
    vad_filter: bool = True  # Silero VAD: skip silence and hold music
    vad_min_silence_ms: int = 500  # ms of silence that split speech chunks
    vad_speech_pad_ms: int = 400  # ms kept around each speech chunk
    word_timestamps: bool = True
    condition_on_previous_text: bool = False  # True feeds loops from one window into the next
    temperature: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    compression_ratio_threshold: float = 2.4
    log_prob_threshold: float = -1.0
    no_speech_threshold: float = 0.6
    initial_prompt: str | None = None
    hotwords: str | None = None
    detect_language: bool = True  # run language ID on the call before decoding
    language_flag_probability: float = 0.5  # another language above this flags the call

    def faster_whisper_kwargs(self) -> dict:
        """Keyword arguments for ``WhisperModel.transcribe``."""
        kw = asdict(self)
        for key in ("vad_min_silence_ms", "vad_speech_pad_ms", "detect_language", "language_flag_probability"):
            kw.pop(key)
        kw["temperature"] = list(self.temperature)
        kw["vad_parameters"] = {"min_silence_duration_ms": self.vad_min_silence_ms, "speech_pad_ms": self.vad_speech_pad_ms}
        return kw


def segment_confidence(avg_logprob: float, no_speech_prob: float) -> float:
    """0..1: mean token probability, discounted by the probability of no speech."""
    return float(max(0.0, min(1.0, math.exp(min(0.0, avg_logprob)) * (1.0 - no_speech_prob))))


def collapse_loops(text: str, *, min_repeats: int = LOOP_MIN_REPEATS, max_n: int = 6) -> tuple[str, bool]:
    """Collapse an n-gram repeated ``min_repeats`` or more times in a row to one occurrence.

    Returns (text, whether anything was collapsed). "bà bà bà bà bà" → "bà".
    """
    words = text.split()
    changed = False
    for n in range(1, max_n + 1):
        out: list[str] = []
        i = 0
        while i < len(words):
            gram = [normalize_text(w) for w in words[i : i + n]]
            reps = 1
            while len(gram) == n and [normalize_text(w) for w in words[i + reps * n : i + (reps + 1) * n]] == gram:
                reps += 1
            if len(gram) == n and reps >= min_repeats and any(gram):
                out.extend(words[i : i + n])
                i += reps * n
                changed = True
            else:
                out.append(words[i])
                i += 1
        words = out
    return " ".join(words), changed


def is_hallucination(text: str) -> bool:
    """True when the segment is (mostly) a known Whisper phrase for silence or music."""
    folded = fold_accents(text)
    if not folded:
        return False
    return any(h in folded and len(h) >= 0.6 * len(folded) for h in HALLUCINATIONS)


def clean_segments(segments: list[Segment]) -> tuple[list[Segment], list[str]]:
    """Drop hallucinated segments and collapse repetition loops; mark what changed.

    Returns (kept segments, call-level flags).
    """
    kept: list[Segment] = []
    flags: set[str] = set()
    for seg in segments:
        if is_hallucination(seg.text):
            flags.add("hallucination_removed")
            continue
        text, looped = collapse_loops(seg.text)
        if looped:
            flags.add("loop_removed")
            words = seg.words
            if words:  # keep the words the collapsed text still holds, in order
                kept_words, budget = [], text.split()
                for w in words:
                    if budget and normalize_text(w.text) == normalize_text(budget[0]):
                        kept_words.append(w)
                        budget.pop(0)
                words = tuple(kept_words)
            seg = replace(seg, text=text, words=words, flags=seg.flags + ("loop_removed",))
        if seg.text.strip():
            kept.append(seg)
    return kept, sorted(flags)


def _to_segment(fw_segment, channel: int | None) -> Segment:
    words = tuple(
        Word(start=float(w.start), end=float(w.end), text=w.word.strip(), probability=float(w.probability))
        for w in (fw_segment.words or ())
        if w.word.strip()
    )
    return Segment(
        start=float(fw_segment.start),
        end=float(fw_segment.end),
        text=re.sub(r"\s+", " ", fw_segment.text).strip(),
        avg_logprob=float(fw_segment.avg_logprob),
        no_speech_prob=float(fw_segment.no_speech_prob),
        words=words,
        channel=channel,
        confidence=segment_confidence(fw_segment.avg_logprob, fw_segment.no_speech_prob),
    )


def detect_language(samples: np.ndarray, asr) -> tuple[str, float]:
    """(language code, probability) from the first 30 s of speech."""
    language, probability, _ = asr.model.detect_language(samples, vad_filter=True)
    return language, float(probability)


def transcribe(samples: np.ndarray, asr, options: TranscribeOptions = TranscribeOptions(), *, channel: int | None = None,
               language: str | None = None) -> Transcript:
    """Transcribe mono 16 kHz float32 ``samples`` (shape (n,)) with the ASR adapter ``asr``.

    Times are seconds from the start of ``samples``. ``language`` overrides the
    options' language (used when detection found another language).
    """
    kwargs = options.faster_whisper_kwargs()
    if language:
        kwargs["language"] = language
    fw_segments, info = asr.transcribe(np.asarray(samples, dtype=np.float32), **kwargs)
    segments, flags = clean_segments([_to_segment(s, channel) for s in fw_segments])
    speech_s = float(getattr(info, "duration_after_vad", info.duration) or 0.0)
    if not segments:
        flags.append("no_speech")
    return Transcript(
        segments=tuple(segments),
        info=TranscriptInfo(
            language=kwargs["language"] or info.language,
            language_probability=float(info.language_probability),
            duration_s=float(info.duration),
            speech_s=speech_s,
            flags=tuple(flags),
        ),
    )


def transcribe_call(audio: DecodedAudio, asr, options: TranscribeOptions = TranscribeOptions(), *,
                    hook: Callable[[str, int, int], None] | None = None) -> tuple[Transcript, ...]:
    """Transcribe a call: each channel of a stereo call on its own, mono as one.

    Language ID runs once on the mixed call; when another language is clearly more
    likely than Vietnamese, the call is flagged ``not_vietnamese`` and decoded in the
    detected language rather than forced into Vietnamese text. ``hook(step, i, n)``
    reports progress.
    """
    language, flags = None, []
    if options.detect_language:
        detected, prob = detect_language(audio.mono(), asr)
        if detected != options.language and prob >= options.language_flag_probability:
            language, flags = detected, ["not_vietnamese"]
    channels = [audio.samples[i] for i in range(min(audio.channels, 2))] if audio.channels > 1 else [audio.mono()]
    out = []
    for i, samples in enumerate(channels):
        if hook:
            hook("transcribe", i, len(channels))
        t = transcribe(samples, asr, options, channel=i if len(channels) > 1 else None, language=language)
        if flags:
            t = replace(t, info=replace(t.info, flags=tuple(sorted(set(t.info.flags) | set(flags)))))
        out.append(t)
    return tuple(out)
