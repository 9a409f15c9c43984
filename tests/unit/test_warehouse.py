import pytest

from pipeline.errors import DatabaseBusy
from pipeline.records import CallAnalysis, CallResult, Metric
from pipeline.warehouse import db, load
from tests.support.call_results import one_turn_result as _result


def _counts(con):
    return load.table_counts(con, ("calls", "segments", "segments_raw", "words", "call_topics", "call_places",
                                   "call_metrics", "stage_timings"))


def test_migrations_are_applied_once_and_recorded(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    versions = [r[0] for r in con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()]
    assert versions == [v for v, _, _ in db.migrations()]
    assert db.migrate(con) == []
    con.close()
    con = db.connect(tmp_path / "w.duckdb")
    assert con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(versions)


def test_loading_the_same_call_twice_adds_no_rows_and_keeps_qa_work(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    load.load_call(con, _result(), "run1")
    first = _counts(con)
    assert first["calls"] == first["segments"] == first["words"] == 1 and first["call_topics"] == 2
    con.execute("INSERT INTO call_topics VALUES (?, 'land', 1.0, 'qa', TRUE)", [_result().recording.call_id])
    con.execute("UPDATE calls SET reviewed = TRUE, reviewed_by = 'lan'")
    load.load_call(con, _result(topic="utilities"), "run1")
    assert _counts(con) == first | {"call_topics": 3}
    topics = con.execute("SELECT topic, source FROM call_topics ORDER BY topic").fetchall()
    assert topics == [("land", "qa"), ("other", "model"), ("utilities", "model")]
    assert con.execute("SELECT reviewed, reviewed_by FROM calls").fetchone() == (True, "lan")


def test_a_failed_load_leaves_nothing_half_written(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    bad = _result()
    bad = CallResult(**{**bad.__dict__, "analysis": CallAnalysis(metrics=(Metric("call", "x", "not a number"),))})
    with pytest.raises(Exception):
        load.load_call(con, bad, "run1")
    assert _counts(con)["calls"] == 0 and _counts(con)["segments"] == 0


def test_failures_are_recorded_and_quarantined_ones_are_not_retried(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    rec = _result().recording
    load.record_failure(con, rec, "run1", status="failed", error="RuntimeError: x")
    assert load.processed_hashes(con) == set()
    load.record_failure(con, rec, "run1", status="quarantined", error="empty file (0 bytes)", quarantine_path="/q")
    assert load.processed_hashes(con) == {rec.sha256}
    assert con.execute("SELECT count(*), min(error) FROM calls").fetchone() == (1, "empty file (0 bytes)")


def test_a_second_writer_gets_a_clear_busy_error(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "w.duckdb"
    db.connect(path).close()
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb,time; c=duckdb.connect({str(path)!r}); "
                               "print('held', flush=True); time.sleep(20)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(DatabaseBusy, match="another process"):
            db.connect(path, wait_s=0.5)
    finally:
        holder.kill()
        holder.wait()
    db.connect(path, wait_s=5).close()
