"""``hotline demo-data --calls N --db PATH``: a realistic warehouse of N calls, no audio (issue 32).

The pools come from files the product ships (where each distribution comes from is in
:mod:`pipeline.warehouse.demo_data`): the topic corpus, the gazetteer's 2025 wards and
communes, the demo calls' operator turns.
"""

from __future__ import annotations

import csv
import json
import time
from datetime import datetime
from pathlib import Path

from pipeline.commands import iso_date
from pipeline.config import REPO_ROOT
from pipeline.errors import HotlineError
from pipeline.lines import DEFAULT_LINES
from pipeline.warehouse import db
from pipeline.warehouse.demo_data import build_demo_calls, checkpoint

# Share of the calls per shipped line (an assumption: the province's line is the busier one).
LINE_SHARES = {"tinh-1022": 0.55, "bmt": 0.35, "phu-yen": 0.10}


def demo_pools(root: Path = REPO_ROOT) -> dict:
    """(texts, wards, operator_turns) read from the topic corpus, the gazetteer and the demo calls."""
    texts = []
    with open(root / "models" / "topic_corpus" / "train.tsv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row.get("text") and row.get("labels") and row["labels"] != "other":
                texts.append((row["text"].strip(), row["labels"].strip()))
    wards = []
    with open(root / "models" / "data" / "gazetteer_daklak.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(line for line in fh if not line.startswith("#")):
            if row["kind"] in ("ward", "commune") and not row["code"].startswith("legacy") and not row["valid_to"]:
                wards.append(("Phường " if row["kind"] == "ward" else "Xã ") + row["name"])
    manifest = json.loads((root / "samples" / "manifest.json").read_text(encoding="utf-8"))
    ops = sorted({t["text"] for call in manifest.values() for t in call.get("turns", ()) if t["role"] == "operator"})
    if not texts or not wards or not ops:
        raise HotlineError("demo-data: the topic corpus, gazetteer or samples/manifest.json gave an empty pool")
    return {"texts": texts, "wards": wards, "operator_turns": ops}


def _demo_data(args) -> int:
    if args.calls <= 0:
        raise HotlineError(f"--calls {args.calls}: give a positive number of calls")
    db.check_warehouse_path(args.db, create=True)
    pools = demo_pools()
    end = datetime.combine(args.end, datetime.min.time()) if args.end else datetime(2026, 12, 1)
    lines = [(ln.key, LINE_SHARES.get(ln.key, 0.0), ln.since) for ln in DEFAULT_LINES]
    con = db.connect(args.db)
    try:
        t0 = time.perf_counter()
        done = 0
        while done < args.calls:  # batches bound the memory a 1M-call build needs on a small machine
            n = min(args.batch, args.calls - done)
            build_demo_calls(con, n, end=end, lines=lines, seed=args.seed, **pools)
            done += n
            print(f"{done} calls, {time.perf_counter() - t0:.1f} s", flush=True)
        checkpoint(con)
        wall = time.perf_counter() - t0
    finally:
        con.close()
    size = Path(args.db).stat().st_size
    print(f"demo-data: {args.calls} calls in {wall:.1f} s ({args.calls / wall:.0f} calls/s), "
          f"{size / 2**20:.1f} MiB: {args.db}")
    return 0


def register(sub, eval_sub) -> None:
    p = sub.add_parser("demo-data", help="build a realistic warehouse of N calls without audio (scale tests, demos)")
    p.add_argument("--calls", type=int, required=True, help="number of calls to add, e.g. 100000")
    p.add_argument("--db", type=Path, required=True, help="DuckDB file to create or add to (never the production one)")
    p.add_argument("--seed", type=int, default=32, help="random seed: the same seed gives the same calls")
    p.add_argument("--end", type=iso_date, default=None, help="last day of the 5 years of calls (default 2026-12-01)")
    p.add_argument("--batch", type=int, default=200_000, help="calls written per transaction (default 200000)")
    p.set_defaults(func=_demo_data)
