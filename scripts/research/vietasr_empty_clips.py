"""Why do phone clips decode to nothing? Per-clip posteriors, level and band of the empty clips against the rest.

Reads two posterior caches of the same manifest (vietasr_posteriors.py: the phone line and
wideband), decodes both without LM, and for each clip prints whether it is empty, the share
of frames whose best token is blank, the best non-blank probability, the clip's level
(RMS dBFS of the VAD speech, before and after the phone line), its energy above 3.4 kHz
and below 300 Hz in the wideband original. Ends with the means of empty vs non-empty clips.

Run: nice -n 10 .venv/bin/python scripts/research/vietasr_empty_clips.py var/asr_post/fosd-phone.npz \
        var/asr_post/fosd-wide.npz --rows var/asr_post/fosd-empty.tsv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def band_share(x: np.ndarray, sr: int, lo: float, hi: float) -> float:
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / sr)
    return float(spec[(f >= lo) & (f < hi)].sum() / max(spec.sum(), 1e-12))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("phone", type=Path)
    ap.add_argument("wide", type=Path, nargs="?", default=None, help="the wideband cache (optional)")
    ap.add_argument("--rows", type=Path, default=None)
    args = ap.parse_args()

    from vietasr_decode_sweep import decode_all, load_cache

    from models.vietasr_ctc import BLANK, VietAsrCtc

    from models.viet_asr import library_path
    from pipeline.eval.asr import load_clip

    vocab = VietAsrCtc.read_vocab(library_path().read_bytes())
    phone, files, refs, _ = load_cache(args.phone)
    wide, files_w = (load_cache(args.wide)[:2]) if args.wide else ([], files)
    assert files == files_w
    hyp_p = decode_all(phone, len(files), vocab, beam=10)
    hyp_w = decode_all(wide, len(files), vocab, beam=10) if args.wide else hyp_p
    no_pieces = set(range(len(files))) - {c for c, _, _ in phone}
    print(f"{len(no_pieces)} clips without any VAD speech through the phone line (never reach the model)")
    stats = {}
    for cache, key in ((phone, "p"), (wide, "w")):
        for c, vals, idxs in cache:
            best = idxs[np.arange(len(vals)), vals.argmax(1)]
            nb = np.where(idxs == BLANK, -np.inf, vals).max(1)
            s = stats.setdefault((c, key), [0, 0, -np.inf])
            s[0] += int((best == BLANK).sum())
            s[1] += len(vals)
            s[2] = max(s[2], float(nb.max()) if len(nb) else -np.inf)
    rows = []
    for c, f in enumerate(files):
        a_w = load_clip(Path(f))
        a_p = load_clip(Path(f), telephone=True)
        xw, xp = a_w.mono(), a_p.mono()
        db = lambda x: 20 * np.log10(max(1e-9, float(np.sqrt(np.mean(x**2)))))  # noqa: E731
        peak = 20 * np.log10(max(1e-9, float(np.abs(xw).max())))
        sp, sw = stats.get((c, "p"), [0, 0, -np.inf]), stats.get((c, "w"), [0, 0, -np.inf])
        rows.append(dict(file=Path(f).name, empty_phone=not hyp_p[c], empty_wide=not hyp_w[c],
                         blank_share_phone=sp[0] / max(1, sp[1]), best_nonblank_phone=float(np.exp(sp[2])),
                         blank_share_wide=sw[0] / max(1, sw[1]), best_nonblank_wide=float(np.exp(sw[2])),
                         dbfs=db(xw), peak_dbfs=peak, dbfs_phone=db(xp),
                         above_3k4=band_share(xw, 16000, 3400, 8000), below_300=band_share(xw, 16000, 0, 300),
                         source_rate=a_w.source_sample_rate, ref_words=len(refs[c].split()),
                         vad_speech=c not in no_pieces))
    keys = [k for k in rows[0] if k not in ("file", "empty_phone")]
    for flag in (True, False):
        sel = [r for r in rows if r["empty_phone"] == flag]
        print(f"{'empty' if flag else 'non-empty'} through the phone line: {len(sel)} clips")
        for k in keys:
            v = np.array([float(r[k]) for r in sel])
            print(f"   {k:<20} mean {v.mean():8.3f}  median {np.median(v):8.3f}")
    if args.rows:
        with open(args.rows, "w", encoding="utf-8") as fh:
            fh.write("\t".join(rows[0]) + "\n")
            for r in rows:
                fh.write("\t".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in r.values()) + "\n")


if __name__ == "__main__":
    main()
