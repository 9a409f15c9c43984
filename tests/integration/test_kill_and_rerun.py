"""``hotline run`` killed (SIGKILL) in the middle of a batch, then rerun: every call once, nothing stuck.

Then a backfill with a "new" model: every call reprocessed once, QA corrections kept.
Real models on four 4.5 s stereo clips; two ``hotline run`` subprocesses.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import date

import duckdb
import pytest

from tests.helpers import DATA, REPO


N_CALLS = 4


def _variant(src, dst, k: int) -> None:
    data = bytearray(src.read_bytes())
    data[-1] = (data[-1] + k) % 256  # other bytes, so another call
    dst.write_bytes(bytes(data))


def _env(tmp_path, model_cache):
    env = dict(os.environ)
    # Its own Prefect database: the test session's server must not share a SQLite file with it.
    env["PREFECT_API_DATABASE_CONNECTION_URL"] = f"sqlite+aiosqlite:///{tmp_path}/prefect-cli.db"
    env.update(HOTLINE_HOME=str(tmp_path / "home"), HOTLINE_MODEL_CACHE=str(model_cache), PYTHONUNBUFFERED="1",
               HOTLINE_SETTLE_S="0")  # the files were just written
    env.pop("PREFECT_API_URL", None)
    return env


def _cmd(src, db):
    return [sys.executable, "-m", "pipeline.cli", "run", str(src), "--db", str(db)]


@pytest.fixture(scope="module")
def killed_then_rerun(tmp_path_factory, model_cache):
    tmp = tmp_path_factory.mktemp("kill")
    src = tmp / "src"
    src.mkdir()
    for k in range(1, N_CALLS + 1):
        _variant(DATA / "short_stereo.wav", src / f"cuộc gọi {k}.wav", k)
    db = tmp / "w.duckdb"
    env = _env(tmp, model_cache)
    proc = subprocess.Popen(_cmd(src, db), cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    log = []
    try:
        deadline = time.monotonic() + 600
        for line in proc.stdout:
            log.append(line)
            if re.search(rf"\[1/{N_CALLS}\] .* done:", line):
                break  # the first call is loaded (the flow logs after its transaction commits)
            assert time.monotonic() < deadline, "first call not done in 10 min"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the run and the temporary Prefect server it started
        proc.wait()
    assert any("done:" in line for line in log), "".join(log[-30:])
    con = duckdb.connect(str(db), read_only=True)
    after_kill = (con.execute("SELECT status, count(*) FROM calls GROUP BY status").fetchall(),
                  con.execute("SELECT status FROM runs").fetchall())
    con.close()
    rerun = subprocess.run(_cmd(src, db), cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    return after_kill, rerun, db, src, tmp


def test_the_kill_left_one_call_loaded_and_the_run_marked_running(killed_then_rerun):
    (calls, runs), *_ = killed_then_rerun
    assert calls and calls[0][0] == "done" and 1 <= calls[0][1] < N_CALLS
    assert runs == [("running",)]


def test_the_rerun_completes_every_call_exactly_once(killed_then_rerun):
    (calls, _), rerun, db, _, _ = killed_then_rerun
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert f"processed={N_CALLS - calls[0][1]} skipped={calls[0][1]}" in rerun.stdout
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*), count(DISTINCT recording_sha256) FROM calls WHERE status = 'done'").fetchone() \
        == (N_CALLS, N_CALLS)
    assert con.execute("SELECT count(*) FROM calls WHERE status <> 'done'").fetchone()[0] == 0
    assert sorted(r[0] for r in con.execute("SELECT status FROM runs").fetchall()) == ["done", "interrupted"]
    per_call = con.execute("SELECT call_id, count(DISTINCT run_id) FROM stage_timings GROUP BY call_id").fetchall()
    assert len(per_call) == N_CALLS and all(n == 1 for _, n in per_call), "no call's work recorded twice"
    con.close()


def test_backfill_with_another_model_reprocesses_each_call_once_and_keeps_qa(killed_then_rerun, prefect_harness):
    from pipeline.commands.backfill import backfill_range
    from pipeline.config import load_settings

    _, _, db, _, tmp = killed_then_rerun
    con = duckdb.connect(str(db))
    call_id, qa_call = con.execute("SELECT min(call_id), max(call_id) FROM calls").fetchone()
    con.execute("INSERT INTO call_topics VALUES (?, 'traffic', 1.0, 'qa', true)", [qa_call])
    con.execute("UPDATE calls SET reviewed = true, reviewed_by = 'qa1', started_at = TIMESTAMP '2026-11-05 09:00:00'")
    con.execute("UPDATE calls SET asr_fingerprint = 'sha256:older-model' WHERE call_id <> ?", [call_id])
    before = con.execute("SELECT count(*) FROM segments").fetchone()[0]
    con.close()
    summary = backfill_range(date(2026, 11, 1), date(2026, 11, 30), load_settings(), db_path=db,
                             overrides={"home": tmp / "home"})
    assert (summary.found, summary.processed, summary.failed) == (N_CALLS - 1, N_CALLS - 1, 0)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(DISTINCT asr_fingerprint) FROM calls").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM calls WHERE reviewed AND reviewed_by = 'qa1'").fetchone()[0] == N_CALLS
    assert con.execute("SELECT call_id FROM call_topics WHERE source = 'qa'").fetchall() == [(qa_call,)]
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == N_CALLS
    assert con.execute("SELECT count(*) FROM segments").fetchone()[0] == before, "same audio, same model output"
    con.close()
    again = backfill_range(date(2026, 11, 1), date(2026, 11, 30), load_settings(), db_path=db,
                           overrides={"home": tmp / "home"})
    assert again.found == 0


def test_retag_runs_through_the_same_run_book_once_per_mono_call(killed_then_rerun, prefect_harness):
    """`hotline operators retag --all` (after a voiceprint was removed): every loaded mono call of the
    range is reprocessed once through backfill's run book, no call duplicated, QA's marks kept."""
    from flows.retag_operators import retag_operators
    from pipeline.config import load_settings

    _, _, db, _, tmp = killed_then_rerun
    con = duckdb.connect(str(db))
    # These variants are stereo; the selection reads the stored channel count, so mark two of them mono.
    con.execute("UPDATE calls SET channels = 1 WHERE call_id IN (SELECT call_id FROM calls ORDER BY call_id LIMIT 2)")
    mono = con.execute("SELECT count(*) FROM calls WHERE status = 'done' AND coalesce(channels, 1) = 1 "
                       "AND purged_at IS NULL").fetchone()[0]
    con.close()
    assert mono == 2
    settings = load_settings().with_(db_path=db, home=tmp / "home")
    summary = retag_operators(date(2026, 11, 1), date(2026, 11, 30), settings, 0.0, True)
    assert (summary.found, summary.processed, summary.failed, summary.skipped) == (mono, mono, 0, 0)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == N_CALLS
    assert con.execute("SELECT count(*) FROM runs WHERE run_id IN (SELECT unnest(string_split(?, ',')))",
                       [summary.run_id]).fetchone()[0] >= 1
    con.close()
    nothing = retag_operators(date(2026, 11, 1), date(2026, 11, 30), settings, 0.0, False)
    assert nothing.found == 0  # nobody enrolled: nothing processed before an enrolment
