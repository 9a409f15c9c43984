"""Transcribe Vietnamese speech with any recogniser of the ASR protocol; clean loops and hallucinations.

:func:`transcribe_call` returns one :class:`Transcript` per channel for stereo calls
(each side of a phone line is transcribed on its own) and one for mono calls.

The decoding defaults in :class:`TranscribeOptions` were chosen by measuring each
change on the asr-dev set (``hotline eval asr``); docs/asr.md holds the table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from pipeline.config import Settings
from pipeline.intervals import merge, subtract
from pipeline.records import SAMPLE_RATE, DecodedAudio, Segment, Transcript, TranscriptInfo, Word
from pipeline.textnorm import fold_accents, normalize_text

# Phrases Whisper writes on silence, music or noise: YouTube outros and subtitle
# credits learnt from its training data. Compared word by word after accent folding.
HALLUCINATIONS = tuple(
    fold_accents(p)
    for p in (
        "hãy subscribe cho kênh",
        "hãy đăng ký kênh",
        "đăng ký kênh",
        "like và subscribe",
        "like share và subscribe",
        "cảm ơn các bạn đã theo dõi",
        "cảm ơn các bạn đã xem",
        "cảm ơn các bạn đã lắng nghe",
        "hẹn gặp lại các bạn trong những video tiếp theo",
        "hẹn gặp lại các bạn trong video tiếp theo",
        "ghiền mì gõ",
        "để không bỏ lỡ những video hấp dẫn",
        "subtitles by",
        "la la school",
        "amara org",
    )
)
LOOP_MIN_REPEATS = 4  # one word said this many times in a row is a decoding loop
LOOP_MIN_REPEATS_PHRASE = 3  # a phrase of 2+ words repeated this many times in a row is a loop
LOOP_MAX_WORDS = 10  # longest repeated phrase looked for, in words

# Hotline vocabulary: the line's own phrases and Đắk Lắk places. Offered as
# ``initial_prompt``/``hotwords``; not on by default (see docs/asr.md for the measurement).
DOMAIN_VOCABULARY = (
    "Tổng đài 1022 tỉnh Đắk Lắk xin nghe. Buôn Ma Thuột, Ea Kao, Tân Tiến, Tân Lợi, Tân An, "
    "Quang Trung, Ea Tam, Thành Nhất, Krông Pắc, Cư M'gar, Buôn Hồ, Ea H'leo, Lắk. "
    "Phản ánh, kiến nghị, điện, nước, rác thải, đường sá, an ninh trật tự."
)


@dataclass(frozen=True)
class TranscribeOptions:
    """Decoding settings for calls, defaults in this one place. Measured on asr-dev (docs/asr.md)."""

    language: str = "vi"  # decoding language; detection still flags calls in another language
    beam_size: int = 5  # beam search width
    vad_filter: bool = True  # Silero VAD: decode only speech, skip silence and hold music
    vad_threshold: float = 0.5  # Silero speech probability above which a frame is speech
    vad_min_silence_ms: int = 500  # ms of silence that split speech chunks
    vad_speech_pad_ms: int = 400  # ms kept around each speech chunk
    word_timestamps: bool = True  # per-word times for speaker assignment
    condition_on_previous_text: bool = False  # True feeds a loop in one window into the next
    # Re-decoding at higher temperatures when a decode looks bad cost 1.5-3x the time on
    # asr-dev for 0.002 WER; loops it would catch are collapsed by clean_segments instead.
    temperature: tuple[float, ...] = (0.0,)
    compression_ratio_threshold: float | None = 2.4  # gzip ratio above which a decode counts as a loop
    log_prob_threshold: float | None = -1.0  # mean token log-prob below which a decode is retried
    # P(no speech) above which (with low log-prob) a window is skipped. Off: the VAD already
    # gates speech, and skipping dropped real speech on asr-dev (WER 0.569 → 0.560).
    no_speech_threshold: float | None = None
    repetition_penalty: float = 1.0  # >1 penalises tokens already generated
    # Off: forbidding repeated 10-token runs helped wideband asr-dev (WER 0.571 → 0.565) but turned
    # digit loops on phone audio into endless non-repeating digit strings that no loop filter can
    # catch (telephone WER 0.672 → 0.915). See docs/asr.md.
    no_repeat_ngram_size: int = 0
    initial_prompt: str | None = None  # text the decoder sees as preceding context
    hotwords: str | None = None  # words to bias towards (faster-whisper hotwords)
    detect_language: bool = True  # run language ID on the call's speech before decoding
    # Another language at or above this probability flags the call. Whisper base put up to 0.58
    # on a wrong language for short Vietnamese phone clips, 0.87-0.94 on English/French speech.
    language_flag_probability: float = 0.7
    min_speech_coverage: float = 0.5  # below this share of VAD speech covered by segments, flag the transcript
    # Longer audio is decoded in pieces cut in pauses: faster-whisper computes the whole
    # spectrogram at once (~1 GB transient for 25 min), so this bounds memory.
    max_piece_s: float = 300.0

    @classmethod
    def fast(cls) -> "TranscribeOptions":
        """Greedy decoding without the temperature ladder: the preset for 8 kHz call audio on small CPUs."""
        return cls(beam_size=1, temperature=(0.0,))

    def vad_parameters(self) -> dict:
        """Silero VAD settings as faster-whisper's ``VadOptions`` keyword arguments."""
        return {"threshold": self.vad_threshold, "min_silence_duration_ms": self.vad_min_silence_ms,
                "speech_pad_ms": self.vad_speech_pad_ms}


def options_for(settings: Settings) -> TranscribeOptions:
    """The decoding options ``settings.transcription`` holds (``HOTLINE_ASR_*``), as this stage takes them."""
    section = settings.transcription
    return TranscribeOptions(**{name: getattr(section, name) for name in type(section).model_fields})


def collapse_loops(text: str, *, min_repeats: int = LOOP_MIN_REPEATS, min_phrase_repeats: int = LOOP_MIN_REPEATS_PHRASE,
                   max_n: int = LOOP_MAX_WORDS) -> tuple[str, bool]:
    """Collapse a repetition loop to one occurrence.

    A single word repeated ``min_repeats`` or more times in a row, or a phrase of 2..``max_n``
    words repeated ``min_phrase_repeats`` or more times in a row, is a loop. Words are
    compared after normalisation, so case and punctuation do not hide a loop.
    Returns (text, whether anything was collapsed). "bà bà bà bà bà" → "bà".
    """
    words = text.split()
    changed = False
    for n in range(1, max_n + 1):
        needed = min_repeats if n == 1 else min_phrase_repeats
        if len(words) < n * needed:
            continue
        norm = [normalize_text(w) for w in words]
        out: list[str] = []
        i = 0
        while i < len(words):
            gram = norm[i : i + n]
            reps = 1
            while len(gram) == n and norm[i + reps * n : i + (reps + 1) * n] == gram:
                reps += 1
            if len(gram) == n and reps >= needed and any(gram):
                out.extend(words[i : i + n])
                i += reps * n
                changed = True
            else:
                out.append(words[i])
                i += 1
        words = out
    return " ".join(words), changed


def _find_phrase(folded: list[str], phrase: list[str]) -> int:
    for i in range(len(folded) - len(phrase) + 1):
        if folded[i : i + len(phrase)] == phrase:
            return i
    return -1


def strip_hallucinations(text: str) -> tuple[str, bool]:
    """Remove known Whisper silence/music phrases from ``text``, matched word by word after accent folding.

    Returns (remaining text, whether anything was removed).
    """
    words = text.split()
    removed = False
    for phrase in HALLUCINATIONS:
        target = phrase.split()
        while True:
            folded = [fold_accents(w) for w in words]
            # Punctuation-only words fold to "" and would break the match: skip them.
            index_map = [i for i, f in enumerate(folded) if f]
            at = _find_phrase([folded[i] for i in index_map], target)
            if at < 0:
                break
            first, last = index_map[at], index_map[at + len(target) - 1]
            words = words[:first] + words[last + 1 :]
            removed = True
    return " ".join(words), removed


def is_hallucination(text: str) -> bool:
    """True when the segment is (mostly) a known Whisper phrase for silence or music."""
    folded = fold_accents(text)
    if not folded:
        return False
    remaining, removed = strip_hallucinations(text)
    return removed and len(fold_accents(remaining)) <= 0.4 * len(folded)


def _keep_words(words: tuple[Word, ...], text: str) -> tuple[Word, ...]:
    """The words of ``words`` that ``text`` (a cleaned version of theirs) still holds, in order."""
    kept, budget = [], [normalize_text(w) for w in text.split()]
    for w in words:
        if budget and normalize_text(w.text) == budget[0]:
            kept.append(w)
            budget.pop(0)
    return tuple(kept)


def clean_segments(segments: Sequence[Segment]) -> tuple[list[Segment], list[str]]:
    """Drop hallucinated text, collapse repetition loops; mark what changed.

    A segment that is mostly a known hallucination is dropped; a hallucinated phrase
    inside real speech is cut out and the segment marked ``hallucination_removed``.
    Loops inside a segment, and the same text repeated over 3+ consecutive segments,
    are collapsed and marked ``loop_removed``. Returns (kept segments, call-level flags).
    """
    kept: list[Segment] = []
    flags: set[str] = set()
    for seg in segments:
        if is_hallucination(seg.text):
            flags.add("hallucination_removed")
            continue
        text, stripped = strip_hallucinations(seg.text)
        if stripped:
            flags.add("hallucination_removed")
            seg = replace(seg, text=text, words=_keep_words(seg.words, text), flags=seg.flags + ("hallucination_removed",))
        text, looped = collapse_loops(seg.text)
        if looped:
            flags.add("loop_removed")
            seg = replace(seg, text=text, words=_keep_words(seg.words, text), flags=seg.flags + ("loop_removed",))
        if normalize_text(seg.text):
            kept.append(seg)
    # Whisper also loops across windows: the same sentence as segment after segment.
    out: list[Segment] = []
    i = 0
    while i < len(kept):
        j = i
        while j + 1 < len(kept) and normalize_text(kept[j + 1].text) == normalize_text(kept[i].text):
            j += 1
        # Short replies ("alo", "dạ vâng") are said again and again for real: only sentences count.
        if j - i + 1 >= LOOP_MIN_REPEATS_PHRASE and len(normalize_text(kept[i].text).split()) >= 3:
            flags.add("loop_removed")
            out.append(replace(kept[i], end=kept[j].end, flags=tuple(dict.fromkeys(kept[i].flags + ("loop_removed",)))))
        else:
            out.extend(kept[i : j + 1])
        i = j + 1
    return out, sorted(flags)




def uncovered_speech(speech: Sequence[tuple[float, float]], segments: Sequence[Segment]) -> list[tuple[float, float]]:
    """Stretches of ``speech`` (start, end in s) that no segment overlaps; used to catch dropped windows."""
    return subtract(merge(speech), merge((s.start, s.end) for s in segments))


def speech_coverage(speech: Sequence[tuple[float, float]], segments: Sequence[Segment]) -> float:
    """Share 0..1 of the VAD speech seconds that segments cover (1.0 when there is no speech)."""
    total = sum(b - a for a, b in merge(speech))
    if total <= 0:
        return 1.0
    return 1.0 - sum(b - a for a, b in uncovered_speech(speech, segments)) / total


def split_points(speech: Sequence[tuple[float, float]], duration_s: float, max_piece_s: float) -> list[tuple[float, float]]:
    """Cut ``duration_s`` of audio into (start, end) pieces of at most ``max_piece_s`` s, cutting only in silences.

    Cuts fall in the middle of a pause between two ``speech`` stretches, so no word is
    split; a single stretch longer than ``max_piece_s`` stays whole.
    """
    spans = merge(speech)
    pieces, start = [], 0.0
    for prev, nxt in zip(spans, spans[1:]):
        if nxt[1] - start > max_piece_s and prev[1] > start:
            cut = (prev[1] + nxt[0]) / 2
            pieces.append((start, cut))
            start = cut
    pieces.append((start, duration_s))
    return pieces


def _shift(seg: Segment, offset: float) -> Segment:
    if not offset:
        return seg
    words = tuple(replace(w, start=w.start + offset, end=w.end + offset) for w in seg.words)
    return replace(seg, start=seg.start + offset, end=seg.end + offset, words=words)


def find_speech(samples: np.ndarray, asr, options: TranscribeOptions = TranscribeOptions()) -> list[tuple[float, float]]:
    """Speech stretches (start, end in s) that the VAD finds in 16 kHz ``samples``; the whole clip without VAD."""
    samples = np.asarray(samples, dtype=np.float32)
    if not options.vad_filter:
        return [(0.0, len(samples) / SAMPLE_RATE)] if len(samples) else []
    return [(float(a), float(b)) for a, b in asr.find_speech(samples, options.vad_parameters())]


def detect_language(samples: np.ndarray, asr, speech: Sequence[tuple[float, float]] | None = None) -> tuple[str, float]:
    """(language code, probability) from the first 30 s of speech in 16 kHz ``samples``.

    ``speech`` (start, end in s) restricts detection to those stretches; silence and hold
    music otherwise dominate the first 30 s of many calls.
    """
    samples = np.asarray(samples, dtype=np.float32)
    if speech is not None:
        parts = [samples[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)] for a, b in speech]
        samples = np.concatenate(parts) if parts else samples[:0]
    if len(samples) == 0:
        return "", 0.0
    probabilities = asr.language_probabilities(samples[: 30 * SAMPLE_RATE])
    language = max(probabilities, key=probabilities.get)
    return language, float(probabilities[language])


def _empty(samples: np.ndarray, language: str, flags: Sequence[str]) -> Transcript:
    return Transcript(segments=(), info=TranscriptInfo(language=language, language_probability=0.0,
                                                       duration_s=len(samples) / SAMPLE_RATE, speech_s=0.0,
                                                       flags=tuple(sorted(set(flags)))))


def transcribe(samples: np.ndarray, asr, options: TranscribeOptions = TranscribeOptions(), *, channel: int | None = None,
               language: str | None = None, speech: Sequence[tuple[float, float]] | None = None,
               source_rate: int = SAMPLE_RATE) -> Transcript:
    """Transcribe mono 16 kHz float32 ``samples`` (shape (n,)) with ``asr``, a :class:`models.recognizer.Recognizer`.

    ``source_rate`` is the recording's own rate (Hz): a recogniser that reads 8 kHz
    telephone audio better at its native rate is told so.

    Times are seconds from the start of ``samples``. ``language`` overrides the
    options' language (used when detection found another language). ``speech``
    is the VAD result for ``samples`` if the caller already has it.

    Flags on the transcript: ``no_speech`` (the VAD or the model found none),
    ``loop_removed``, ``hallucination_removed``, ``speech_not_transcribed`` (less than
    ``options.min_speech_coverage`` of the VAD speech is covered by segments: a window
    was dropped).
    """
    samples = np.asarray(samples, dtype=np.float32)
    language = language or options.language
    if speech is None:
        speech = find_speech(samples, asr, options)
    if not speech:
        return _empty(samples, language, ["no_speech"])
    raw: list[Segment] = []
    for start, end in split_points(speech, len(samples) / SAMPLE_RATE, options.max_piece_s):
        piece = samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        piece_speech = [(max(a, start) - start, min(b, end) - start) for a, b in speech if b > start and a < end]
        found = asr.recognize(piece, options, language=language, speech=piece_speech, source_rate=source_rate)
        raw += [_shift(replace(s, channel=channel), start) for s in found]
    segments, flags = clean_segments(raw)
    if not segments:
        flags.append("no_speech")
    elif speech_coverage(speech, segments) < max(options.min_speech_coverage,
                                                 getattr(getattr(asr, "capabilities", None), "min_coverage", 0.0)):
        flags.append("speech_not_transcribed")
    return Transcript(
        segments=tuple(segments),
        info=TranscriptInfo(
            language=language,
            language_probability=1.0,  # decoded in a given language; detection is transcribe_call's
            duration_s=len(samples) / SAMPLE_RATE,
            speech_s=float(sum(b - a for a, b in merge(speech))),
            flags=tuple(sorted(set(flags))),
        ),
    )


def transcribe_call(audio: DecodedAudio, asr, options: TranscribeOptions = TranscribeOptions(), *,
                    hook: Callable[[str, int, int], None] | None = None) -> tuple[Transcript, ...]:
    """Transcribe a call: each channel of a stereo call on its own, mono as one.

    Language ID runs once on the speech of the mixed call; when another language is
    more likely than Vietnamese with probability ≥ ``options.language_flag_probability``,
    the call is flagged ``not_vietnamese`` and decoded in the detected language rather
    than forced into Vietnamese text. A call without speech is flagged ``no_speech``
    and not decoded at all (Whisper writes outros over silence). ``hook(step, i, n)``
    reports progress.
    """
    mono = audio.mono()
    mixed_speech = find_speech(mono, asr, options)
    if not mixed_speech:
        n = min(audio.channels, 2) if audio.channels > 1 else 1
        return tuple(_empty(mono, options.language, ["no_speech"]) for _ in range(n))
    language, flags = None, []
    if options.detect_language:
        if hook:
            hook("language", 0, 1)
        detected, prob = detect_language(mono, asr, mixed_speech)
        if detected and detected != options.language and prob >= options.language_flag_probability:
            language, flags = detected, ["not_vietnamese"]
    stereo = audio.channels > 1
    channels = [audio.samples[i] for i in range(min(audio.channels, 2))] if stereo else [mono]
    out = []
    for i, samples in enumerate(channels):
        if hook:
            hook("transcribe", i, len(channels))
        t = transcribe(samples, asr, options, channel=i if stereo else None, language=language,
                       speech=None if stereo else mixed_speech, source_rate=audio.source_sample_rate or SAMPLE_RATE)
        if flags:
            t = replace(t, info=replace(t.info, flags=tuple(sorted(set(t.info.flags) | set(flags)))))
        out.append(t)
    return tuple(out)
