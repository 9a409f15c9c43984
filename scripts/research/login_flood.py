"""Median latency of logged-in pages with and without a log-in flood, side by side in one run (issue 25, item 8).

    PYTHONPATH=$PWD .venv/bin/python scripts/research/login_flood.py [--seconds 20] [--threads 4]

Builds the test fixture warehouse (36 calls) in a temporary folder with production password
hashing (scrypt n=2**14), serves it with uvicorn in its own process, logs an admin in, then
times ``GET /calls`` and ``GET /dashboard`` for ``--seconds`` each phase:

1. ``quiet``: no flood;
2. ``flood``: ``--threads`` threads (in another process) posting wrong passwords for ``dave``
   as fast as the server answers, from one address;
3. ``spread``: the same flood with a new ``X-Forwarded-For`` address on every attempt (many
   clients: uvicorn trusts the header from 127.0.0.1, as behind a local proxy);
4. ``names``: the spread flood with a new user name on every attempt too (no account to guard:
   every attempt costs a password hash).

Prints one JSON line: medians and 90th percentiles (ms) per phase and page, and the flood's
attempts per second and answer codes. Works on any checkout of the repository (it only speaks
HTTP to the app), so the same command measures a commit before and after a change.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

PAGES = ("/calls", "/dashboard")
SERVER = """
import sys, uvicorn
from pipeline.web.app import create_app
uvicorn.run(create_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="error")
"""


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _flood(base: str, threads: int, phase: str, stop, counts) -> None:
    import httpx

    def one(k: int) -> None:
        c = httpx.Client(base_url=base, timeout=60)
        token = _csrf(c.get("/login").text)
        rng = random.Random(k)
        while not stop.is_set():
            headers = {"X-Forwarded-For": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"} \
                if phase in ("spread", "names") else {}
            name = f"user{rng.randrange(10**9)}" if phase == "names" else "dave"
            try:
                r = c.post("/login", data={"username": name, "password": f"doan-{rng.random()}", "csrf_token": token},
                           headers=headers, follow_redirects=False)
                counts[str(r.status_code)] = counts.get(str(r.status_code), 0) + 1
            except httpx.HTTPError:
                counts["error"] = counts.get("error", 0) + 1

    ts = [threading.Thread(target=one, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def _probe(client, seconds: float) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {p: [] for p in PAGES}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for page in PAGES:
            t0 = time.perf_counter()
            r = client.get(page)
            out[page].append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, (page, r.status_code)
    return out


def _summary(times: dict[str, list[float]]) -> dict:
    return {p: {"median_ms": round(statistics.median(v), 1),
                "p90_ms": round(statistics.quantiles(v, n=10)[-1], 1) if len(v) >= 10 else None, "n": len(v)}
            for p, v in times.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0, help="seconds per phase")
    ap.add_argument("--threads", type=int, default=4, help="flooding threads")
    args = ap.parse_args()

    import httpx

    from pipeline.warehouse import db
    from pipeline.web.auth import add_user
    from tests.support.fixture_db import build_fixture_db

    tmp = Path(tempfile.mkdtemp(prefix="login-flood-"))
    path = tmp / "hotline.duckdb"
    build_fixture_db(path, tmp / "recordings")
    con = db.connect(path)
    add_user(con, "an", "admin", "mat-khau-qt-1")  # production scrypt cost
    add_user(con, "dave", "qa", "mat-khau-dave-1")
    con.close()
    port = _free_port()
    env = dict(os.environ, HOTLINE_HOME=str(tmp / "home"))
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(path), str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        client = httpx.Client(base_url=base, timeout=60)
        for _ in range(300):
            try:
                client.get("/login")
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        r = client.post("/login", data={"username": "an", "password": "mat-khau-qt-1",
                                        "csrf_token": _csrf(client.get("/login").text)}, follow_redirects=False)
        assert r.status_code == 303, r.status_code
        _probe(client, 2)  # warm up
        result = {"seconds_per_phase": args.seconds, "threads": args.threads, "cpus": os.cpu_count(), "phases": {}}
        for phase in ("quiet", "flood", "spread", "names"):
            stop, counts = mp.Event(), mp.Manager().dict()
            flood = None
            if phase != "quiet":
                flood = mp.Process(target=_flood, args=(base, args.threads, phase, stop, counts))
                flood.start()
                time.sleep(1.0)  # let the flood get going
            t0 = time.monotonic()
            times = _probe(client, args.seconds)
            elapsed = time.monotonic() - t0
            stop.set()
            if flood is not None:
                flood.join(120)
            result["phases"][phase] = {"pages": _summary(times), "flood_codes": dict(Counter(dict(counts))),
                                       "flood_attempts_per_s": round(sum(counts.values()) / (elapsed + 1.0), 1)}
            time.sleep(1.0)
        print(json.dumps(result))
    finally:
        server.terminate()
        server.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
