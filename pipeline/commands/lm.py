"""``hotline lm build``: the recogniser's language model, the site's own (default) or the shipped one (``--shipped``)."""

from __future__ import annotations

from pathlib import Path

from models.language_model import SHIPPED_LM
from pipeline.config import entry_settings
from pipeline.runs.lm_build import SHIPPED_PRUNE, SHIPPED_SOURCES, build_for_settings, build_shipped


def _build(args) -> int:
    if args.shipped:
        if args.corpus is None:
            raise SystemExit("hotline lm build --shipped: --corpus names the folder of NAME.txt.gz files")
        r = build_shipped(args.corpus, args.out or SHIPPED_LM, sources=args.sources, prune=args.prune)
        print("sources: " + ", ".join(f"{k} {v} sentences" for k, v in r.sources.items()))
        print(f"{r.path}: {r.path.stat().st_size / 2**20:.2f} MiB, n-grams {'/'.join(map(str, r.sizes))}, "
              f"lm={r.fingerprint}, {r.seconds:.0f} s")
        return 0
    settings = entry_settings(args)
    r = build_for_settings(settings, db_path=args.db, texts=list(args.text), transcripts=not args.no_transcripts,
                           places=not args.no_places)
    print("sources: " + ", ".join(f"{k} {v} sentences" for k, v in r.sources.items()))
    if r.weight_estimated:
        print(f"held out: {r.held_out} corrected sentences; perplexity shipped {r.perplexity_shipped:.0f} -> "
              f"with the site's model {r.perplexity_site:.0f}; site weight {r.weight:.2f} (estimated)")
    else:
        print(f"held out: {r.held_out} corrected sentences (too few to estimate): site weight {r.weight:.2f} (default)")
    print(f"lm={r.fingerprint} model={r.site_model} description={r.path}")
    print("decoded with from the next run (HOTLINE_ASR_LM=auto); `hotline backfill --from … --to …` re-runs older calls")
    return 0


def register(sub, eval_sub) -> None:
    p = sub.add_parser("lm", help="the recogniser's language model: build the site's own, or the shipped one")
    lm_sub = p.add_subparsers(dest="lm_command", required=True, metavar="ACTION")
    b = lm_sub.add_parser("build", help="mix the site's corrected transcripts, places and texts into the shipped model")
    b.add_argument("--db", type=Path, default=None, help="DuckDB file (default: $HOTLINE_HOME/hotline.duckdb)")
    b.add_argument("--text", type=Path, nargs="*", default=[],
                   help="text files to add (UTF-8, one sentence a line); $HOTLINE_HOME/lm-text/*.txt are always read")
    b.add_argument("--no-transcripts", action="store_true", help="leave QA-corrected transcripts out")
    b.add_argument("--no-places", action="store_true", help="leave the gazetteer and street names out")
    b.add_argument("--shipped", action="store_true",
                   help="build the shipped model from written text instead (--corpus; what the repository ships)")
    b.add_argument("--corpus", type=Path, default=None, help="with --shipped: folder of NAME.txt.gz (../shared/lm-corpus)")
    b.add_argument("--sources", nargs="+", default=list(SHIPPED_SOURCES), help="with --shipped: corpus files by NAME")
    b.add_argument("--prune", type=int, nargs="+", default=list(SHIPPED_PRUNE),
                   help="with --shipped: per order, drop n-grams seen this often or less")
    b.add_argument("--out", type=Path, default=None, help=f"with --shipped: where to write (default {SHIPPED_LM.name} "
                   "in models/artifacts/lm/)")
    b.set_defaults(func=_build)
