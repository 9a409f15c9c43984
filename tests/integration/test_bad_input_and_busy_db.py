"""Flow runs (in-process, one Prefect test server) on broken files, a killed earlier run, a busy database.

No model is needed: every recording here fails before transcription.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from pipeline.config import load_settings
from tests.helpers import DATA, REPO

HOLD_DB = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(float(sys.argv[2]))"
# Another run: it holds the warehouse's run lock (not the file) for the whole run.
HOLD_RUN = ("import sys, time; from pipeline.warehouse import db\n"
            "with db.run_lock(sys.argv[1]):\n    print('ready', flush=True); time.sleep(float(sys.argv[2]))")


def _folder_of_broken_files(root):
    import soundfile as sf

    src = root / "xuất PBX"
    (src / "ngày 1").mkdir(parents=True)
    shutil.copy(DATA / "bad" / "empty.wav", src / "ngày 1" / "trống rỗng.wav")
    shutil.copy(DATA / "bad" / "not_audio.mp3", src / "ngày 1" / "không phải âm thanh.mp3")
    shutil.copy(DATA / "bad" / "random.flac", src / "corrupt call.flac")
    (src / "text named.ogg").write_text("this is not an ogg file")
    with sf.SoundFile(str(src / "đường dây treo 3h.wav"), "w", samplerate=8000, channels=1, subtype="ULAW",
                      format="WAV") as fh:
        for _ in range(18):  # 3 h of silence written 10 min at a time (~86 MB)
            fh.write(np.zeros(8000 * 600, dtype=np.float32))
    return src


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory, prefect_harness):
    from flows.process_calls import process_calls

    root = tmp_path_factory.mktemp("broken")
    src = _folder_of_broken_files(root)
    home = root / "home"
    summary = process_calls(str(src), load_settings(home=home, db_path=home / "w.duckdb"))
    return summary, src, home


def _con(path):
    import duckdb

    return duckdb.connect(str(path), read_only=True)


def test_every_broken_file_is_quarantined_once_with_a_reason(broken_run):
    summary, src, home = broken_run
    from tests.support import tally

    tally.record("bad_file", "empty, not audio, corrupt FLAC, text as OGG, 3 h line", tried=5,
                 survived=summary.quarantined, rows_lost=5 - summary.quarantined - summary.processed - summary.failed)
    assert (summary.found, summary.quarantined, summary.processed, summary.failed) == (5, 5, 0, 0)
    con = _con(home / "w.duckdb")
    rows = dict(con.execute("SELECT source_path, error FROM calls WHERE status = 'quarantined'").fetchall())
    con.close()
    assert set(rows) == {p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file()}
    assert "longer than the 2.0 h limit" in rows["đường dây treo 3h.wav"]
    assert "empty file" in rows["ngày 1/trống rỗng.wav"]
    assert all(rows.values())


def test_a_rerun_does_not_redo_or_duplicate_quarantined_files(broken_run):
    from flows.process_calls import process_calls

    summary, src, home = broken_run
    again = process_calls(str(src), load_settings(home=home, db_path=home / "w.duckdb"))
    assert (again.skipped, again.quarantined) == (5, 0)
    con = _con(home / "w.duckdb")
    counts = con.execute("SELECT count(*), count(DISTINCT recording_sha256) FROM calls").fetchone()
    con.close()
    from tests.support import tally

    tally.record("rerun", "rerun over quarantined files", tried=5, survived=5 if counts == (5, 5) else 0,
                 rows_duplicated=counts[0] - counts[1])
    assert counts == (5, 5)


def test_a_run_left_running_by_a_killed_process_is_marked_interrupted(tmp_path, prefect_harness):
    from flows.process_calls import process_calls
    from pipeline.warehouse import db, load

    con = db.connect(tmp_path / "w.duckdb")
    load.start_run(con, "killed-run", str(tmp_path))
    con.close()
    (tmp_path / "src").mkdir()
    summary = process_calls(str(tmp_path / "src"), load_settings(home=tmp_path, db_path=tmp_path / "w.duckdb"))
    assert summary.interrupted_runs == 1
    con = _con(tmp_path / "w.duckdb")
    statuses = dict(con.execute("SELECT run_id, status FROM runs").fetchall())
    con.close()
    assert statuses.pop("killed-run") == "interrupted"
    assert list(statuses.values()) == ["done"]


def test_a_second_run_gets_a_clear_busy_error_or_waits(tmp_path, prefect_harness):
    from flows.process_calls import process_calls
    from pipeline.errors import DatabaseBusy

    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(DATA / "bad" / "empty.wav", src / "a.wav")
    path = tmp_path / "w.duckdb"
    process_calls(str(src), load_settings(home=tmp_path, db_path=path))  # create it
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    holder = subprocess.Popen([sys.executable, "-c", HOLD_RUN, str(path), "60"], stdout=subprocess.PIPE, text=True,
                              env=env)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(DatabaseBusy, match="--wait"):
            process_calls(str(src), load_settings(home=tmp_path, db_path=path))
    finally:
        holder.kill()
        holder.wait()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_RUN, str(path), "2"], stdout=subprocess.PIPE, text=True,
                              env=env)
    try:
        assert holder.stdout.readline().strip() == "ready"
        waited = process_calls(str(src), load_settings(home=tmp_path, db_path=path), wait_s=60)
    finally:
        holder.wait()
    assert waited.skipped == 1
    # A reader or the web app holding the file itself for a moment is waited for, with no --wait.
    holder = subprocess.Popen([sys.executable, "-c", HOLD_DB, str(path), "2"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        process_calls(str(src), load_settings(home=tmp_path, db_path=path))
    finally:
        holder.wait()
    con = _con(path)
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 1
    runs = con.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall()
    n_calls = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    con.close()
    from tests.support import tally

    tally.record("concurrent_writer", "second run refused, then waiting; a reader waited for", tried=3,
                 survived=3 if runs == [("done", 3)] else 0, rows_duplicated=n_calls - 1,
                 rows_lost=1 - n_calls if n_calls < 1 else 0)
    assert runs == [("done", 3)], "the refused run left no trace; the waiting ones completed"


def test_watch_processes_a_file_once_it_is_complete(tmp_path, prefect_harness):
    from flows.watch import watch_source

    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(DATA / "bad" / "random.flac", src / "broken call.flac")
    runs = []
    watch_source(src, load_settings(home=tmp_path, db_path=tmp_path / "w.duckdb"), interval_s=0.2,
                 settle_s=0, max_polls=3, on_poll=lambda poll: runs.append(poll.run))
    assert [r.quarantined for r in runs] == [1], "one run, at the second poll; nothing new at the third"
