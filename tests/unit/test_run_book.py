"""The run book (pipeline/runs/book.py) without Prefect or models: what a run writes around the stages.

The stages are replaced by a work function that returns a stored-looking result; everything
else is real: the scan, the run lock, DuckDB, quarantine, cases, the search index.
"""

from __future__ import annotations

import shutil
from dataclasses import replace

import duckdb
import pytest

from pipeline.config import load_settings
from pipeline.intake.ingest import scan_source
from pipeline.runs.book import INTERRUPTED_TWICE, CallOutcome, RunBook
from pipeline.salt import caller_salt
from pipeline.warehouse import db, load
from pipeline.warehouse.search import index_is_current
from tests.helpers import DATA
from tests.support.call_results import one_turn_result as _result


def _folder(tmp_path, n: int):
    src = tmp_path / "src"
    src.mkdir()
    data = (DATA / "short_stereo.wav").read_bytes()
    for k in range(n):
        (src / f"c{k}.wav").write_bytes(data[:-1] + bytes([(data[-1] + k + 1) % 256]))  # other bytes: other calls
    return src


def _settings(tmp_path):
    return load_settings(home=tmp_path / "home", db_path=tmp_path / "w.duckdb")


def _works(settings, calls: list, fail: set[str] = frozenset(), quarantine: set[str] = frozenset()):
    """A work function: the recording's result (or a failure, or a quarantine), noting which attempts were open."""

    def work(rec):
        con = duckdb.connect(str(settings.database), read_only=True)
        try:
            attempts = {r[0] for r in con.execute("SELECT recording_sha256 FROM call_attempts").fetchall()}
        finally:
            con.close()
        calls.append((rec.relpath, attempts == {rec.sha256}))
        if rec.relpath in fail:
            raise RuntimeError("the model fell over")
        if rec.relpath in quarantine:
            return CallOutcome(rec, quarantine_error="not audio")
        return CallOutcome(rec, result=replace(_result(sha=rec.sha256), recording=rec))

    return work


def _scan(src, settings):
    return scan_source(src, salt=caller_salt(settings))


def test_a_run_opens_the_warehouse_once_per_call_and_records_each_outcome(tmp_path):
    src, settings = _folder(tmp_path, 4), _settings(tmp_path)
    calls = []
    with RunBook(settings, create=True) as book:
        todo = book.plan(src, _scan(src, settings))
        book.process(todo, _works(settings, calls, fail={"c2.wav"}, quarantine={"c3.wav"}))
    s = book.summary
    assert (s.found, s.processed, s.failed, s.quarantined, s.skipped) == (4, 2, 1, 1, 0)
    assert book.opens == 1 + len(todo) + 1  # start the run, one per call, finish it (and the search index)
    assert [ok for _, ok in calls] == [True] * 4  # each call worked on with its own attempt, and only it, noted
    con = db.connect(settings.database, read_only=True)
    status = dict(con.execute("SELECT source_path, status FROM calls").fetchall())
    run = con.execute("SELECT status, n_found, n_processed, n_skipped, n_failed, asr_model, asr_fingerprint "
                      "FROM runs").fetchall()
    opened = {r[0] for r in con.execute("SELECT call_id FROM case_calls").fetchall()}
    attempts = con.execute("SELECT count(*) FROM call_attempts").fetchone()[0]
    current = index_is_current(con)
    con.close()
    assert status == {"c0.wav": "done", "c1.wav": "done", "c2.wav": "failed", "c3.wav": "quarantined"}
    assert run == [("done", 4, 2, 0, 2, "base", "sha256:x")]  # the model named by the calls it loaded
    assert {r.call_id for r in todo[:2]} == opened  # the run book syncs a loaded call's case, only a loaded one's
    assert attempts == 0 and current
    assert (settings.quarantine_dir / todo[3].call_id / "error.txt").is_file()


def test_the_next_run_skips_what_is_done_and_tries_the_failed_call_again(tmp_path):
    src, settings = _folder(tmp_path, 3), _settings(tmp_path)
    with RunBook(settings, create=True) as book:
        book.process(book.plan(src, _scan(src, settings)), _works(settings, [], fail={"c1.wav"}))
    calls = []
    with RunBook(settings, create=True) as again:
        again.process(again.plan(src, _scan(src, settings)), _works(settings, calls))
    assert [rel for rel, _ in calls] == ["c1.wav"]
    assert (again.summary.skipped, again.summary.processed, again.summary.failed) == (2, 1, 0)
    assert len(book.summary.run_id) > 0 and book.summary.run_id != again.summary.run_id


def test_a_call_two_killed_runs_were_working_on_is_quarantined_not_tried_again(tmp_path):
    src, settings = _folder(tmp_path, 2), _settings(tmp_path)
    stuck = _scan(src, settings).recordings[0]
    con = db.connect(settings.database)
    for run_id in ("killed-1", "killed-2"):  # each killed while on the call: its attempt and a 'running' row remain
        load.start_run(con, run_id, str(src))
        load.start_attempt(con, stuck.sha256, run_id)
        load.mark_interrupted_runs(con)
    con.close()
    calls = []
    with RunBook(settings, create=True) as book:
        book.process(book.plan(src, _scan(src, settings)), _works(settings, calls))
    assert [rel for rel, _ in calls] == ["c1.wav"] and book.summary.quarantined == 1
    con = db.connect(settings.database, read_only=True)
    row = con.execute("SELECT status, error FROM calls WHERE recording_sha256 = ?", [stuck.sha256]).fetchone()
    con.close()
    assert row == ("quarantined", INTERRUPTED_TWICE)


def test_a_run_that_fails_as_a_whole_is_recorded_failed_and_releases_the_lock(tmp_path):
    src, settings = _folder(tmp_path, 1), _settings(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        with RunBook(settings, create=True) as book:
            book.plan(src, _scan(src, settings))
            raise KeyboardInterrupt
    con = db.connect(settings.database, read_only=True)
    assert con.execute("SELECT status FROM runs").fetchall() == [("failed",)]
    con.close()
    with db.run_lock(settings.database):  # free again
        pass


def test_reprocessing_starts_one_run_per_folder_and_skips_missing_audio(tmp_path):
    src, settings = _folder(tmp_path, 3), _settings(tmp_path)
    with RunBook(settings, create=True) as book:
        book.process(book.plan(src, _scan(src, settings)), _works(settings, []))
    other = tmp_path / "other"
    shutil.copytree(src, other)
    (src / "c2.wav").unlink()  # gone since it was loaded
    con = db.connect(settings.database)
    load.start_run(con, "r-other", str(other))  # as if c1 had been loaded from another folder
    load.finish_run(con, "r-other", found=1, processed=1, skipped=0, failed=0)
    con.execute("UPDATE calls SET run_id = 'r-other' WHERE source_path = 'c1.wav'")
    con.close()
    calls = []
    with RunBook(settings) as again:
        rows = again.read(lambda c: load.calls_to_reprocess(c, "2000-01-01", "2100-01-01", "new-model"))
        again.reprocess(rows, _works(settings, calls), asr_fingerprint="new-model")
    s = again.summary
    assert (s.found, s.processed, s.skipped) == (3, 2, 1) and len(s.run_id.split(",")) == 2
    assert again.opens == 1 + 2 + 2 + 1  # the selection, one per folder, one per call worked on, the finish
    con = db.connect(settings.database, read_only=True)
    runs = con.execute("SELECT n_found, n_processed, n_skipped FROM runs WHERE run_id IN ?",
                       [s.run_id.split(",")]).fetchall()
    con.close()
    assert sorted(runs) == [(1, 1, 0), (2, 1, 1)]


def test_a_call_run_again_after_its_cluster_worker_was_lost_is_recorded_with_the_run(tmp_path):
    src, settings = _folder(tmp_path, 3), _settings(tmp_path)
    shutil.copy(src / "c0.wav", src / "c0 copy.wav")  # a duplicate: the plan records a problem first
    with RunBook(settings, create=True) as book:
        todo = book.plan(src, _scan(src, settings), attempt_all=True)
        work = _works(settings, [])
        for i, rec in enumerate(todo):  # as flows/process_calls.py records a cluster's results
            book.record(rec, work(rec), retried=2 if i == 1 else 0)
    assert (book.summary.processed, book.summary.retried) == (3, 1)
    con = db.connect(settings.database, read_only=True)
    problems = con.execute("SELECT seq, kind, ref FROM run_problems ORDER BY seq").fetchall()
    calls = con.execute("SELECT count(*), count(DISTINCT call_id) FROM calls").fetchone()
    con.close()
    assert [k for _, k, _ in problems] == ["duplicate", "worker_lost"] and problems[1][0] == 1  # appended
    assert problems[1][2] == todo[1].call_id and calls == (3, 3)
