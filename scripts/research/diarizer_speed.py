#!/usr/bin/env python
"""Diarize time of diarizer variants side by side on the bench's long 8 kHz call (ratios on a shared machine).

    PYTHONPATH=$PWD nice -n 10 .venv/bin/python scripts/research/diarizer_speed.py samples --minutes 4 \\
        --variant now: --variant allemb:max_embedding_s=0 --repeats 3

Builds the call ``hotline bench samples --long --long-minutes N`` benchmarks (the same
recordings, in the bench's order, repeated to N minutes as 8 kHz mu-law with
``pipeline.eval.bench.build_long_call``), decodes it as the decode stage does, builds one
diarizer per variant (fields of ``models.diarization.DiarizationOptions``, as the variants of
``hotline eval diarization-panel``), warms each up on the first 15 s, then times
``diarize_voices`` on the whole call, variants alternating, ``--repeats`` rounds: on a
loaded machine only the ratio to the first variant means something. Prints each variant's
times, its median ratio to the first variant (per round, so load changes cancel), and the
speakers-stage RTF that ratio implies from ``--quiet-rtf`` (the first variant's RTF measured
on a quiet machine with ``hotline bench samples --long --long-minutes 4``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("source", type=Path, help="folder of recordings, as given to `hotline bench` (samples)")
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--variant", action="append", required=True, help="name:key=value,...; the first is the reference")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quiet-rtf", type=float, default=0.060,
                        help="the first variant's speakers RTF on a quiet machine (docs/diarization.md: 0.060)")
    args = parser.parse_args(argv)

    from pipeline.config import apply_environment, load_settings

    apply_environment()  # OpenMP threads that do not spin, before torch loads
    from models.diarization import PyannoteDiarizer
    from pipeline.eval.bench import build_long_call
    from pipeline.eval.diarization_panel import parse_variant
    from pipeline.intake import ingest
    from pipeline.salt import caller_salt
    from pipeline.stages.audio import decode_audio

    variants = [parse_variant(v) for v in args.variant]
    with tempfile.TemporaryDirectory(prefix="diarizer-speed-") as tmp:
        settings = load_settings().with_(home=Path(tmp), db_path=Path(tmp) / "unused.duckdb")
        recordings = ingest.dedupe(ingest.scan_source(args.source, salt=caller_salt(settings)).recordings)
        call = build_long_call([r.path for r in recordings], Path(tmp) / "long_call.wav", minutes=args.minutes)
        wave = decode_audio(call).mono()
    duration = len(wave) / 16000
    diarizers = {}
    for name, options in variants:
        started = time.perf_counter()
        diarizers[name] = PyannoteDiarizer(options=options)
        diarizers[name].diarize_voices(wave[: 15 * 16000])
        print(f"{name}: built and warmed up in {time.perf_counter() - started:.1f} s", flush=True)
    times: dict[str, list[float]] = {name: [] for name, _ in variants}
    for round_ in range(args.repeats):
        for name, _ in variants:
            started = time.perf_counter()
            diarizers[name].diarize_voices(wave)
            times[name].append(time.perf_counter() - started)
        print(f"round {round_ + 1}: " + "  ".join(f"{n}={times[n][-1]:.1f}s" for n in times), flush=True)
    first = variants[0][0]
    print(f"call: {duration:.1f} s (8 kHz mu-law, {args.minutes:g} min); shared machine: only ratios are meaningful")
    for name, _ in variants:
        ratio = statistics.median(t / f for t, f in zip(times[name], times[first]))
        print(f"{name:>10}: {' '.join(f'{t:.1f}' for t in times[name])} s  rtf here {statistics.median(times[name]) / duration:.3f}  "
              f"ratio to {first} {ratio:.2f}  implied quiet speakers rtf {args.quiet_rtf * ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
