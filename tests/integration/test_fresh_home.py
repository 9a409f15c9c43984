"""Issue 10: the installed ``hotline`` CLI on a machine where nothing exists yet.

``HOTLINE_HOME`` points at a folder that does not exist, and Prefect is left to its
default home under it (the case that timed out after minutes on a fresh clone).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
from tests.helpers import SAMPLES


def test_installed_cli_runs_into_a_home_that_does_not_exist(tmp_path):
    hotline = Path(sys.executable).parent / "hotline"
    assert hotline.exists(), "the package's console script is not installed (make setup)"
    source = tmp_path / "pbx"
    source.mkdir()
    shutil.copy2(SAMPLES / "2026/11/17/rec_20261117_082507_ext101.wav", source / "rec_ext101.wav")  # copy2: keeps the old mtime, so the settle time does not hold it back
    home = tmp_path / "not" / "yet" / "home"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PREFECT_", "HOTLINE_")) or k == "PREFECT_SERVER_ANALYTICS_ENABLED"}
    env["HOTLINE_HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH")]))
    done = subprocess.run([str(hotline), "run", str(source)], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "processed=1" in done.stdout
    assert (home / "prefect").is_dir()
    con = duckdb.connect(str(home / "hotline.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM calls WHERE status = 'done'").fetchone()[0] == 1
    finally:
        con.close()
