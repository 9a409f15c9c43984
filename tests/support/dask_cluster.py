"""A real Dask cluster as separate processes on 127.0.0.1 (``dask scheduler``, ``dask worker`` ×N), random ports.

Workers run without a nanny (the worker process is the one to kill), one thread each, no
dashboard, spilling off (results hold transcripts: nothing of a call may reach their disk),
each with its own local directory; the processes' output goes to log files the test reads.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import REPO



@dataclass
class LocalCluster:
    address: str
    folder: Path
    workers: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def local_dirs(self) -> list[Path]:
        return sorted(self.folder.glob("worker-*"))


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update({"DASK_DISTRIBUTED__WORKER__MEMORY__SPILL": "False", "DASK_DISTRIBUTED__WORKER__MEMORY__TARGET": "False",
                "PYANNOTE_METRICS_ENABLED": "0", "HF_HUB_OFFLINE": "1"})
    return env


def _dask_cli() -> str:
    return str(Path(sys.executable).with_name("dask"))


@contextmanager
def dask_cluster(folder: Path, n_workers: int = 2, timeout_s: float = 120.0):
    """Scheduler and ``n_workers`` workers, all started and connected; every process stopped afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    scheduler_file = folder / "scheduler.json"
    procs: list[subprocess.Popen] = []
    env = _env()
    log = open(folder / "scheduler.log", "wb")
    try:
        procs.append(subprocess.Popen([_dask_cli(), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                       "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(scheduler_file)],
                                      stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder))
        deadline = time.monotonic() + timeout_s
        while not scheduler_file.is_file() or not scheduler_file.read_text().strip():
            assert procs[0].poll() is None and time.monotonic() < deadline, (folder / "scheduler.log").read_text()
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        cluster = LocalCluster(address, folder, logs=[folder / "scheduler.log"])
        for i in range(n_workers):
            wlog = folder / f"worker-{i}.log"
            local = folder / f"worker-{i}"
            local.mkdir()
            proc = subprocess.Popen([_dask_cli(), "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                                     "--no-nanny", "--no-dashboard", "--local-directory", str(local),
                                     "--name", f"w{i}"],
                                    stdout=wlog.open("wb"), stderr=subprocess.STDOUT, env=env, cwd=folder)
            procs.append(proc)
            cluster.workers.append(proc)
            cluster.logs.append(wlog)
        _wait_for_workers(address, n_workers, deadline)
        yield cluster
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def _wait_for_workers(address: str, n: int, deadline: float) -> None:
    from distributed import Client

    with Client(address, timeout=30, set_as_default=False) as client:
        client.wait_for_workers(n, timeout=max(1.0, deadline - time.monotonic()))
