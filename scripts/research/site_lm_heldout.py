"""A site's language model on held-out sentences of the same kind (issue 27, item 3): shipped LM vs site LM, WER.

The site's QA-corrected transcripts are simulated by the reference transcripts of part of a
set: clips are split **by sentence** (clip k of the manifest goes to the test part when
k % EVERY == 0, else to the corrections part; the set has no sentence twice, which the
script checks, so no sentence is in both parts). The site model is built exactly as
``hotline lm build`` builds it (:func:`pipeline.runs.lm_build.gather` and ``build``: the
corrected sentences, the gazetteer's units and streets, the mixture weight by EM on every
tenth corrected sentence or 0.3 when fewer than 20 are held out) from the first N sentences
of the corrections part, then the test part's cached posteriors (vietasr_posteriors.py) are
decoded with the shipped model and with the site model at the shipped weights (not tuned
here). Also prints each model's perplexity on the test references.

Run: nice -n 10 .venv/bin/python scripts/research/site_lm_heldout.py var/asr_post/fosd-phone.npz \
        var/asr_post/fosd-wide.npz --n 0 50 100 all
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cache", type=Path, nargs="+", help="posterior caches of one manifest (e.g. phone and wideband)")
    ap.add_argument("--every", type=int, default=3, help="clip k is a test clip when k %% EVERY == 0")
    ap.add_argument("--n", nargs="*", default=["0", "50", "100", "all"],
                    help="corrected sentences the site has (0: places only)")
    ap.add_argument("--no-places", action="store_true", help="leave the gazetteer out of the site's text")
    ap.add_argument("--texts", type=Path, nargs="*", default=[],
                    help="also a site built from these texts alone (admin texts; a .tsv's first column, header skipped)")
    ap.add_argument("--alpha", type=float, default=0.2)
    ap.add_argument("--beta", type=float, default=3.0)
    ap.add_argument("--beam", type=int, default=16)
    args = ap.parse_args()

    from vietasr_decode_sweep import decode_all, load_cache, score

    from models import language_model
    from models.lm_text import spoken_sentences
    from models.viet_asr import library_path
    from models.vietasr_ctc import LMFusion, VietAsrCtc
    from pipeline.runs import lm_build

    vocab = VietAsrCtc.read_vocab(library_path().read_bytes())
    caches = [load_cache(c) for c in args.cache]
    refs = caches[0][2]
    assert all(list(c[2]) == list(refs) for c in caches), "the caches are not of one manifest"
    norm = [" ".join(str(r).split()) for r in refs]
    assert len(set(norm)) == len(norm), "a sentence occurs twice: split by sentence text instead"
    test = [k for k in range(len(refs)) if k % args.every == 0]
    corr = [str(refs[k]) for k in range(len(refs)) if k % args.every != 0]
    test_refs = [str(refs[k]) for k in test]
    test_spoken = [s for r in test_refs for s in spoken_sentences(r)]
    print(f"# {len(refs)} clips: {len(test)} test, {len(corr)} corrections "
          f"({sum(len(c.split()) for c in corr)} words); alpha={args.alpha} beta={args.beta} beam={args.beam}")

    shipped = language_model.load(language_model.LMChoice("shipped", language_model.SHIPPED_LM))
    models = [("shipped", shipped, None)]
    places = [] if args.no_places else lm_build.place_lines()
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.n:
            k = len(corr) if n == "all" else int(n)
            site = lm_build.gather(corrected=corr[:k], places=places, texts=[])
            t = time.perf_counter()
            rep = lm_build.build(Path(tmp) / f"site-{n}", site)
            lm = language_model.load(language_model.LMChoice("site", rep.path))
            models.append((f"site N={k}{'' if places else ' (no places)'}", lm,
                           f"weight {rep.weight:.2f} ({'EM' if rep.weight_estimated else 'default'}), "
                           f"build {time.perf_counter() - t:.1f}s"))
        if args.texts:
            lines = []
            for p in args.texts:
                rows = p.read_text(encoding="utf-8").splitlines()
                lines += [r.split("\t")[0] for r in rows[1:]] if p.suffix == ".tsv" else rows
            rep = lm_build.build(Path(tmp) / "site-texts", lm_build.gather(corrected=[], places=places, texts=lines))
            models.append((f"site texts ({len(lines)} lines)", language_model.load(
                language_model.LMChoice("site", rep.path)), f"weight {rep.weight:.2f} (default)"))
        for name, lm, how in models:
            ppl = lm.perplexity(test_spoken)[0]
            line = [f"{name:<22} ppl(test refs)={ppl:7.1f}"]
            for cache_path, (pieces, files, crefs, _) in zip(args.cache, caches):
                keep = {c: i for i, c in enumerate(test)}
                sel = [(keep[c], v, ix) for c, v, ix in pieces if c in keep]
                t = time.process_time()
                hyps = decode_all(sel, len(test), vocab, beam=args.beam,
                                  fusion=LMFusion(lm, vocab, alpha=args.alpha, beta=args.beta))
                wer, cer, empty, ne, _ = score(test_refs, hyps)
                line.append(f"{cache_path.stem}: WER {wer:.4f} CER {cer:.4f} empty {empty} "
                            f"(cpu {time.process_time() - t:.0f}s)")
            print("  ".join(line) + (f"  [{how}]" if how else ""), flush=True)


if __name__ == "__main__":
    main()
