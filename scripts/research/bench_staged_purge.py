"""How long the purge takes to find the staged copies of N old calls (masked names), against one
ingest.locate per call (which walks the staging folder each time). Run: PYTHONPATH=. .venv/bin/python scripts/research/bench_staged_purge.py"""
import hashlib, tempfile, time
from pathlib import Path
from pipeline.intake.ingest import locate
from pipeline.logsafe import mask_numbers
from pipeline.warehouse.staged_copies import staged_copies
N = 2000
with tempfile.TemporaryDirectory() as d:
    root = Path(d) / "staging"; folder = root / "10.0.0.5-abc"
    rows = []
    for i in range(N):
        rel = f"2026/{i % 12 + 1:02d}/{i % 28 + 1:02d}/in-09{i:08d}-{i}.wav"
        p = folder / rel; p.parent.mkdir(parents=True, exist_ok=True)
        data = b"RIFF" + i.to_bytes(4, "big") * 4000  # 16 kB
        p.write_bytes(data)
        rows.append((f"c{i}", str(folder), mask_numbers(rel), hashlib.sha256(data).hexdigest()))
    t = time.perf_counter(); found = staged_copies(rows, root); a = time.perf_counter() - t
    sample = rows[:200]
    t = time.perf_counter(); hits = [locate(folder, r[2], r[3]) for r in sample]; b = (time.perf_counter() - t) * N / len(sample)
    print(f"{N} staged calls, masked names: staged_copies {a:.2f} s (found {len(found)}); "
          f"per-call ingest.locate, 200 timed, scaled to {N}: {b:.1f} s; ratio {b / a:.0f}x")
