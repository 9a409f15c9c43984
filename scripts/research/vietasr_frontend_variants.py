"""Front-end variants for band-limited (phone) speech on chosen fosd-pool clips: how many empty clips get text, at what WER.

For each ``--variant`` (see :func:`apply_variant`; "" is the production front end)
the clips go through the production path up to the features, the variant changes the
features, the encoder runs (8 pieces per call as in production) and the SDK's beam search
decodes (no LM). Prints, per variant: clips with text, WER on these clips (errors summed).

Run: nice -n 10 .venv/bin/python scripts/research/vietasr_frontend_variants.py \
        /work/shared/eval/fosd-pool/manifest.tsv --clips var/asr_post/fosd-phone-empty.npy --telephone \
        --variant "" flat=8 edge=3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def apply_variant(f: np.ndarray, variant: str) -> np.ndarray:
    """A front-end variant applied to log-mel features (issue 27; "" is the production front end)."""
    if not variant:
        return f
    name, _, value = variant.partition("=")
    f = f.copy()
    if name == "flat":  # bins from 58 (3.47 kHz) up set to a constant
        f[:, 58:] = float(value)
    elif name == "flatmean":  # bins from 58 up set to their mean over the piece
        f[:, 58:] = f[:, 58:].mean()
    elif name == "edge":  # bins from 58 up: the frame's bin-55..57 level minus VALUE nats
        f[:, 58:] = f[:, 55:58].mean(axis=1, keepdims=True) - float(value)
    elif name == "profile":  # bins from 58 up: a wideband speech profile, shifted with the frame's in-band level
        prof = np.load(value)
        lvl = f[:, 20:56].mean(axis=1, keepdims=True)
        f[:, 58:] = lvl + prof[None, 58:]
    elif name == "gain":  # all bins raised by VALUE nats (= a louder input, without clipping)
        f += float(value)
    else:
        raise ValueError(variant)
    return f


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--clips", type=Path, help=".npy of clip indices (default: all)")
    ap.add_argument("--every", type=int, default=1, help="only every n-th of those clips")
    ap.add_argument("--telephone", action="store_true")
    ap.add_argument("--variant", nargs="+", default=[""])
    ap.add_argument("--vad-threshold", type=float, default=None, help="Silero threshold (default: the product's)")
    ap.add_argument("--asr-model", default="viet-asr", help="viet-asr (phone audio fed at 8 kHz) or viet-asr-16k")
    args = ap.parse_args()

    from vietasr_posteriors import clip_pieces

    from models.registry import load_recognizer
    from models.viet_asr import ONNX_BATCH
    from pipeline.config import load_settings
    from pipeline.eval.asr import load_clip, read_clips, score_text
    from pipeline.stages.transcribe import TranscribeOptions

    s = load_settings()
    asr = load_recognizer(args.asr_model, cache_dir=s.model_cache, lm="none")
    ctc = asr._ctc_model()
    options = TranscribeOptions() if args.vad_threshold is None else TranscribeOptions(vad_threshold=args.vad_threshold)
    rows = read_clips(args.manifest)
    idx = np.load(args.clips).tolist() if args.clips else list(range(len(rows)))
    idx = idx[:: args.every]
    inputs = [clip_pieces(asr, load_clip(rows[i].path, telephone=args.telephone), options) for i in idx]
    for variant in args.variant:
        texted = errors = words = 0
        for i, pieces in zip(idx, inputs):
            texts = []
            for b in range(0, len(pieces), ONNX_BATCH):
                feats = [apply_variant(ctc.features(x, r), variant) for x, r in pieces[b : b + ONNX_BATCH]]
                texts += [ctc.decode_logp(lp).text for lp in ctc.posteriors(feats)]
            hyp = " ".join(t for t in texts if t)
            texted += bool(hyp)
            w, n, _, _ = score_text(rows[i].reference, hyp)
            errors, words = errors + w, words + n
        print(f"variant={variant!r:14} clips with text {texted}/{len(idx)}  wer {errors / max(1, words):.3f}", flush=True)


if __name__ == "__main__":
    main()
