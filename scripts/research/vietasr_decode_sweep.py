"""Decode cached viet-asr posteriors (vietasr_posteriors.py) with and without a language model; WER per setting.

Each setting decodes every piece of every clip with :func:`models.vietasr_ctc.prefix_beam_search`
(the production decoder), joins a clip's pieces, and scores it like ``hotline eval asr``
(errors summed over clips). Prints one line per setting: WER, CER, empty clips, WER on
the clips that are not empty, decode CPU seconds. ``--rows`` writes per-clip rows (TSV, under var/).

Run: nice -n 10 .venv/bin/python scripts/research/vietasr_decode_sweep.py var/asr_post/dev-phone.npz \
        --lm models/artifacts/lm/vi-3gram.npz --alpha 0 0.3 0.5 --beta 0 1 2 --beam 10
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

FILL = -1e4  # log-probability of tokens outside the cached top 64
TOKEN_MIN = -10.0  # tokens less probable than this in a frame are not extended (no change to the no-LM output on asr-dev)


def load_cache(path: Path):
    """(pieces, files, refs, datasets) of a cache; ``A.npz+B.npz`` joins parts of one set (``--part``)."""
    pieces, files, refs, datasets = [], [], [], []
    for one in str(path).split("+"):
        z = np.load(one if one.endswith(".npz") else one + ".npz")
        bounds = np.concatenate([[0], np.cumsum(z["frames"])])
        pieces += [(int(c) + len(files), z["vals"][a:b], z["idxs"][a:b])
                   for c, a, b in zip(z["clip"], bounds[:-1], bounds[1:])]
        files, refs, datasets = files + list(z["files"]), refs + list(z["refs"]), datasets + list(z["datasets"])
    return pieces, files, refs, datasets


def dense(vals: np.ndarray, idxs: np.ndarray, n_out: int) -> np.ndarray:
    out = np.full((len(vals), n_out), FILL, np.float32)
    np.put_along_axis(out, idxs.astype(np.int64), vals, axis=1)
    return out


def decode_all(pieces, n_clips: int, vocab: dict, *, beam: int, fusion=None, keep_empty: bool = True) -> list[str]:
    from models import vietasr_ctc as vc

    texts = [[] for _ in range(n_clips)]
    for c, vals, idxs in pieces:
        logp = dense(vals, idxs, vc.N_OUT)
        tokens = vc.prefix_beam_search(logp, beam=beam, fusion=fusion, token_min_logp=TOKEN_MIN) if len(logp) else []
        if fusion is not None and keep_empty and tokens and vc.heard_nothing(logp):
            tokens = []
        texts[c].append(" ".join("".join(vocab.get(t, "") for t in tokens).replace("\u2581", " ").split()))
    return [" ".join(t for t in ts if t) for ts in texts]


def score(refs, hyps):
    from pipeline.eval.asr import score_text

    we = wn = ce = cn = 0
    empty = 0
    ne_we = ne_wn = 0
    rows = []
    for r, h in zip(refs, hyps):
        w, n, c, m = score_text(r, h)
        we, wn, ce, cn = we + w, wn + n, ce + c, cn + m
        if not h.strip():
            empty += 1
        else:
            ne_we, ne_wn = ne_we + w, ne_wn + n
        rows.append((w, n))
    return we / wn, ce / cn, empty, ne_we / max(1, ne_wn), rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cache", type=Path, nargs="+")
    ap.add_argument("--lm", type=Path, default=None)
    ap.add_argument("--alpha", type=float, nargs="*", default=[0.0])
    ap.add_argument("--beta", type=float, nargs="*", default=[0.0])
    ap.add_argument("--beam", type=int, nargs="*", default=[10])
    ap.add_argument("--no-lm", action="store_true", help="also the plain search (no fusion object)")
    ap.add_argument("--half", choices=("a", "b"), default=None, help="only even (a) or odd (b) clips")
    ap.add_argument("--rows", type=Path, default=None, help="per-clip TSV of the last setting")
    args = ap.parse_args()

    from models.vietasr_ctc import LMFusion, VietAsrCtc

    from models.viet_asr import library_path

    vocab = VietAsrCtc.read_vocab(library_path().read_bytes())
    lm = None
    if args.lm:
        from models.ngram_lm import load_model

        t = time.perf_counter()
        lm = load_model(args.lm)
        print(f"# lm {args.lm} sizes={lm.sizes} load {time.perf_counter() - t:.2f}s")
    for cache in args.cache:
        pieces, files, refs, datasets = load_cache(cache)
        sel = list(range(len(files)))
        if args.half:
            sel = [i for i in sel if i % 2 == (0 if args.half == "a" else 1)]
            keep = set(sel)
            remap = {c: k for k, c in enumerate(sel)}
            pieces = [(remap[c], v, i) for c, v, i in pieces if c in keep]
            refs = [refs[i] for i in sel]
            files = [files[i] for i in sel]
        settings = []
        if args.no_lm or lm is None:
            settings += [(b, None, None) for b in args.beam]
        if lm is not None:
            settings += [(b, a, be) for b in args.beam for a, be in itertools.product(args.alpha, args.beta)]
        for beam, alpha, beta in settings:
            fusion = LMFusion(lm, vocab, alpha=alpha, beta=beta) if alpha is not None else None
            t = time.process_time()
            hyps = decode_all(pieces, len(refs), vocab, beam=beam, fusion=fusion)
            cpu = time.process_time() - t
            wer, cer, empty, ne, rows = score(refs, hyps)
            print(f"{cache.name} beam={beam} alpha={alpha} beta={beta} wer={wer:.4f} cer={cer:.4f} "
                  f"empty={empty}/{len(refs)} wer_nonempty={ne:.4f} cpu={cpu:.1f}s", flush=True)
        if args.rows:
            with open(args.rows, "w", encoding="utf-8") as fh:
                fh.write("file\tword_errors\tref_words\treference\thypothesis\n")
                for f, (w, n), r, h in zip(files, rows, refs, hyps):
                    fh.write(f"{Path(f).name}\t{w}\t{n}\t{r}\t{h}\n")


if __name__ == "__main__":
    main()
