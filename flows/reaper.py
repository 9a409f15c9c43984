"""The temporary Prefect server must not outlive the run that started it, even a SIGKILLed one.

Prefect stops its temporary server at interpreter exit (``atexit``), which a crash
(SIGKILL, the OOM killer, a segfault) skips: the server kept running, holding its
port and database. A tiny watchdog process holds the read end of a pipe whose write
end only this process has; when this process dies for any reason the pipe closes and
the watchdog terminates the server.
"""

from __future__ import annotations

import os
import subprocess
import sys

_WATCHDOG = (
    "import os, signal, sys, time\n"
    "sys.stdin.buffer.read()\n"  # EOF: the run that started the server is gone
    "pid = int(sys.argv[1])\n"
    "for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 0.0)):\n"
    "    try:\n"
    "        os.kill(pid, sig)\n"
    "    except ProcessLookupError:\n"
    "        break\n"
    "    end = time.monotonic() + wait\n"
    "    while time.monotonic() < end:\n"
    "        try:\n"
    "            os.kill(pid, 0)\n"
    "        except ProcessLookupError:\n"
    "            sys.exit(0)\n"
    "        time.sleep(0.1)\n"
)
_HELD: dict[int, int] = {}  # server pid -> write end of its watchdog pipe (kept open for our lifetime)


def stop_with_this_process(pid: int) -> None:
    """Terminate process ``pid`` (SIGTERM, then SIGKILL after 5 s) when this process dies. Idempotent."""
    if pid in _HELD:
        return
    r, w = os.pipe()
    try:
        subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(pid)], stdin=r, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, close_fds=True, start_new_session=True)
    finally:
        os.close(r)
    _HELD[pid] = w  # os.pipe() fds are not inherited by other children (PEP 446)


def temporary_server_api_url() -> str | None:
    """Start Prefect's temporary server now, tied to this process; its API URL. None when ``PREFECT_API_URL`` is set.

    The instance is the one this process's flows would start by themselves
    (``SubprocessASGIServer`` is one per port), so nothing else changes.
    """
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return None
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start()
    if getattr(server, "server_process", None) is not None:
        stop_with_this_process(server.server_process.pid)
    return server.api_url
