"""A real ``prefect server start`` on 127.0.0.1 and a ``hotline deploy`` serve process, for tests and measurements."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.helpers import REPO
from tests.support.sshd import free_port


def _env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home}/prefect.db",
                "PREFECT_LOGGING_LEVEL": "WARNING", "PYTHONPATH": str(REPO)})
    return env


def api(url: str, path: str, body: dict | None = None, method: str | None = None, *, tries: int = 5):
    """One Prefect REST call; a 503 (the server busy on a loaded machine) is retried, a few times."""
    import urllib.error

    for attempt in range(tries):
        req = urllib.request.Request(url + path, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"},
                                     method=method or ("GET" if body is None else "POST"))
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            if exc.code != 503 or attempt == tries - 1:
                raise
            time.sleep(2.0 * (attempt + 1))


class Server:
    """``prefect server start`` in its own process group; ``stop()`` ends it (and its children)."""

    def __init__(self, home: Path, timeout_s: float = 120.0):
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.log = open(home / "server.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                      "--port", str(self.port), "--analytics-off", "--no-ui"],
                                     env=_env(home), stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prefect server exited: {(home / 'server.log').read_text()[-2000:]}")
            try:
                if api(self.url, "/health") is True:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError("prefect server did not answer /api/health")

    def client_env(self, extra: dict | None = None) -> dict:
        env = _env(self.home / "client")
        env["PREFECT_API_URL"] = self.url
        env.update(extra or {})
        return env

    def stop(self) -> None:
        _stop_group(self.proc)
        self.log.close()


def _stop_group(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def start_deploy(server: Server, args: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    """``hotline deploy ARGS`` (this repo's code) serving against ``server``."""
    log = open(log_path, "wb")
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", "deploy", *args], cwd=REPO,
                            env=server.client_env(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    _stop_group(proc)


def wait_for_deployment(server: Server, name: str, timeout_s: float = 90.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = api(server.url, "/deployments/filter", {"deployments": {"name": {"any_": [name]}}})
        if found:
            return found[0]
        time.sleep(0.5)
    raise TimeoutError(f"deployment {name} did not appear")


def wait_for_flow_run(server: Server, run_id: str, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = api(server.url, f"/flow_runs/{run_id}")
        if run["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return run
        time.sleep(0.5)
    raise TimeoutError(f"flow run {run_id} did not finish in {timeout_s} s")
