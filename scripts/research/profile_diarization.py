#!/usr/bin/env python
"""Where the diarizer's time goes on one call: pyannote's steps, CAM++, fbank, the band test.

    PYTHONPATH=$PWD .venv/bin/python scripts/research/profile_diarization.py CALL.wav [--option key=value ...] [--top 25]

The diarizer is built and warmed up on the first 15 s first, so model loading and
first-call set-up are left out. Prints the wall time of each pipeline step (segmentation,
embeddings, clustering + reconstruction), the time inside CAM++ forwards, Kaldi fbank and
the telephone-band test (cProfile cumulative times, which add a few % of overhead), then
the ``--top`` functions by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("audio", type=Path)
    parser.add_argument("--option", action="append", default=[], help="DiarizationOptions field=value")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)

    from models.diarization import PyannoteDiarizer
    from pipeline.stages.audio import decode_audio
    from pipeline.eval.diarization_panel import parse_variant

    _, options = parse_variant("profile:" + ",".join(args.option))
    from pipeline.config import apply_environment

    apply_environment()  # OpenMP threads that do not spin: before torch loads
    t0 = time.perf_counter()
    wave = decode_audio(args.audio).mono()
    decode_s = time.perf_counter() - t0
    diarizer = PyannoteDiarizer(options=options)
    diarizer.diarize_voices(wave[: 15 * 16000])

    steps: dict[str, float] = {}
    last = [0.0]

    def hook(name, artefact, file=None, total=None, completed=None):
        now = time.perf_counter()
        if completed is None or completed == total:
            steps[name] = steps.get(name, 0.0) + now - last[0]
            last[0] = now

    profile = cProfile.Profile()
    t0 = last[0] = time.perf_counter()
    profile.enable()
    turns, _ = diarizer.diarize_voices(wave, hook=hook)
    profile.disable()
    total = time.perf_counter() - t0
    dur = len(wave) / 16000
    print(f"{args.audio}: {dur:.1f} s, decode+resample {decode_s:.2f} s, diarize {total:.2f} s (rtf {total / dur:.3f}), "
          f"{len(turns)} turns")
    names = {"segmentation": "segmentation", "embeddings": "embeddings",
             "discrete_diarization": "clustering + reconstruction"}
    for key, label in names.items():
        print(f"  {label:<28} {steps.get(key, 0.0):7.2f} s  {steps.get(key, 0.0) / total:6.1%}")
    stats = pstats.Stats(profile)
    inside = {"CAM++ forward": ("camplusplus.py", "forward", 43), "Kaldi fbank": ("kaldi.py", "fbank", None),
              "telephone-band test": ("diarization.py", "waveform_is_narrowband", None)}
    for label, (file, func, line) in inside.items():
        cum = sum(v[3] for (f, ln, fn), v in stats.stats.items()
                  if f.endswith(file) and fn == func and (line is None or ln == line))
        print(f"    of which {label:<20} {cum:7.2f} s  {cum / total:6.1%}")
    stats.sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
