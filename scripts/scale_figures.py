"""Scale figures of a demo warehouse (issue 32): build, search, pages, report, cases, purge, memory.

    nice -n 10 .venv/bin/python scripts/scale_figures.py --calls 100000 --out /tmp/scale/100k

builds ``hotline demo-data --calls N`` in ``--out`` (or reuses the file there), then measures in this
process with the web app in-process (FastAPI TestClient, the real routes, a logged-in admin).
Prints one ``name value`` line per figure and the load average, for docs/operations.md.
The purge runs last, on a copy of the warehouse.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.casework.cases import build_cases  # noqa: E402
from pipeline.report.reports import write_report  # noqa: E402
from pipeline.warehouse import db, search  # noqa: E402
from pipeline.warehouse.purge import purge  # noqa: E402
from pipeline.web.app import WebOptions, create_app  # noqa: E402
from pipeline.web.auth import AuthOptions, add_user  # noqa: E402

QUERIES = {  # kind → queries (each timed --repeat times; the first run after the index build is counted)
    "common_word": ["rác", "đường"],
    "rare_word": ["sổ đỏ", "karaoke"],
    "phrase": ['"đèn đường"', '"ngập nước"'],
    "accent_free": ["den duong", "rac thai"],
}


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))]


class _Figures(dict):
    """Prints each figure as it is measured (a long run shows its progress)."""

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        print(f"{key} {value}", flush=True)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, required=True, help="calls in the demo warehouse")
    ap.add_argument("--out", type=Path, required=True, help="folder for the warehouse and the report")
    ap.add_argument("--repeat", type=int, default=10, help="timings per query / page (default 10)")
    ap.add_argument("--no-purge", action="store_true", help="skip the purge (it copies the warehouse)")
    ap.add_argument("--pages", default="", help="comma-separated page names to time (default: every page)")
    ap.add_argument("--no-cases", action="store_true", help="skip the cases build")
    ap.add_argument("--no-search", action="store_true",
                    help="skip the search index and every search (they dominate on a loaded machine)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "demo.duckdb"
    fig: dict[str, str] = _Figures()
    fig["calls"] = str(args.calls)
    fig["loadavg_start"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    if not path.exists():
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pipeline.cli", "demo-data", "--calls", str(args.calls), "--db",
                        str(path)], check=True, cwd=REPO, env=os.environ | {"PYTHONPATH": str(REPO)})
        wall = time.perf_counter() - t0
        fig["load_s"] = f"{wall:.1f}"
        fig["load_rate_calls_per_s"] = f"{args.calls / wall:.0f}"
    fig["warehouse_mib"] = f"{path.stat().st_size / 2**20:.0f}"

    con = db.connect(path)
    add_user(con, "scale", "admin", "mat-khau-scale-1", AuthOptions(scrypt_n=2**10))
    for kind, queries in ({} if args.no_search else QUERIES).items():
        if "search_index_build_s" not in fig:
            t0 = time.perf_counter()
            search.ensure_search_index(con)
            fig["search_index_build_s"] = f"{time.perf_counter() - t0:.1f}"
        times = []
        for q in queries:
            times += _timed(lambda q=q: search.search_calls(con, q, limit=200), args.repeat)
        fig[f"search_{kind}_p50_s"] = f"{statistics.median(times):.3f}"
        fig[f"search_{kind}_p95_s"] = f"{_pct(times, 95):.3f}"
    con.close()

    from fastapi.testclient import TestClient

    app = create_app(path, options=WebOptions(auth=AuthOptions(scrypt_n=2**10, failure_delay_s=0.0)))
    client = TestClient(app)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": "scale", "password": "mat-khau-scale-1", "csrf_token": token,
                                    "next": "/calls"}, follow_redirects=False)
    assert r.status_code == 303, r.status_code
    some_call = db.connect(path, read_only=True).execute(
        "SELECT call_id FROM calls ORDER BY started_at DESC LIMIT 1").fetchone()[0]
    pages = {
        "dashboard_month": "/dashboard?from=2026-10-01&to=2026-10-31",
        "dashboard": "/dashboard",  # its default period: every call loaded (5 years)
        "call_list": "/calls",
        "call_list_line": "/calls?line=bmt",
        "call_list_page_20": "/calls?page=20",
        "review_queue": "/calls?queue=1",
        "call_list_topic_month": "/calls?topic=environment&start=2026-10-01&end=2026-10-31",
        "call_list_search": "/calls?q=đèn+đường",
        "call_page": f"/calls/{some_call}",
        "api_calls": "/api/calls",
    }
    for name, url in pages.items():
        if (args.no_search and "q=" in url) or (args.pages and name not in args.pages.split(",")):
            continue
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            resp = client.get(url)
            times.append(time.perf_counter() - t0)
            assert resp.status_code == 200, (url, resp.status_code)
        fig[f"page_{name}_p50_s"] = f"{statistics.median(times):.3f}"
        fig[f"page_{name}_p95_s"] = f"{_pct(times, 95):.3f}"
    fig["web_app_max_rss_mib"] = f"{_rss_mb():.0f}"

    con = db.connect(path)
    for label, start, end in (("month", date(2026, 10, 1), date(2026, 10, 31)), ("year", date(2025, 1, 1),
                                                                                date(2025, 12, 31))):
        t0 = time.perf_counter()
        write_report(con, start, end, args.out / f"report-{label}.html")
        fig[f"report_{label}_s"] = f"{time.perf_counter() - t0:.1f}"
    # Cases: the last 30 days' calls lose their cases, then the build opens them again (a month's catch-up).
    n = 0 if args.no_cases else con.execute("SELECT count(*) FROM case_calls WHERE linked_at >= TIMESTAMP '2026-11-01'").fetchone()[0]
    if not args.no_cases:
        con.execute("DELETE FROM cases WHERE case_id IN (SELECT case_id FROM case_calls WHERE linked_at >= "
                    "TIMESTAMP '2026-11-01')")
        con.execute("DELETE FROM case_calls WHERE linked_at >= TIMESTAMP '2026-11-01'")
        t0 = time.perf_counter()
        build_cases(con)
        fig["cases_build_month_s"] = f"{time.perf_counter() - t0:.1f} ({n} calls)"
    con.close()
    fig["process_max_rss_mib"] = f"{_rss_mb():.0f}"
    if not args.no_purge:
        copy = args.out / "purge.duckdb"
        shutil.copyfile(path, copy)
        con = db.connect(copy)
        days = (datetime(2026, 12, 2) - datetime(2022, 12, 1)).days  # everything before Dec 2022: the first year
        t0 = time.perf_counter()
        report = purge(con, days, now=datetime(2026, 12, 2))
        fig["purge_year_s"] = f"{time.perf_counter() - t0:.1f} ({report.n_calls} calls)"
        if not args.no_search:
            t0 = time.perf_counter()
            search.refresh_search_index(con)
            fig["purge_reindex_s"] = f"{time.perf_counter() - t0:.1f}"
        con.close()
        copy.unlink()
    fig["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
