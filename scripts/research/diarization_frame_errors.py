#!/usr/bin/env python
"""Where a diarizer's false alarm lies, frame by frame (10 ms), on diarization manifests.

    PYTHONPATH=$PWD .venv/bin/python scripts/research/diarization_frame_errors.py var/diar-real/manifest_8k.tsv var/diar-real/manifest.tsv --limit 5

Per manifest: seconds of reference speech; false alarm in pauses near (≤ 0.25 s) and far
from a reference edge; over-counted speakers inside speech (the hypothesis has more
speakers active than the reference: pyannote counts it as false alarm), also split by
edge distance; seconds of overlap in the reference and in the hypothesis; missed speech
far from edges. Options are fields of models.diarization.DiarizationOptions
(``--set key=value,…``), as the variants of ``hotline eval diarization-panel``. The counting is
:func:`pipeline.eval.diarization_errors.frame_errors`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


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
    from pipeline.config import apply_environment
    from pipeline.eval.diarization_errors import frame_errors
    from pipeline.eval.diarization_panel import parse_variant

    apply_environment()

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
