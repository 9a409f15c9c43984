"""Issue 12: the web app stays up while a run loads calls into the database it serves.

A real ``hotline run`` (subprocess, real models) processes two sample calls into the
fixture warehouse while a logged-in QA client, in this process, polls the call list,
a call page and an audio range, and posts a topic correction. Every request must
succeed and the correction must survive the run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from tests.helpers import REPO, SAMPLES
from tests.support.web_fixtures import csrf_of


def test_requests_succeed_during_a_run(web_db, call_ids, tmp_path):
    from fastapi.testclient import TestClient

    from pipeline.web.app import WebOptions, create_app
    from tests.support.web_fixtures import FAST_AUTH, ROLE_USER, log_in

    source = tmp_path / "pbx"
    source.mkdir()
    for rel in ("2026/11/17/rec_20261117_082507_ext101.wav", "2026/11/11/rec_20261111_095015_ext103.mp3"):
        shutil.copy2(SAMPLES / rel, source / Path(rel).name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PYTHONPATH=str(REPO), HOTLINE_HOME=str(tmp_path / "home"))
    qa = TestClient(create_app(web_db, options=WebOptions(auth=FAST_AUTH)))  # the production wait for the file
    assert log_in(qa, ROLE_USER["qa"]).status_code == 303
    call_id = call_ids[0]
    token = csrf_of(qa.get(f"/calls/{call_id}").text)
    with web_db.parent.joinpath("run.log").open("w") as log:
        run = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "run", str(source), "--db", str(web_db)],
                               env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        latencies, failures, posted = [], [], False
        deadline = time.monotonic() + 600
        while run.poll() is None and time.monotonic() < deadline:
            for method, url, kwargs in (
                    ("GET", "/calls", {}),
                    ("GET", f"/calls/{call_id}", {}),
                    ("GET", f"/audio/{call_id}", {"headers": {"Range": "bytes=0-1023"}})):
                t0 = time.perf_counter()
                response = qa.request(method, url, **kwargs)
                latencies.append(time.perf_counter() - t0)
                if response.status_code not in (200, 206):
                    failures.append((url, response.status_code))
            if not posted and len(latencies) > 30:  # well into the run: the models are working
                t0 = time.perf_counter()
                response = qa.post(f"/calls/{call_id}/topics", data={"topic": "traffic", "action": "add",
                                                                     "csrf_token": token}, follow_redirects=False)
                latencies.append(time.perf_counter() - t0)
                posted = response.status_code == 303
                if not posted:
                    failures.append(("POST topics", response.status_code))
            time.sleep(0.2)
        assert run.wait(timeout=60) == 0, web_db.parent.joinpath("run.log").read_text()[-3000:]
    assert posted and not failures, failures
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"availability: {len(latencies)} requests during the run, 100% ok, p95 {p95 * 1000:.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms")
    # Target < 1 s (measured on a quiet machine: docs/operations.md); the bound here leaves room for a
    # loaded CI machine; a run holding the file would fail the 100 % above, not this.
    assert p95 < 2.0
    con = duckdb.connect(str(web_db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM call_topics WHERE call_id = ? AND topic = 'traffic' AND source = 'qa'",
                           [call_id]).fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM calls WHERE status = 'done'").fetchone()[0] == len(call_ids) + 2
    finally:
        con.close()


def test_a_second_run_on_the_same_warehouse_is_refused(tmp_path):
    from pipeline.warehouse import db

    path = tmp_path / "w.duckdb"
    with db.run_lock(path):
        child = subprocess.run(
            [sys.executable, "-c", "import sys; from pipeline.warehouse import db\n"
             "try:\n    db.run_lock(sys.argv[1]).__enter__()\nexcept Exception as e:\n    print(type(e).__name__, e)",
             str(path)], capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert "DatabaseBusy" in child.stdout and "another `hotline run`" in child.stdout
    with db.run_lock(path):  # released when the holder is done
        pass
