"""Benchmark the transcription stage on 8 kHz telephone audio: real-time factor, memory, coverage.

Builds a long mono call by cycling short recordings (the demo calls in ``samples/`` by
default, or the clips of an evaluation manifest given with ``--manifest``) with short
pauses between them, passes it through the simulated phone line (8 kHz, 300–3400 Hz,
μ-law) and transcribes it once with the production settings (or ``--preset fast``).
Nothing is written to disk; the eval data is only read from the path given.

    .venv/bin/python scripts/bench_asr.py                       # 2 min call from samples/
    .venv/bin/python scripts/bench_asr.py --minutes 25          # long call: memory, no dropped windows
    .venv/bin/python scripts/bench_asr.py --manifest ../shared/eval/asr-dev/manifest.tsv --preset fast

Prints one line: ``rtf=… audio_s=… wall_s=… peak_rss_mb=… coverage=… segments=… flags=…``.
RTF = transcription wall seconds / audio seconds (decoding the files is not counted).
Timings on shared machines vary ±2×: state the machine load with the figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from models.registry import load_recognizer  # noqa: E402
from pipeline.config import apply_environment, load_settings  # noqa: E402
from pipeline.records import DecodedAudio  # noqa: E402
from pipeline.stages.audio import SAMPLE_RATE, decode_audio, simulate_telephone  # noqa: E402
from pipeline.stages.transcribe import TranscribeOptions, find_speech, speech_coverage, transcribe_call, uncovered_speech  # noqa: E402

PAUSE_S = 0.8  # s of quiet line between two source recordings
NOISE_DBFS = -60.0  # line noise floor added to the pauses, dBFS


def source_clips(manifest: Path | None) -> list[np.ndarray]:
    """16 kHz mono clips to cycle: the manifest's files, or the demo calls in samples/."""
    if manifest:
        from pipeline.eval.asr import read_clips

        paths = [row.path for row in read_clips(manifest)]
    else:
        paths = sorted(p for p in (REPO / "samples").rglob("*") if p.suffix in {".wav", ".mp3"})
    return [decode_audio(p).mono() for p in paths]


def build_call(clips: list[np.ndarray], seconds: float, seed: int = 0) -> np.ndarray:
    """Cycle ``clips`` with pauses until ``seconds`` of audio, then pass it through the phone line."""
    rng = np.random.default_rng(seed)
    noise = 10 ** (NOISE_DBFS / 20)
    parts, total, i = [], 0, 0
    target = int(seconds * SAMPLE_RATE)
    while total < target:
        clip = clips[i % len(clips)]
        pause = rng.normal(0, noise, int(PAUSE_S * SAMPLE_RATE)).astype(np.float32)
        parts += [clip, pause]
        total += len(clip) + len(pause)
        i += 1
    call = np.concatenate(parts)[:target]
    return simulate_telephone(call, SAMPLE_RATE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0, help="length of the synthetic call (default 2)")
    parser.add_argument("--manifest", type=Path, default=None, help="evaluation manifest whose clips to cycle")
    parser.add_argument("--preset", choices=("default", "fast"), default="default", help="TranscribeOptions preset")
    parser.add_argument("--model", default=None, help="ASR model (default: settings)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=JSON",
                        help="override one TranscribeOptions field, e.g. --set beam_size=1 --set 'temperature=[0,0.4]'")
    args = parser.parse_args(argv)

    settings = load_settings(asr_model=args.model)
    apply_environment(settings)
    options = TranscribeOptions.fast() if args.preset == "fast" else TranscribeOptions()
    for item in args.set:
        name, _, value = item.partition("=")
        value = json.loads(value)
        options = replace(options, **{name: tuple(value) if isinstance(value, list) else value})
    samples = build_call(source_clips(args.manifest), args.minutes * 60)
    audio = DecodedAudio(samples=samples[None, :], sample_rate=SAMPLE_RATE, source_sample_rate=8000,
                         source_format="telephone-sim")
    asr = load_recognizer(settings.asr_model, cache_dir=settings.model_cache, device=settings.asr_device,
                   compute_type=settings.asr_compute_type, cpu_threads=settings.cpu_threads)
    transcribe_call(DecodedAudio(samples=samples[None, : 5 * SAMPLE_RATE], sample_rate=SAMPLE_RATE,
                                 source_sample_rate=8000), asr, options)  # warm-up: first-call allocations

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    (transcript,) = transcribe_call(audio, asr, options)
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    speech = find_speech(samples, asr, options)
    gaps = [g for g in uncovered_speech(speech, transcript.segments) if g[1] - g[0] >= 5.0]
    print(f"# preset={args.preset} {' '.join(args.set)} model={settings.asr_model} threads={settings.cpu_threads} "
          f"cpus={os.cpu_count()} load_before={load_before:.1f} load_after={os.getloadavg()[0]:.1f} "
          f"speech_s={transcript.info.speech_s:.0f} uncovered_5s_gaps={len(gaps)}", file=sys.stderr)
    print(f"rtf={wall / audio.duration_s:.3f} audio_s={audio.duration_s:.1f} wall_s={wall:.1f} "
          f"peak_rss_mb={peak_mb:.0f} coverage={speech_coverage(speech, transcript.segments):.3f} "
          f"segments={len(transcript.segments)} flags={','.join(transcript.info.flags) or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
