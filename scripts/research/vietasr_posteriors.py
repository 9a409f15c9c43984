"""Cache viet-asr's CTC posteriors per clip (top 64 tokens per frame) so decoder sweeps never re-run the network.

The clip goes through the production path up to the posteriors: decode, the simulated
phone line (``--telephone``), Silero VAD, pieces ≤ 15 s (``group_pieces``), the SDK's
int16 preparation and resampler, features, the encoder with up to 8 pieces of the call
per batch. ``--variant`` changes the front end (part 2 of issue 27: why phone clips come
back empty). Output: one ``.npz`` under var/ (never committed) with, per piece, the top
64 log-probabilities of each frame and their token ids, plus the clips' references.

Decoding from the top 64 gives the same tokens as from the full rows for beams ≤ 32 (the
search only looks at the best 2 × beam tokens of a frame).

Run: nice -n 10 .venv/bin/python scripts/research/vietasr_posteriors.py \
        /work/shared/eval/fosd-pool/manifest.tsv --telephone --out var/asr_post/fosd-phone.npz
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

TOP = 64


def clip_pieces(asr, audio, options) -> list[tuple[np.ndarray, int]]:
    """The (int16 samples, rate) pieces the ONNX route decodes for one mono clip, as ``transcribe_call`` cuts them."""
    from models.recognizer import SAMPLE_RATE
    from models.viet_asr import MAX_PIECE_S, group_pieces
    from pipeline.stages.transcribe import find_speech, split_points

    mono = audio.mono()
    speech = find_speech(mono, asr, options)
    out = []
    if not speech:
        return out
    source_rate = audio.source_sample_rate or SAMPLE_RATE
    for start, end in split_points(speech, len(mono) / SAMPLE_RATE, options.max_piece_s):
        piece = mono[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        piece_speech = [(max(a, start) - start, min(b, end) - start) for a, b in speech if b > start and a < end]
        for a, b, _ in group_pieces(piece_speech, len(piece) / SAMPLE_RATE, MAX_PIECE_S, piece):
            out.append(asr._prepare(piece[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)], source_rate))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--telephone", action="store_true")
    ap.add_argument("--variant", default="", help="front-end variant: NAME[=VALUE] (vietasr_frontend_variants.apply_variant)")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--part", default="", help="K/N: only clips K, K+N, K+2N… (0-based), to cache a long set in parts")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    from vietasr_frontend_variants import apply_variant

    from models.registry import load_recognizer
    from models.viet_asr import ONNX_BATCH
    from pipeline.config import load_settings
    from pipeline.eval.asr import load_clip, read_clips
    from pipeline.stages.transcribe import TranscribeOptions

    s = load_settings()
    asr = load_recognizer("viet-asr", cache_dir=s.model_cache, lm="none")
    ctc = asr._ctc_model()
    options = TranscribeOptions()
    rows = read_clips(args.manifest)
    if args.limit:
        rows = rows[: args.limit]
    if args.part:
        k, n = (int(x) for x in args.part.split("/"))
        rows = rows[k::n]
    vals, idxs, frames, clip_of, files, refs, datasets = [], [], [], [], [], [], []
    t0 = time.process_time()
    for c, row in enumerate(rows):
        audio = load_clip(row.path, telephone=args.telephone)
        pieces = clip_pieces(asr, audio, options)
        files.append(str(row.path))
        refs.append(row.reference)
        datasets.append(row.dataset)
        for i in range(0, len(pieces), ONNX_BATCH):
            feats = [apply_variant(ctc.features(x, rate), args.variant) for x, rate in pieces[i : i + ONNX_BATCH]]
            for lp in ctc.posteriors(feats):
                top = np.argpartition(lp, -TOP, axis=1)[:, -TOP:]
                vals.append(np.take_along_axis(lp, top, axis=1).astype(np.float32))
                idxs.append(top.astype(np.int16))
                frames.append(len(lp))
                clip_of.append(c)
        if (c + 1) % 20 == 0:
            print(f"[{c + 1}/{len(rows)}] cpu {time.process_time() - t0:.0f}s", file=sys.stderr, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, vals=np.concatenate(vals) if vals else np.zeros((0, TOP), np.float32),
             idxs=np.concatenate(idxs) if idxs else np.zeros((0, TOP), np.int16), frames=np.array(frames, np.int64),
             clip=np.array(clip_of, np.int64), files=np.array(files), refs=np.array(refs), datasets=np.array(datasets),
             variant=np.array(args.variant), telephone=np.array(args.telephone))
    print(f"{len(rows)} clips, {len(frames)} pieces, {sum(frames)} frames, cpu {time.process_time() - t0:.0f}s -> {args.out}")


if __name__ == "__main__":
    main()
