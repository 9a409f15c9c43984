"""A SIGKILLed run must not leave its temporary Prefect server running (issue 13, low)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.helpers import REPO
from tests.support import tally


CHILD = """
import os, signal, sys
from flows.reaper import temporary_server_api_url
from prefect.server.api.server import SubprocessASGIServer
temporary_server_api_url()
print(SubprocessASGIServer().server_process.pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead: ask /proc
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_temporary_server_dies_with_a_killed_run(tmp_path):
    env = dict(os.environ, PREFECT_HOME=str(tmp_path / "prefect"), PYTHONPATH=str(REPO))
    env.pop("PREFECT_API_URL", None)
    env["PREFECT_API_DATABASE_CONNECTION_URL"] = f"sqlite+aiosqlite:///{tmp_path}/prefect.db"
    proc = subprocess.run([sys.executable, "-c", CHILD], cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    pid = int(proc.stdout.split()[0])
    deadline = time.monotonic() + 20
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    alive = _alive(pid)
    if alive:
        os.kill(pid, signal.SIGKILL)
    tally.record("kill_point", "SIGKILL leaves no Prefect server behind", survived=int(not alive))
    assert not alive
