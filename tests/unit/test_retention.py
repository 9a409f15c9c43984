"""``hotline purge``: personal data past the retention period goes, aggregates stay, the purge is recorded."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

import pytest

from pipeline.warehouse import db

NOW = datetime(2026, 11, 28, 12, 0)
PERSONAL = ("segments_raw", "words", "call_places", "pii_counts", "search_docs", "search_terms")
KEPT = ("call_topics", "call_metrics")


def _add_call(con, call_id: str, started: datetime, tmp_path, *, quarantined: bool = False) -> None:
    copy = None
    if quarantined:
        folder = tmp_path / "quarantine" / call_id
        folder.mkdir(parents=True)
        (folder / "rec.wav").write_bytes(b"RIFF")
        (folder / "error.txt").write_text("bad")
        copy = str(folder / "rec.wav")
    con.execute("INSERT INTO calls (call_id, recording_sha256, status, started_at, duration_s, transcript, caller_hash, "
                "caller_last3, quarantine_path, caller_initials, transcript_readable) VALUES (?, ?, ?, ?, 30.0, "
                "'số của tôi là ***456', 'abc', '456', ?, 'N.V.H.', 'Số của tôi là [SĐT].')",
                [call_id, call_id * 4, "quarantined" if quarantined else "done", started, copy])
    con.execute("INSERT INTO segments (call_id, seq, start_s, end_s, role, text, readable) "
                "VALUES (?, 0, 0, 2, 'citizen', 'nhà tôi ở 12 Lê Duẩn', 'Nhà tôi ở 12 Lê Duẩn.')", [call_id])
    con.execute("INSERT INTO segments_raw (call_id, seq, text) VALUES (?, 0, 'nhà tôi ở 12 Lê Duẩn 0905123456')", [call_id])
    con.execute("INSERT INTO words VALUES (?, 0, 0, 0.0, 0.5, 0.9)", [call_id])
    con.execute("INSERT INTO call_places (call_id, seq, kind, text, name) VALUES (?, 0, 'street', 'Lê Duẩn', 'Lê Duẩn')", [call_id])
    con.execute("INSERT INTO pii_counts VALUES (?, 'phone', 1)", [call_id])
    con.execute("INSERT INTO search_docs VALUES (?, 'nha toi', 'nha toi', 0, 4)", [call_id])
    con.execute("INSERT INTO search_terms VALUES ('nha', 1, ?, 1)", [call_id])
    con.execute("INSERT INTO call_topics VALUES (?, 'environment', 0.9, 'model', true)", [call_id])
    con.execute("INSERT INTO call_metrics VALUES (?, 'call', 'talk_time_s', 20.0)", [call_id])


@pytest.fixture
def warehouse(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    _add_call(con, "old0000000000001", NOW - timedelta(days=400), tmp_path)
    _add_call(con, "oldquarantined01", NOW - timedelta(days=400), tmp_path, quarantined=True)
    _add_call(con, "new0000000000001", NOW - timedelta(days=10), tmp_path)
    yield con
    con.close()


def _count(con, table, call_id):
    return con.execute(f"SELECT count(*) FROM {table} WHERE call_id = ?", [call_id]).fetchone()[0]


def test_old_calls_lose_personal_data_and_keep_aggregates(warehouse, tmp_path):
    from pipeline.warehouse.purge import purge

    report = purge(warehouse, 365, now=NOW)
    assert report.n_calls == 2 and report.n_files == 2
    for call_id in ("old0000000000001", "oldquarantined01"):
        assert all(_count(warehouse, t, call_id) == 0 for t in PERSONAL)
        assert all(_count(warehouse, t, call_id) == 1 for t in KEPT)
        row = warehouse.execute("SELECT transcript, caller_hash, caller_last3, quarantine_path, purged_at, duration_s, "
                                "caller_initials, transcript_readable FROM calls WHERE call_id = ?", [call_id]).fetchone()
        assert row[:4] == (None, None, None, None) and row[4] == NOW and row[5] == 30.0 and row[6:] == (None, None)
        seg = warehouse.execute("SELECT text, readable, role, end_s FROM segments WHERE call_id = ?", [call_id]).fetchone()
        assert seg == (None, None, "citizen", 2.0)
    assert not (tmp_path / "quarantine" / "oldquarantined01").exists()
    assert all(_count(warehouse, t, "new0000000000001") == 1 for t in PERSONAL + KEPT)
    assert warehouse.execute("SELECT transcript FROM calls WHERE call_id = 'new0000000000001'").fetchone()[0]
    logged = warehouse.execute("SELECT older_than_days, cutoff, n_calls, n_files FROM purges").fetchall()
    assert logged == [(365, NOW - timedelta(days=365), 2, 2)]


def test_a_second_purge_finds_nothing_more_but_is_recorded(warehouse):
    from pipeline.warehouse.purge import purge

    purge(warehouse, 365, now=NOW)
    again = purge(warehouse, 365, now=NOW + timedelta(hours=1))
    assert (again.n_calls, again.n_rows, again.n_files) == (0, 0, 0)
    assert warehouse.execute("SELECT count(*) FROM purges").fetchone()[0] == 2


def test_cached_results_older_than_the_period_are_deleted(warehouse, tmp_path):
    from pipeline.warehouse.purge import purge

    cache = tmp_path / "storage"
    cache.mkdir()
    (cache / "old-transcript").write_text("raw text")
    (cache / "new-transcript").write_text("raw text")
    stale = time.mktime((NOW - timedelta(days=30)).timetuple())
    os.utime(cache / "old-transcript", (stale, stale))
    report = purge(warehouse, 7, now=NOW, cache_dirs=[cache])
    assert not (cache / "old-transcript").exists() and (cache / "new-transcript").exists()
    assert report.n_calls == 3


def test_cli_purges_and_rejects_a_negative_period(tmp_path, capsys):
    from pipeline.cli import main

    con = db.connect(tmp_path / "w.duckdb")
    _add_call(con, "old0000000000001", datetime.now() - timedelta(days=100), tmp_path)
    con.close()
    assert main(["purge", "--older-than", "30", "--db", str(tmp_path / "w.duckdb")]) == 0
    assert "purged calls=1" in capsys.readouterr().out
    assert main(["purge", "--older-than", "-1", "--db", str(tmp_path / "w.duckdb")]) == 1
    assert "0 days or more" in capsys.readouterr().err
