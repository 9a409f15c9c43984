"""Sum the fault tally the suite wrote (tests/support/tally.py) into the figures line.

``python -m tests.support.fault_figures var/faults/tally.jsonl`` prints one line, last:
``inputs_tried=N faults_survived=N rows_lost=N rows_duplicated=N clear_text_numbers=N [store=N …]``,
the bracket holding the clear numbers found by store (warehouse, logs, Prefect database, result cache,
watermarks, staging, quarantine, exports). Exits 1 when the tally is missing or empty, when any input
was not survived, or when a store was never scanned.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

# Every store a caller number could reach (tests/support/stores.py scans them; each must be scanned).
STORES = ("warehouse", "logs", "prefect_db", "result_cache", "watermarks", "staging", "quarantine", "exports")


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else "var/faults/tally.jsonl")
    if not path.is_file():
        print(f"no fault tally at {path}: run the suite with HOTLINE_FAULT_TALLY={path}", file=sys.stderr)
        return 1
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows:
        print(f"{path} is empty", file=sys.stderr)
        return 1
    by_kind = Counter()
    for r in rows:
        by_kind[r["kind"]] += r["tried"]
    total = {k: sum(r[k] for r in rows) for k in ("tried", "survived", "rows_lost", "rows_duplicated",
                                                    "clear_text_numbers")}
    stores = Counter()
    scans = Counter()
    for r in rows:
        for store, n in r.get("stores", {}).items():
            stores[store] += n
            scans[store] += 1
    missing = [s for s in STORES if not scans[s]]
    print("by kind: " + ", ".join(f"{k}={n}" for k, n in sorted(by_kind.items())))
    print("store scans: " + ", ".join(f"{s}={scans[s]}" for s in sorted(scans)) + (
        f"; never scanned: {', '.join(missing)}" if missing else ""))
    per_store = " ".join(f"{s}={stores[s]}" for s in STORES) if scans else "no store scans"
    print(f"inputs_tried={total['tried']} faults_survived={total['survived']} rows_lost={total['rows_lost']} "
          f"rows_duplicated={total['rows_duplicated']} clear_text_numbers={total['clear_text_numbers']} "
          f"[{per_store}]")
    bad = (total["survived"] != total["tried"] or total["rows_lost"] or total["rows_duplicated"]
           or total["clear_text_numbers"] or missing)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
