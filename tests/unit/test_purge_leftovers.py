"""Issue 25 #5: what ``hotline purge`` used to leave behind. The cached stage results of the calls purged
(chosen by the calls, not the file date), the free text of their cases (unit results, history notes), the
caller's last digits in stored file names and errors, and reports about weeks before the cutoff."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import datetime, timedelta

from pipeline.warehouse import db
from tests.support import stores

NOW = datetime(2026, 11, 28, 12, 0)
OLD, NEW = NOW - timedelta(days=400), NOW - timedelta(days=10)
NUMBERS = ("0905123456", "0262 3812345")
ID_CARD = "066185000123"
NOTE = "Gọi lại cho bà Trần Thị Mai số 0905 123 456, CCCD 066185000123"


def _call(con, call_id, started, *, sha=None, path="2026/11/30/in-101-***456-***211.wav"):
    con.execute("INSERT INTO calls (call_id, recording_sha256, status, started_at, duration_s, source_path, error, "
                "caller_hash, caller_last3) VALUES (?, ?, 'done', ?, 30.0, ?, ?, 'abc', '456')",
                [call_id, sha or call_id * 4, started, path, f"{path}: not decodable"])


def _case(con, case_id, call_ids, opened):
    con.execute("INSERT INTO cases (case_id, kind, status, priority, opened_at, place, place_detail, summary, result, "
                "unit, caller_hash) VALUES (?, 'complaint', 'resolved', 2, ?, 'phường Tân Tiến', 'hẻm 12 Lê Duẩn', "
                "'nhà tôi ở hẻm 12', ?, 'UBND phường Tân Tiến', 'abc')",
                [case_id, opened, f"Đã liên hệ bà Trần Thị Mai (0262)3812345, CCCD {ID_CARD}"])
    for call_id in call_ids:
        con.execute("INSERT INTO case_calls VALUES (?, ?, ?, 'pipeline')", [call_id, case_id, opened])
    con.execute("INSERT INTO case_events (case_id, acted_at, user_name, action, note) VALUES (?, ?, 'qa', 'forwarded', ?)",
                [case_id, opened, NOTE])


def test_cached_results_of_purged_calls_go_whenever_they_were_written(tmp_path):
    """A 2020 call processed today has today's cache files: the purge picks them by the call, not the date."""
    from pipeline.warehouse.purge import purge

    con = db.connect(tmp_path / "w.duckdb")
    old_sha, new_sha = hashlib.sha256(b"old").hexdigest(), hashlib.sha256(b"new").hexdigest()
    _call(con, "old0000000000001", OLD, sha=old_sha)
    _call(con, "new0000000000001", NEW, sha=new_sha)
    cache = tmp_path / "storage"
    cache.mkdir()
    for stage in ("transcribe", "speakers"):
        for sha in (old_sha, new_sha):
            (cache / f"{stage}-{sha}-whisper-base-1a2b3c4d5e6f").write_text(f"raw text of {sha[:6]} {NUMBERS[0]}")
    report = purge(con, 365, now=NOW, cache_dirs=[cache])  # every file is minutes old
    con.close()
    left = sorted(p.name.split("-")[1][:6] for p in cache.iterdir())
    assert left == [new_sha[:6], new_sha[:6]] and report.n_cached == 2


def test_case_text_goes_when_all_its_calls_are_past_the_period(tmp_path):
    from pipeline.warehouse.purge import purge

    con = db.connect(tmp_path / "w.duckdb")
    _call(con, "old0000000000001", OLD)
    _call(con, "old0000000000002", OLD)
    _call(con, "new0000000000001", NEW)
    _case(con, "PA-old", ["old0000000000001"], OLD)
    _case(con, "PA-mixed", ["old0000000000002", "new0000000000001"], OLD)  # still being worked on
    purge(con, 365, now=NOW)
    cases = {r[0]: r[1:] for r in con.execute(
        "SELECT case_id, result, place_detail, summary, caller_hash, place, unit, status FROM cases").fetchall()}
    notes = dict(con.execute("SELECT case_id, note FROM case_events").fetchall())
    assert cases["PA-old"] == (None, None, None, None, "phường Tân Tiến", "UBND phường Tân Tiến", "resolved")
    assert notes["PA-old"] is None
    assert cases["PA-mixed"][0].startswith("Đã liên hệ") and notes["PA-mixed"] == NOTE
    left = stores.count_in_bytes((*NUMBERS, ID_CARD), repr(con.execute(
        "SELECT c.result, e.note FROM cases c JOIN case_events e USING (case_id) WHERE case_id = 'PA-old'").fetchall()))
    con.close()
    assert left == 0


def test_stored_names_and_errors_lose_the_callers_last_digits_and_the_file_is_found_again(tmp_path):
    """``calls.source_path`` kept ``***456``; after the purge it is ``***``, and the web app still finds a PBX
    folder's own recording by its hash (the purge never deletes a local source's file)."""
    from pipeline.intake.ingest import locate
    from pipeline.warehouse.purge import purge

    pbx = tmp_path / "pbx"
    rel = "2026/11/30/in-101-0905123456-20261130-081502-1764490502.11.wav"
    twin = "2026/11/30/in-101-0911111456-20261130-081502-1764490502.11.wav"  # same masked name, other bytes
    for name, data in ((rel, b"RIFF the call"), (twin, b"RIFF another call")):
        (pbx / name).parent.mkdir(parents=True, exist_ok=True)
        (pbx / name).write_bytes(data)
    from pipeline.logsafe import mask_numbers

    con = db.connect(tmp_path / "w.duckdb")
    _call(con, "old0000000000001", OLD, sha=hashlib.sha256(b"RIFF the call").hexdigest(), path=mask_numbers(rel))
    con.execute("INSERT INTO runs (run_id, started_at, source_dir, status) VALUES ('r1', ?, ?, 'done')",
                [OLD, str(pbx)])
    con.execute("INSERT INTO run_problems (run_id, seq, kind, ref, reason) VALUES ('r1', 0, 'file', ?, 'cannot read')",
                [mask_numbers(twin)])
    purge(con, 365, now=NOW)
    path, error, sha = con.execute("SELECT source_path, error, recording_sha256 FROM calls").fetchone()
    ref = con.execute("SELECT ref FROM run_problems").fetchone()[0]
    con.close()
    assert path == "2026/11/30/in-***.wav" and error == "2026/11/30/in-***.wav: not decodable"
    assert ref == "2026/11/30/in-***.wav"
    assert locate(pbx, path, sha) == pbx / rel


def test_reports_about_weeks_before_the_cutoff_go(tmp_path):
    from pipeline.warehouse.purge import purge

    reports = tmp_path / "reports"
    reports.mkdir()
    old_week, new_week = reports / "bao-cao_2025-10-20_2025-10-26.pdf", reports / "bao-cao_2026-11-16_2026-11-22.pdf"
    for p in (old_week, new_week, reports / "notes.txt", reports / "old export.csv"):
        p.write_text(f"case list {NUMBERS[0]}")
    stale = time.mktime((OLD - timedelta(days=1)).timetuple())
    os.utime(reports / "old export.csv", (stale, stale))
    con = db.connect(tmp_path / "w.duckdb")
    report = purge(con, 365, now=NOW, report_dirs=[reports])
    con.close()
    assert sorted(p.name for p in reports.iterdir()) == [new_week.name, "notes.txt"] and report.n_reports == 2


def test_purge_command_reaches_the_report_folder_and_the_cache(tmp_path, monkeypatch, capsys):
    from pipeline.cli import main

    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    monkeypatch.setenv("PREFECT_RESULTS_LOCAL_STORAGE_PATH", str(tmp_path / "storage"))
    sha = hashlib.sha256(b"x").hexdigest()
    con = db.connect(tmp_path / "hotline.duckdb")
    _call(con, "old0000000000001", datetime.now() - timedelta(days=400), sha=sha)
    con.close()
    (tmp_path / "storage").mkdir()
    (tmp_path / "storage" / f"transcribe-{sha}-m-0").write_text("raw")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "bao-cao_2024-01-01_2024-01-07.pdf").write_text("report")
    assert main(["purge", "--older-than", "365"]) == 0
    out = capsys.readouterr().out
    assert "cached=1 reports=1 " in out and not list((tmp_path / "storage").iterdir())
    assert not list((tmp_path / "reports").iterdir())


def test_the_purged_text_leaves_the_warehouse_file_too(tmp_path, monkeypatch, capsys):
    """DuckDB keeps deleted rows' data in the blocks it frees: the purge rewrites the file (``--no-compact``
    leaves it, and the text can still be read out of the file's bytes)."""
    from pipeline.cli import main

    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    path = tmp_path / "hotline.duckdb"
    con = db.connect(path)
    for i in range(3):
        _call(con, f"old000000000000{i}", datetime.now() - timedelta(days=400))
        con.execute("INSERT INTO segments_raw (call_id, seq, text) VALUES (?, 0, ?)", [f"old000000000000{i}", NOTE])
    _call(con, "new0000000000001", datetime.now() - timedelta(days=1))
    con.execute("INSERT INTO segments_raw (call_id, seq, text) VALUES ('new0000000000001', 0, 'xin chào, tôi hỏi về giấy phép')")
    con.close()
    mode = path.stat().st_mode
    assert main(["purge", "--older-than", "365", "--no-compact"]) == 0
    kept = stores.count_in_bytes([NUMBERS[0], ID_CARD], path.read_bytes())
    assert main(["purge", "--older-than", "365"]) == 0  # nothing more to purge: nothing rewritten
    assert "compacted" not in capsys.readouterr().out
    con = db.connect(path)
    _call(con, "old0000000000009", datetime.now() - timedelta(days=400))
    con.close()
    assert main(["purge", "--older-than", "365"]) == 0
    out = capsys.readouterr().out
    left = stores.count_in_bytes([NUMBERS[0], ID_CARD], path.read_bytes())
    assert kept > 0 and left == 0 and "compacted=" in out
    con = db.connect(path)  # the rewritten file is a whole warehouse: schema, views, the kept call
    assert con.execute("SELECT text FROM segments_raw").fetchall() == [("xin chào, tôi hỏi về giấy phép",)]
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 5
    con.execute("INSERT INTO purges VALUES ('x', now(), 1, now(), 0, 0, 0)")
    con.close()
    assert path.stat().st_mode == mode  # the permissions of the file it replaced
