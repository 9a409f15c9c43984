"""What the readable transcript costs beside the transcription stage, measured side by side in one run.

Builds an 8 kHz phone call from real speech (the clips of an evaluation manifest, read in place),
times the transcription stage on it (``transcribe_call``, the production settings), then times
the readable text of the same segments as the analyse stage makes it (``readable_turn`` per
segment, after redaction), and the model's load. Prints one line:

    transcribe_s=… readable_s=… ratio=… load_s=… segments=… syllables=… load_avg=…

ratio = (transcription + readable text) / transcription. Backs docs/asr.md, "Readable text", cost.

    .venv/bin/python scripts/research/readable_cost.py --manifest ../shared/eval/asr-dev/manifest.tsv --minutes 3
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from bench_asr import build_call, source_clips  # noqa: E402

from models.readable_text import load_readable_model  # noqa: E402
from models.registry import load_recognizer  # noqa: E402
from pipeline.analysis.pii import redact_turns  # noqa: E402
from pipeline.analysis.readable import readable_turn  # noqa: E402
from pipeline.config import apply_environment, load_settings  # noqa: E402
from pipeline.records import DecodedAudio  # noqa: E402
from pipeline.stages.audio import SAMPLE_RATE  # noqa: E402
from pipeline.stages.transcribe import transcribe_call  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, required=True, help="evaluation manifest whose clips make the call")
    parser.add_argument("--minutes", type=float, default=3.0)
    args = parser.parse_args(argv)
    settings = load_settings()
    apply_environment(settings)
    samples = build_call(source_clips(args.manifest), args.minutes * 60)
    audio = DecodedAudio(samples=samples[None, :], sample_rate=SAMPLE_RATE, source_sample_rate=8000)
    asr = load_recognizer(settings.asr_model, cache_dir=settings.model_cache, device=settings.asr_device,
                          compute_type=settings.asr_compute_type, cpu_threads=settings.cpu_threads)
    options = settings.transcription.options()
    transcribe_call(DecodedAudio(samples=samples[None, : 5 * SAMPLE_RATE], sample_rate=SAMPLE_RATE,
                                 source_sample_rate=8000), asr, options)  # warm-up
    t0 = time.perf_counter()
    model = load_readable_model()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    (transcript,) = transcribe_call(audio, asr, options)
    transcribe_s = time.perf_counter() - t0
    segments = transcript.segments
    redacted = redact_turns([s.text for s in segments]).redactions
    t0 = time.perf_counter()
    shown = [readable_turn(s.text, r.text, model, len(s.words)) for s, r in zip(segments, redacted)]
    readable_s = time.perf_counter() - t0
    syllables = sum(len(s.text.split()) for s in segments)
    print(f"transcribe_s={transcribe_s:.2f} readable_s={readable_s:.3f} ratio={(transcribe_s + readable_s) / transcribe_s:.4f} "
          f"load_s={load_s:.3f} audio_s={audio.duration_s:.0f} segments={len(segments)} syllables={syllables} "
          f"load_avg={os.getloadavg()[0]:.1f}")
    for (text, _, _), s in list(zip(shown, segments))[:5]:
        print(f"  {s.text!r}\n  -> {text!r}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
