"""Side-by-side speed of the recognisers on the same phone-line audio, interleaved in one process.

On a shared machine absolute RTFs swing with the load; alternating the recognisers on the
same pieces makes their ratio meaningful. Prints one line per recogniser and the ratios.

    PYTHONPATH=. .venv/bin/python scripts/compare_asr_speed.py MANIFEST.tsv [--clips 20] [--rounds 2]
"""
import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from models.registry import load_recognizer  # noqa: E402
from pipeline.config import apply_environment, load_settings  # noqa: E402
from pipeline.eval.asr import load_clip, read_clips  # noqa: E402
from pipeline.stages.transcribe import TranscribeOptions, detect_language, find_speech, transcribe  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("manifest", type=Path)
p.add_argument("--clips", type=int, default=20)
p.add_argument("--rounds", type=int, default=2)
args = p.parse_args()
s = load_settings()
apply_environment(s)
names = ["viet-asr", "base"]
recs = {n: load_recognizer(n, cache_dir=s.model_cache, device="cpu", compute_type="int8", cpu_threads=s.cpu_threads) for n in names}
clips = [load_clip(r.path, telephone=True) for r in read_clips(args.manifest)[: args.clips]]
audio_s = sum(c.duration_s for c in clips)
options = TranscribeOptions()
dec = {n: 0.0 for n in names}
cpu = {n: 0.0 for n in names}
lid = 0.0
for n in names:  # warm-up: first-call allocations
    transcribe(clips[0].mono(), recs[n], options, source_rate=8000)
for _ in range(args.rounds):
    for c in clips:
        x = c.mono()
        speech = find_speech(x, recs["base"], options)
        t0 = time.perf_counter()
        detect_language(x, recs["base"], speech)
        lid += time.perf_counter() - t0
        for n in names:
            t0, c0 = time.perf_counter(), time.process_time()
            transcribe(x, recs[n], options, speech=speech, source_rate=8000)
            dec[n] += time.perf_counter() - t0
            cpu[n] += time.process_time() - c0
total = audio_s * args.rounds
for n in names:
    print(f"{n}: decode rtf={dec[n] / total:.3f} cpu_rtf={cpu[n] / total:.3f} (CPU seconds of this process per audio s)")
print(f"language ID (Whisper base, both): rtf={lid / total:.3f}")
print(f"ratio base/viet-asr decode = {dec['base'] / dec['viet-asr']:.2f} (cpu {cpu['base'] / cpu['viet-asr']:.2f}); "
      f"with language ID = {(dec['base'] + lid) / (dec['viet-asr'] + lid):.2f}; clips={len(clips)} audio_s={audio_s:.0f}")
