"""A real cluster (issue 32): `dask scheduler` and two `dask worker` processes on 127.0.0.1, the sample calls
through them into a real DuckDB file, one worker SIGKILLed while it holds a call.

Every call must be in the warehouse exactly once, the run must record the retry, the warehouse must
equal a single-process run's (call ids, turn counts), and no caller number of the call log may reach
the scheduler's or workers' logs, the task keys, or the workers' local folders.
Run it with ``make cluster-test`` (too slow for the CI suite on these shared machines; docs/testing.md).
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import threading
import time

import duckdb
import pytest

from pipeline.config import load_settings
from tests.helpers import REPO
from tests.support.dask_cluster import dask_cluster
from tests.support.stores import count_in_bytes

pytestmark = pytest.mark.skipif(not os.environ.get("HOTLINE_CLUSTER_TEST"),
                                reason="set HOTLINE_CLUSTER_TEST=1 (make cluster-test): ~3 min on 2 cores")


def _kill_first_worker_to_start_a_call(address: str, stop: threading.Event, killed: dict) -> None:
    """SIGKILL the worker process that announces the first call attempt (it holds the call: loading models, decoding)."""
    from distributed import Client

    from flows.cluster import EVENT_TOPIC

    with Client(address, timeout=30, set_as_default=False) as client:
        while not stop.is_set():
            events = client.get_events(EVENT_TOPIC)
            if events:
                _, msg = events[0]
                time.sleep(1.0)  # well inside the call: a first call loads the models for several seconds
                os.kill(msg["pid"], signal.SIGKILL)
                killed.update(msg)
                return
            time.sleep(0.1)


def _warehouse(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        calls = con.execute("SELECT call_id, count(*) FROM calls GROUP BY call_id").fetchall()
        turns = dict(con.execute("SELECT c.call_id, count(s.call_id) FROM calls c LEFT JOIN segments s USING (call_id) "
                                 "GROUP BY c.call_id").fetchall())
        problems = con.execute("SELECT kind, ref FROM run_problems").fetchall()
        load_s = [r[0] for r in con.execute("SELECT seconds FROM stage_timings WHERE stage = 'load'").fetchall()]
    finally:
        con.close()
    return calls, turns, problems, load_s


def test_killed_worker_call_is_retried_elsewhere_once(tmp_path, prefect_harness, model_cache, monkeypatch):
    from flows.process_calls import run_process_calls

    monkeypatch.setenv("HOTLINE_MODEL_CACHE", str(model_cache))
    src = tmp_path / "samples"
    shutil.copytree(REPO / "samples", src)
    with (src / "calls.csv").open(newline="", encoding="utf-8") as f:
        numbers = [row["caller_number"] for row in csv.DictReader(f)]
    n_calls = len(numbers)

    cluster_db, single_db = tmp_path / "cluster.duckdb", tmp_path / "single.duckdb"
    base = load_settings(home=tmp_path / "home", cpu_threads=1)
    with dask_cluster(tmp_path / "dask", n_workers=2) as cluster:
        stop, killed = threading.Event(), {}
        killer = threading.Thread(target=_kill_first_worker_to_start_a_call, args=(cluster.address, stop, killed))
        killer.start()
        try:
            summary = run_process_calls(str(src), base.with_(db_path=cluster_db, dask_scheduler=cluster.address),
                                        settle_s=0.0)
        finally:
            stop.set()
            killer.join(timeout=60)
        keys = [msg["key"] for _, msg in _events(cluster.address)]
        dead = [w for w in cluster.workers if w.poll() is not None]
    assert killed and len(dead) == 1 and dead[0].returncode == -signal.SIGKILL
    assert (summary.processed, summary.failed, summary.quarantined, summary.retried) == (n_calls, 0, 0, 1)

    calls, turns, problems, load_s = _warehouse(cluster_db)
    assert len(calls) == n_calls and all(n == 1 for _, n in calls)  # every call once
    retried_call = killed["key"].split("-")[1]
    assert problems == [("worker_lost", retried_call)]  # the run recorded the retry of the killed worker's call
    assert keys.count(killed["key"]) == 2  # started on the killed worker, then once more on the other one

    single = run_process_calls(str(src), base.with_(db_path=single_db), settle_s=0.0)
    assert single.processed == n_calls
    single_calls, single_turns, _, _ = _warehouse(single_db)
    assert {c for c, _ in calls} == {c for c, _ in single_calls}
    assert turns == single_turns

    # Confidentiality: no caller number in the keys, the scheduler's and workers' logs, or their local folders.
    assert count_in_bytes(numbers, "\n".join(keys)) == 0
    for log in cluster.logs:
        assert count_in_bytes(numbers, log.read_bytes()) == 0, log.name
    for local in cluster.local_dirs():
        for path in local.rglob("*"):
            if path.is_file():
                assert count_in_bytes(numbers, path.name.encode() + path.read_bytes()) == 0, path
    print(f"\ncluster: {summary.wall_s:.1f} s wall for {n_calls} calls ({summary.audio_s:.1f} s audio), one worker "
          f"killed; writer (load) {sum(load_s) / len(load_s):.3f} s per call; single process {single.wall_s:.1f} s; "
          f"load average {os.getloadavg()[0]:.2f}")


def _events(address):
    from distributed import Client

    from flows.cluster import EVENT_TOPIC

    with Client(address, timeout=30, set_as_default=False) as client:
        return client.get_events(EVENT_TOPIC)
