"""Benchmark: per-stage seconds, real-time factor, throughput, peak memory, and ASR overhead.

Everything is measured in one run on the same audio. The ASR overhead compares the
transcribe stage with the recogniser's bare library on the same decoded arrays and the
same channel split (``Recognizer.bare``: faster-whisper's ``transcribe`` with the same
keyword arguments; viet-asr's SDK on the same VAD pieces), so what our stage adds
(language ID, clean-up) is visible.
Loading models is timed apart: a long-running worker pays it once.
"""

from __future__ import annotations

import resource
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.config import Settings
from pipeline.records import DecodedAudio, Recording
from pipeline.runs.book import store_call
from pipeline.stages.audio import decode_audio, resample
from pipeline.stages.process import Models, process_recording
from pipeline.stages.transcribe import TranscribeOptions
from pipeline.warehouse import db, load

STAGES = ("decode", "transcribe", "speakers", "analyse", "load")


@dataclass(frozen=True)
class BenchReport:
    n_calls: int
    audio_s: float  # s of audio processed
    wall_s: float  # s: sum of all stages over all calls, models already loaded
    stage_s: dict = field(default_factory=dict)  # stage -> s summed over calls
    bare_asr_s: float = 0.0  # s: the recogniser's bare library on the same arrays
    model_load_s: float = 0.0  # s: loading ASR, diarizer and topic model once
    peak_mb: float = 0.0  # MiB: peak resident memory of this process and its children
    failed: tuple[str, ...] = ()  # "relpath: error" of calls that could not be benchmarked

    @property
    def rtf(self) -> float:
        """Wall seconds per second of audio (lower is faster; < 1 is faster than real time)."""
        return self.wall_s / self.audio_s if self.audio_s else float("nan")

    @property
    def asr_over_bare(self) -> float:
        return self.stage_s.get("transcribe", 0.0) / self.bare_asr_s if self.bare_asr_s else float("nan")

    @property
    def audio_h_per_h(self) -> float:
        """Hours of audio processed per wall-clock hour."""
        return self.audio_s / self.wall_s if self.wall_s else float("nan")

    def last_line(self) -> str:
        return (f"rtf={self.rtf:.3f} asr_over_bare={self.asr_over_bare:.3f} audio_h_per_h={self.audio_h_per_h:.1f} "
                f"peak_mb={self.peak_mb:.0f}")


def peak_memory_mb() -> float:
    """Peak resident set size (MiB) of this process and of its waited-for children, whichever is larger."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0  # Linux reports KiB


def bare_transcribe(audio: DecodedAudio, asr, options: TranscribeOptions = TranscribeOptions()) -> float:
    """Seconds the recogniser's bare library takes on ``audio`` split as our stage splits it (stereo: per channel)."""
    channels = [audio.samples[i] for i in range(min(audio.channels, 2))] if audio.channels > 1 else [audio.mono()]
    t0 = time.perf_counter()
    for samples in channels:
        asr.bare(np.asarray(samples, dtype=np.float32), options, source_rate=audio.source_sample_rate or 16000)
    return time.perf_counter() - t0


def bench_recordings(recordings: Sequence[Recording], models: Models, settings: Settings, *,
                     compare_bare: bool = True, hook: Callable[[str], None] | None = None) -> BenchReport:
    """Run every stage on each recording (loading into a temporary database), then bare ASR on the same audio.

    Never touches the database in ``settings``. Calls that fail are listed in
    ``failed`` and left out of the figures.
    """
    t0 = time.perf_counter()
    models.asr, models.diarizer, models.topic_model  # noqa: B018 - load each once, outside the timings
    model_load_s = time.perf_counter() - t0
    stage_s = dict.fromkeys(STAGES, 0.0)
    audio_s = bare_s = 0.0
    failed = []
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        con = db.connect(Path(tmp) / "bench.duckdb")
        run_id = load.new_run_id()
        load.start_run(con, run_id, "bench")
        try:
            for i, rec in enumerate(recordings, start=1):
                if hook:
                    hook(f"[{i}/{len(recordings)}] {rec.relpath}")
                try:
                    result = process_recording(rec, models, settings)  # the per-call sequence the flow runs
                    load_s = store_call(con, result, run_id, keep_raw_text=settings.keep_raw_text)
                except Exception as exc:  # report and go on, as a run would
                    failed.append(f"{rec.relpath}: {type(exc).__name__}: {exc}")
                    continue
                for stage, s in {**result.timings, "load": load_s}.items():
                    stage_s[stage] = stage_s.get(stage, 0.0) + s
                audio_s += result.duration_s
                if compare_bare:
                    bare_s += bare_transcribe(decode_audio(rec.path), models.asr)
        finally:
            con.close()
    return BenchReport(n_calls=len(recordings) - len(failed), audio_s=audio_s, wall_s=sum(stage_s.values()),
                       stage_s=stage_s, bare_asr_s=bare_s, model_load_s=model_load_s, peak_mb=peak_memory_mb(),
                       failed=tuple(failed))


def build_long_call(sources: Sequence[Path], out: Path, *, minutes: float = 25.0, sample_rate: int = 8000) -> Path:
    """Write a mono μ-law WAV of ``minutes`` minutes at ``sample_rate`` Hz by repeating the given calls.

    For memory and speed checks on a long call; returns ``out``.
    """
    import soundfile as sf

    pieces = [resample(decode_audio(p).mono(), 16000, sample_rate) for p in sources]
    if not pieces:
        raise ValueError("no recordings to build a long call from")
    target = int(minutes * 60 * sample_rate)
    gap = np.zeros(sample_rate // 2, dtype=np.float32)  # 0.5 s between repeats
    with sf.SoundFile(str(out), "w", samplerate=sample_rate, channels=1, subtype="ULAW", format="WAV") as fh:
        written, i = 0, 0
        while written < target:
            chunk = np.concatenate([pieces[i % len(pieces)], gap])[: target - written]
            fh.write(chunk)
            written += len(chunk)
            i += 1
    return out
