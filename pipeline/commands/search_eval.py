"""``hotline eval search [--set FILE] [--calls N]``: precision and recall of call search on a
labelled search set, over a synthetic warehouse built from it in a temporary folder
(:mod:`pipeline.eval.search`)."""

from __future__ import annotations

from pathlib import Path

from pipeline.eval.search import DEFAULT_SET, evaluate_search_set


def _eval_search(args) -> int:
    for run in evaluate_search_set(args.set, n_calls=args.calls, seed=args.seed):
        if run.name == "default" and args.verbose:
            for s in run.scores:
                print(f"  {s.q!r:45} relevant={s.n_relevant:3} returned={s.n_returned:3} "
                      f"P={s.precision:.3f} R={s.recall:.3f}")
        m = run.summary
        print(f"{run.name}: queries={m['queries']} calls={run.calls} "
              f"micro P={m['micro_precision']:.3f} R={m['micro_recall']:.3f} "
              f"macro P={m['macro_precision']:.3f} R={m['macro_recall']:.3f}")
        if run.unmarked:
            u = run.unmarked
            print(f"{run.name} unmarked syllables: queries={u['queries']} "
                  f"micro P={u['micro_precision']:.3f} R={u['micro_recall']:.3f} "
                  f"macro P={u['macro_precision']:.3f} R={u['macro_recall']:.3f}")
    return 0


def register(sub, eval_sub) -> None:
    p = eval_sub.add_parser("search", help="precision/recall of call search on a labelled search set")
    p.add_argument("--set", type=Path, default=DEFAULT_SET, help="labelled search set (JSON)")
    p.add_argument("--calls", type=int, default=400, help="calls in the synthetic warehouse")
    p.add_argument("--seed", type=int, default=14, help="seed of the synthetic calls of the search set (default 14)")
    p.add_argument("-v", "--verbose", action="store_true", help="one line per query")
    p.set_defaults(func=_eval_search)
