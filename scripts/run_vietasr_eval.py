"""Run viet-asr (the default recogniser) on ../shared/eval clips; write reference and hypothesis.

    PYTHONPATH=$PWD nice -n 10 .venv/bin/python scripts/run_vietasr_eval.py ../shared/eval \
        var/eval/vietasr_hyp.tsv [--places-only] [--limit N]

Output columns ``subset, file, reference, hypothesis`` (derived from the eval data: keep it
under var/). ``--places-only``: only clips whose reference holds a place word, the input of
``hotline eval places``. Each clip is read at 16 kHz mono and peak-normalised to
−6 dBFS (very quiet clips come back empty otherwise). Feeds ``scripts/vietasr_errors.py``.
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

PLACE_WORDS = re.compile(r"(phường|xã [a-zđ]|huyện [a-zđ]|tỉnh [a-zđ]|thành phố [a-zđ]|đường [a-zđ]|quận|thị trấn|"
                         r"thôn|hẻm|số nhà|quốc lộ)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("eval_dir", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--places-only", action="store_true")
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args(argv)
    import librosa
    import numpy as np
    import vietasr

    asr = vietasr.Pipeline.new().add("vietasr").build()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(args.out, "w", encoding="utf-8") as out:
        out.write("subset\tfile\treference\thypothesis\n")
        for sub in ("asr-dev", "fosd-pool"):
            manifest = args.eval_dir / sub / "manifest.tsv"
            for row in csv.DictReader(open(manifest, encoding="utf-8"), delimiter="\t", quoting=csv.QUOTE_NONE):
                if args.places_only and not PLACE_WORDS.search(row["reference"]):
                    continue
                y, _ = librosa.load(str(args.eval_dir / sub / row["file"]), sr=16000, mono=True)
                y = y / (np.abs(y).max() or 1.0) * 0.5
                hyp = asr.transcribe((y * 32767).astype(np.int16), sample_rate=16000).text
                out.write(f"{sub}\t{row['file']}\t{row['reference']}\t{' '.join(hyp.split())}\n")
                out.flush()
                n += 1
                if args.limit and n >= args.limit:
                    return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
