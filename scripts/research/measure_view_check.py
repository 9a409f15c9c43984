"""Side by side, in one run: db.connect on a current warehouse with the view-file check vs without it,
a per-request connection, and one full re-creation of the views (issue 12 #5). Run:
    PYTHONPATH=$PWD .venv/bin/python scripts/research/measure_view_check.py
"""
import tempfile, time
from pathlib import Path
from pipeline.warehouse import db
d = Path(tempfile.mkdtemp()); path = d / "w.duckdb"
db.connect(path).close()
orig = db.refresh_views
def timed(n, fn):
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n
N = 40
with_check, without = [], []
for r in range(3):
    db.refresh_views = orig
    with_check.append(timed(N, lambda: db.connect(path).close()))
    db.refresh_views = lambda con: False
    without.append(timed(N, lambda: db.connect(path).close()))
db.refresh_views = orig
per_request = timed(N, lambda: db.connect(path, migrate_schema=False).close())
con = db.connect(path)
def recreate():
    con.execute("DELETE FROM schema_views")
    orig(con)
full = timed(10, recreate)
con.close()
print(f"connect+migrate, view check: {min(with_check)*1000:.1f} ms; without: {min(without)*1000:.1f} ms; "
      f"ratio {min(with_check)/min(without):.2f}; per-request (no migrate): {per_request*1000:.1f} ms; "
      f"full re-creation of {len(db.views())} views: {full*1000:.1f} ms")
