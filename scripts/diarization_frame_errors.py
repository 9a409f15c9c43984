#!/usr/bin/env python
"""Where a diarizer's false alarm lies, frame by frame (10 ms), on diarization manifests.

    .venv/bin/python scripts/diarization_frame_errors.py var/diar-real/manifest_8k.tsv var/diar-real/manifest.tsv --limit 5

Per manifest: seconds of reference speech; false alarm in pauses near (≤ 0.25 s) and far
from a reference edge; over-counted speakers inside speech (the hypothesis has more
speakers active than the reference: pyannote counts it as false alarm), also split by
edge distance; seconds of overlap in the reference and in the hypothesis; missed speech
far from edges. Options are fields of models.diarization.DiarizationOptions
(``--set key=value,…``), as in scripts/sweep_diarization.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FPS = 100  # frames per second
COLLAR_FRAMES = 25  # 0.25 s


def _mask(turns, n: int) -> np.ndarray:
    m = np.zeros(n, bool)
    for t in turns:
        m[int(t.start * FPS): int(t.end * FPS)] = True
    return m


def _count(turns, n: int) -> np.ndarray:
    c = np.zeros(n, int)
    for sp in {t.speaker for t in turns}:
        c += _mask([t for t in turns if t.speaker == sp], n)
    return c


def frame_errors(ref_turns, hyp_turns, duration_s: float) -> dict[str, float]:
    """Seconds of each kind of error (see the module docstring)."""
    n = int(duration_s * FPS) + 1
    rc, hc = _count(ref_turns, n), _count(hyp_turns, n)
    r, h = rc > 0, hc > 0
    edges = np.flatnonzero(np.diff(r.astype(int)) != 0)
    dist = np.full(n, 10**9)
    idx = np.arange(n)
    for e in edges:
        dist = np.minimum(dist, np.abs(idx - e))
    far = dist > COLLAR_FRAMES
    over = (hc > rc) & r
    out = {
        "reference": r.sum(), "fa_pause_near": (h & ~r & ~far).sum(), "fa_pause_far": (h & ~r & far).sum(),
        "overcount_near": (over & ~far).sum(), "overcount_far": (over & far).sum(),
        "overlap_reference": (rc > 1).sum(), "overlap_hypothesis": (hc > 1).sum(), "missed_far": (r & ~h & far).sum(),
    }
    return {k: float(v) / FPS for k, v in out.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("manifests", nargs="+", type=Path)
    parser.add_argument("--limit", type=int, default=0, help="first N files of each manifest only")
    parser.add_argument("--set", default="", help="diarizer options, key=value,key=value")
    args = parser.parse_args(argv)

    from models.diarization import PyannoteDiarizer
    from pipeline.eval.diarization import read_diarization_manifest as read_manifest
    from pipeline.eval.rttm import read_rttm
    from pipeline.stages.audio import decode_audio
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from sweep_diarization import parse_variant

    diarizer = PyannoteDiarizer(options=parse_variant("x:" + args.set)[1])
    for manifest in args.manifests:
        rows = read_manifest(manifest)[: args.limit or None]
        total: dict[str, float] = {}
        for audio, rttm, name, *_ in rows:
            ref = [t for ts in read_rttm(rttm).values() for t in ts]
            wave = decode_audio(audio).mono()
            for k, v in frame_errors(ref, diarizer.diarize(wave), len(wave) / 16000).items():
                total[k] = total.get(k, 0.0) + v
        print(f"{manifest} ({len(rows)} files): " + " ".join(f"{k}={v:.1f}s" for k, v in total.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
