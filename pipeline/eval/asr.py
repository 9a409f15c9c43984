"""Measure the transcription stage: word and character error rates and speed.

WER for Vietnamese is a syllable error rate: a written word is a syllable. Both
sides are scored after :func:`pipeline.textnorm.normalize_text` (the one shared
normalisation) and errors are summed over all clips before dividing, as the
reference sets' README asks (not a mean of per-clip rates).

The manifest is a TSV with at least the columns ``file`` (relative to the
manifest's folder) and ``reference``; ``duration_s`` and other columns are ignored
(read by :mod:`pipeline.eval.manifest`, the reader every evaluation shares).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models import registry
from pipeline.eval.manifest import ManifestError, read_manifest  # noqa: F401  (ManifestError: callers catch it here)
from pipeline.records import DecodedAudio, Transcript
from pipeline.report.sheets import write_tsv  # the one table writer: no cell runs as a formula
from pipeline.stages.audio import decode_audio, simulate_telephone
from pipeline.stages import transcribe
from pipeline.textnorm import normalize_text


@dataclass(frozen=True)
class ReferenceClip:
    path: Path  # audio file, absolute
    reference: str  # reference transcript as written in the manifest
    dataset: str = ""  # the manifest's `dataset` column, when it has one


@dataclass(frozen=True)
class ClipResult:
    """One clip's score. Counts are after normalisation; characters include spaces."""

    file: str  # path as written in the manifest
    reference: str  # normalised reference
    hypothesis: str  # normalised model output
    word_errors: int  # substitutions + deletions + insertions, in words (syllables)
    ref_words: int  # words in the reference
    char_errors: int  # edit distance in characters
    ref_chars: int  # characters in the reference
    audio_s: float  # s of audio
    wall_s: float  # s spent transcribing (language ID + decoding), not decoding the file
    confidence: float  # duration-weighted mean segment confidence, 0..1
    flags: tuple[str, ...] = ()  # call-level and segment flags the transcript carried
    dataset: str = ""  # the manifest's `dataset` column

    @property
    def wer(self) -> float:
        return self.word_errors / self.ref_words if self.ref_words else float(self.word_errors > 0)


@dataclass(frozen=True)
class EvalSummary:
    wer: float  # summed word errors / summed reference words
    cer: float  # summed character errors / summed reference characters
    rtf: float  # summed wall seconds / summed audio seconds
    clips: int

    def line(self) -> str:
        """The command's last line: ``wer=0.xxx cer=0.xxx rtf=0.xxx clips=N``."""
        return f"wer={self.wer:.3f} cer={self.cer:.3f} rtf={self.rtf:.3f} clips={self.clips}"


def read_clips(path: str | Path) -> list[ReferenceClip]:
    """The clips of an ASR manifest (:func:`pipeline.eval.manifest.read_manifest`, columns
    ``file`` and ``reference``); ``file`` paths resolved against the manifest's folder.

    Raises :class:`~pipeline.eval.manifest.ManifestError` when the file is missing, lacks
    a ``file`` or ``reference`` column, has a bad row, or names an audio file that does
    not exist. A reference may be empty (a clip without speech).
    """
    rows = read_manifest(path, ("file", "reference"), files=("file",), may_be_empty=("reference",))
    return [ReferenceClip(row.path("file"), row["reference"], row.get("dataset").strip()) for row in rows]


def edit_distance(ref: Sequence, hyp: Sequence) -> int:
    """Levenshtein distance (substitutions, deletions, insertions all cost 1)."""
    if len(ref) < len(hyp):
        ref, hyp = hyp, ref
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1]


def score_text(reference: str, hypothesis: str) -> tuple[int, int, int, int]:
    """(word errors, reference words, character errors, reference characters) after normalisation."""
    ref, hyp = normalize_text(reference), normalize_text(hypothesis)
    return edit_distance(ref.split(), hyp.split()), len(ref.split()), edit_distance(ref, hyp), len(ref)


def score_clip(file: str, reference: str, transcripts: Iterable[Transcript], *, audio_s: float, wall_s: float,
               dataset: str = "") -> ClipResult:
    """Score the transcript(s) of one clip against its reference."""
    transcripts = tuple(transcripts)
    segments = [s for t in transcripts for s in t.segments]
    hypothesis = " ".join(t.text for t in transcripts)
    words, n_words, chars, n_chars = score_text(reference, hypothesis)
    total = sum(max(0.0, s.end - s.start) for s in segments)
    confidence = sum(s.confidence * max(0.0, s.end - s.start) for s in segments) / total if total > 0 else 0.0
    flags = {f for t in transcripts for f in t.info.flags} | {f for s in segments for f in s.flags}
    return ClipResult(file, normalize_text(reference), normalize_text(hypothesis), words, n_words, chars, n_chars,
                      audio_s, wall_s, confidence, tuple(sorted(flags)), dataset)


def summarize(results: Sequence[ClipResult]) -> EvalSummary:
    """WER and CER with errors summed over clips; RTF = total wall s / total audio s."""
    ref_words = sum(r.ref_words for r in results)
    ref_chars = sum(r.ref_chars for r in results)
    audio_s = sum(r.audio_s for r in results)
    return EvalSummary(
        wer=sum(r.word_errors for r in results) / ref_words if ref_words else 0.0,
        cer=sum(r.char_errors for r in results) / ref_chars if ref_chars else 0.0,
        rtf=sum(r.wall_s for r in results) / audio_s if audio_s else 0.0,
        clips=len(results),
    )


def load_clip(path: Path, *, telephone: bool = False) -> DecodedAudio:
    """Decode a clip to 16 kHz mono; ``telephone`` passes it through the simulated phone line first."""
    audio = decode_audio(path)
    mono = audio.mono()
    if telephone:
        return DecodedAudio(samples=simulate_telephone(mono, audio.sample_rate)[None, :], sample_rate=audio.sample_rate,
                            source_sample_rate=8000, source_format="telephone-sim")
    return DecodedAudio(samples=mono[None, :], sample_rate=audio.sample_rate, source_sample_rate=audio.source_sample_rate,
                        source_format=audio.source_format)


def evaluate(rows: Sequence[ReferenceClip], transcribe_fn: Callable[[DecodedAudio], Sequence[Transcript]], *,
             telephone: bool = False, hook: Callable[[int, int, ClipResult], None] | None = None) -> list[ClipResult]:
    """Transcribe and score every manifest row with ``transcribe_fn(audio) -> transcripts``.

    Only the call to ``transcribe_fn`` is timed. ``hook(i, n, result)`` reports each clip.
    """
    results = []
    for i, row in enumerate(rows):
        audio = load_clip(row.path, telephone=telephone)
        started = time.perf_counter()
        transcripts = transcribe_fn(audio)
        wall = time.perf_counter() - started
        result = score_clip(str(row.path), row.reference, transcripts, audio_s=audio.duration_s, wall_s=wall,
                            dataset=row.dataset)
        results.append(result)
        if hook:
            hook(i, len(rows), result)
    return results


def write_rows(results: Sequence[ClipResult], path: str | Path) -> None:
    """Per-clip results as TSV (reference and hypothesis normalised)."""
    columns = ("file", "audio_s", "wall_s", "wer", "word_errors", "ref_words", "char_errors", "ref_chars",
               "confidence", "flags", "reference", "hypothesis")
    write_tsv(path, columns, ([r.file, f"{r.audio_s:.2f}", f"{r.wall_s:.3f}", f"{r.wer:.3f}", r.word_errors,
                               r.ref_words, r.char_errors, r.ref_chars, f"{r.confidence:.3f}", ",".join(r.flags),
                               r.reference, r.hypothesis] for r in results))


def rank_correlation(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rank correlation of two equal-length sequences (nan when constant)."""
    from scipy.stats import spearmanr

    if len(x) < 2:
        return float("nan")
    return float(spearmanr(np.asarray(x), np.asarray(y)).statistic)


def dataset_group(dataset: str) -> str:
    """Short subset name of a manifest `dataset` value: "VIVOS train (speaker …)" → "VIVOS"."""
    d = dataset.strip()
    if not d:
        return "(none)"
    if "(" in d and ")" in d and d.index("(") > 0:  # "FPT Open Speech Data (FOSD) Set001" → "FOSD"
        inner = d[d.index("(") + 1 : d.index(")")]
        if inner.isupper():
            return inner
    return d.split()[0] if not d.startswith("Common Voice") else "CommonVoice"


def per_dataset(results: Sequence[ClipResult]) -> dict[str, EvalSummary]:
    """One summary per dataset group (errors summed within each), in first-seen order."""
    groups: dict[str, list[ClipResult]] = {}
    for r in results:
        groups.setdefault(dataset_group(r.dataset), []).append(r)
    return {name: summarize(rows) for name, rows in groups.items()}


def dataset_table(results: Sequence[ClipResult]) -> str:
    """A plain-text table: dataset, clips, reference words, WER, CER, RTF, then the total."""
    lines = [f"{'dataset':<12} {'clips':>5} {'words':>6} {'wer':>6} {'cer':>6} {'rtf':>6}"]
    for name, s in [*per_dataset(results).items(), ("all", summarize(results))]:
        words = sum(r.ref_words for r in results if name == "all" or dataset_group(r.dataset) == name)
        lines.append(f"{name:<12} {s.clips:>5} {words:>6} {s.wer:>6.3f} {s.cer:>6.3f} {s.rtf:>6.3f}")
    return "\n".join(lines)


def evaluate_manifest(manifest: Path, settings, *, model: str | None = None, telephone: bool = False,
                      out: Path | None = None, progress=None) -> tuple[list[ClipResult], EvalSummary]:
    """Transcribe every clip of ``manifest`` with the production settings and score it
    (``hotline eval asr``).

    ``settings``: the entry point's :class:`~pipeline.config.Settings`; the model is ``model``
    or ``settings.asr_model``, the decoding options ``options_for(settings)``
    (``HOTLINE_ASR_*``, as in the flow), through :func:`pipeline.stages.transcribe.transcribe_call`.
    ``out``: write the per-clip rows (TSV) there. Returns (clip results, summary).
    """
    settings = settings.with_(asr_model=model)
    rows = read_clips(manifest)
    asr = registry.load_recognizer(settings.asr_model, cache_dir=settings.model_cache, device=settings.asr_device,
                                   compute_type=settings.asr_compute_type, cpu_threads=settings.cpu_threads,
                                   lm=settings.asr_lm, lm_dir=settings.site_lm_dir, lm_weight=settings.asr_lm_weight, lm_bonus=settings.asr_lm_bonus)
    options = transcribe.options_for(settings)
    results = evaluate(rows, lambda audio: transcribe.transcribe_call(audio, asr, options), telephone=telephone,
                       hook=progress)
    if out:
        write_rows(results, out)
    return results, summarize(results)
