#!/usr/bin/env python
"""How far off is the reference speech detector (Silero VAD) of the diarization sets?

    PYTHONPATH=$PWD .venv/bin/python scripts/research/check_reference_vad.py --pool /work/shared/eval/fosd-pool

1. Known truth: espeak-ng Vietnamese sentences, whose pauses are digital silence, so
   the true speech regions are the non-zero samples (pauses < 0.3 s bridged, as the
   reference does). Silero's missed and false-alarm seconds against that truth, and
   its mean boundary offset, on clean 16 kHz audio and with the pool's noise floor.
2. Real clips (no truth): Silero against a plain energy detector (frames within 30 dB
   of the clip's loudest 50 ms, same bridging) on fosd-pool clips: how much the choice
   of detector moves the reference.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pipeline.eval.diarization_sets import BRIDGE_S, SR, speech_regions  # noqa: E402

from pipeline.intervals import merge, subtract, total  # noqa: E402
from pipeline.stages.audio import decode_audio  # noqa: E402

SENTENCES = [
    ("vi+m3", "Tổng đài xin nghe, tôi có thể giúp gì cho anh chị?"),
    ("vi-vn-x-south+f4", "Nhà tôi ở số mười hai đường Lê Duẩn, gần chợ."),
    ("vi-vn-x-central+f2", "Dạ, hẻm đó ở đường nào và thuộc phường nào ạ?"),
    ("vi+m1", "Rác ở đầu hẻm một tuần nay không ai thu gom, mùi hôi lắm."),
    ("vi+f3", "Chúng tôi sẽ chuyển cho công ty môi trường đô thị trong hôm nay."),
    ("vi-vn-x-south+m2", "Cho tôi hỏi, đèn đường ở phường Tân Lợi bị hỏng đã ba ngày."),
]


def bridge(regions, gap=BRIDGE_S):
    out = []
    for a, b in sorted(regions):
        if out and a - out[-1][1] < gap:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def nonzero_regions(audio: np.ndarray, eps: float = 1e-4) -> list[tuple[float, float]]:
    frame = int(0.01 * SR)
    n = len(audio) // frame
    active = np.abs(audio[: n * frame]).reshape(n, frame).max(axis=1) > eps
    regions, start = [], None
    for i, on in enumerate(active):
        if on and start is None:
            start = i
        elif not on and start is not None:
            regions.append((start * 0.01, i * 0.01))
            start = None
    if start is not None:
        regions.append((start * 0.01, n * 0.01))
    return bridge(regions)


def energy_regions(audio: np.ndarray, floor_db: float = 30.0) -> list[tuple[float, float]]:
    frame = int(0.05 * SR)
    n = len(audio) // frame
    if n == 0:
        return []
    rms = np.sqrt(np.mean(audio[: n * frame].astype(np.float64).reshape(n, frame) ** 2, axis=1)) + 1e-9
    db = 20 * np.log10(rms)
    active = db > db.max() - floor_db
    regions = [(i * 0.05, (i + 1) * 0.05) for i, on in enumerate(active) if on]
    return bridge(merge(regions))


def compare(truth, test):
    truth, test = merge(truth), merge(test)
    miss = total(subtract(truth, test))
    fa = total(subtract(test, truth))
    return miss, fa, total(truth)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--pool", type=Path, required=True)
    parser.add_argument("--clips", type=int, default=60, help="fosd-pool clips to compare (first N)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(7)

    with tempfile.TemporaryDirectory() as tmp:
        sums = {"clean": [0.0, 0.0, 0.0, []], "noise -58 dBFS": [0.0, 0.0, 0.0, []]}
        for voice, text in SENTENCES:
            raw = Path(tmp) / "s.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-s", "155", "-w", str(raw), text], check=True, capture_output=True)
            audio = decode_audio(raw, sample_rate=SR).mono()
            audio = np.concatenate([np.zeros(SR // 2, np.float32), audio * 0.3, np.zeros(SR // 2, np.float32)])
            truth = nonzero_regions(audio)
            for cond, x in (("clean", audio), ("noise -58 dBFS", audio + rng.standard_normal(len(audio)).astype(np.float32) * 10 ** (-58 / 20))):
                found = speech_regions(x)
                miss, fa, ref = compare(truth, found)
                s = sums[cond]
                s[0] += miss
                s[1] += fa
                s[2] += ref
                if found and truth:
                    s[3] += [abs(found[0][0] - truth[0][0]), abs(found[-1][1] - truth[-1][1])]
        for cond, (miss, fa, ref, offs) in sums.items():
            print(f"Silero vs true speech (espeak-ng, {cond}): missed {miss / ref:.3f}, false alarm {fa / ref:.3f} "
                  f"of {ref:.1f} s; mean first/last boundary offset {np.mean(offs) * 1000:.0f} ms")

    with open(args.pool / "manifest.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))[: args.clips]
    miss = fa = ref = 0.0
    for row in rows:
        audio = decode_audio(args.pool / row["file"], sample_rate=SR).mono()
        m, a, r = compare(speech_regions(audio), energy_regions(audio))
        miss, fa, ref = miss + m, fa + a, ref + r
    print(f"energy detector vs Silero on {len(rows)} fosd-pool clips: energy misses {miss / ref:.3f} and adds "
          f"{fa / ref:.3f} of Silero's {ref:.1f} s of speech")
    return 0


if __name__ == "__main__":
    sys.exit(main())
