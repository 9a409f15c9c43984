"""Issue 25: the real flows, run on file names and call logs that hold caller numbers, leave none of
those numbers in clear in any store (tests/support/stores.py walks them all: warehouse, logs, Prefect's
database and result cache, watermarks, staging, quarantine, exports). Model-free: every recording here
is undecodable, so each is quarantined before any model loads."""

from __future__ import annotations

import logging
import os
import time

import pytest

from pipeline.config import load_settings
from tests.support import sshd
from tests.integration.test_sftp import server  # noqa: F401  (fixture: OpenSSH on 127.0.0.1)
from tests.support import stores, tally

# Numbers no other test uses: Prefect's test database is shared by the whole session.
NUMBERS = ("0977311001", "0977311002", "0977311003")


def _old(path, age_s=600):
    t = time.time() - age_s
    os.utime(path, (t, t))


def _recording(root, rel):
    """An undecodable recording (quarantined before any model loads), its bytes its own."""
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_bytes(b"RIFF\x00\x00\x00\x00WAVE not really " + os.urandom(16).hex().encode())
    _old(root / rel)
    return rel


def test_flow_parameters_and_the_watermark_hold_no_file_name(tmp_path, prefect_harness, caplog):
    """Issue 25 #4: FreePBX names (caller numbers) went into ``flow_run.parameters`` (``only=…``) and the
    pull watermark's keys, both outliving every purge. Now keyed ids go there, resolved by the flow."""
    from flows.pull import pull_and_process
    from flows.watch import watch_source

    pbx = tmp_path / "pbx"
    first = [_recording(pbx, f"2026/11/30/in-101-{NUMBERS[0]}-20261130-081502-1764490502.31.wav"),
             _recording(pbx, f"2026/11/30/out-{NUMBERS[1]}-102-20261130-091000-1764494000.32.wav")]
    home = tmp_path / "home"
    settings = load_settings(home=home, db_path=home / "w.duckdb")
    with caplog.at_level(logging.INFO):
        pulled = pull_and_process(str(pbx), settings, confirm_s=0.2)
        later = _recording(pbx, f"2026/11/30/q-600-{NUMBERS[2]}-20261130-101500-1764497700.33.wav")
        watched = watch_source(pbx, settings, interval_s=0.2, settle_s=0, max_polls=3)
    found = stores.scan(NUMBERS, home=home, logs=caplog.text)
    import duckdb

    con = duckdb.connect(str(home / "w.duckdb"), read_only=True)
    statuses = con.execute("SELECT status, count(*) FROM calls GROUP BY 1").fetchall()
    con.close()
    tally.record("store_scan", "flow parameters and watermark (pull-and-process, watch)", tried=3,
                 survived=3 if statuses == [("quarantined", 3)] else 0, rows_lost=3 - sum(n for _, n in statuses),
                 clear_text_numbers=found.total, stores=found.by_store())
    assert pulled.run is not None and pulled.run.quarantined == 2 and watched == 0, (pulled, first, later)
    assert statuses == [("quarantined", 3)]
    assert found.total == 0, stores.describe(found)
    assert {"prefect_db", "watermarks", "warehouse", "logs"} <= found.scanned


# ---- the whole path: SFTP pull, processing, export, purge ----------------------------------------------

CALLERS = ("0977311101", "0977311102", "0977311103", "0977311104")  # in file names and the call log
SPOKEN = "0977311109"  # said in the call: raw text keeps it (allowed roles) until the purge


def _freepbx_server_folder(root):
    import csv
    import io
    import shutil

    from tests.helpers import DATA

    day = root / "2026/11/30"
    day.mkdir(parents=True)
    shutil.copy(DATA / "short_stereo.wav", day / f"in-101-{CALLERS[0]}-20261130-081502-1764490502.11.wav")
    (day / f"out-{CALLERS[1]}-102-20261130-091000-1764494000.12.wav").write_bytes(b"RIFF not audio " + os.urandom(64))
    with (day / f"q-600-{CALLERS[2]}-20261130-101500-1764497700.13.wav").open("wb") as fh:
        fh.truncate(3 << 20)  # over the 1 MiB cap this test sets

    def row(src, dst, chan, dstchan, start, disposition, uid):
        return ["", src, dst, "from-trunk", f'"Nguyễn Văn An" <{src}>', chan, dstchan, "Dial", f"PJSIP/{dst}@trunk,60",
                start, start, start, 40, 35, disposition, "DOCUMENTATION", uid, ""]

    buf = io.StringIO()
    w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
    w.writerow(row(CALLERS[0], "101", "PJSIP/viettel-1", "PJSIP/101-2", "2026-11-30 08:15:02", "ANSWERED",
                   "1764490502.11"))
    w.writerow(row("102", CALLERS[1], "PJSIP/102-3", "PJSIP/viettel-4", "2026-11-30 09:10:00", "ANSWERED",
                   "1764494000.12"))
    w.writerow(row(CALLERS[3], "101", "PJSIP/viettel-5", "", "2026-11-30 09:30:00", "NO ANSWER", "1764495000.14"))
    tail = io.StringIO()
    csv.writer(tail, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow(
        row(CALLERS[2], "600", "PJSIP/viettel-6", "PJSIP/103-7", "2026-11-30 10:15:00", "ANSWERED", "1764497700.13"))
    (root / "Master.csv").write_bytes(buf.getvalue().encode() + b"\x00" * 200_000 + tail.getvalue().encode())
    for p in root.rglob("*"):
        _old(p)


@pytest.mark.skipif(not sshd.available(), reason="needs openssh-server (sshd) and ssh-keygen")
def test_an_sftp_pull_export_and_purge_leave_no_number_in_any_store(tmp_path, server, prefect_harness, monkeypatch,
                                                                     capsys, caplog):
    """Real OpenSSH server, real flows (pull-and-process; ASR replaced by a fixed sentence that says a number,
    as tests/support/killrun.py does), real export and purge; then every store is walked."""
    import duckdb

    import flows.tasks as tasks
    from flows.pull import pull_and_process
    from pipeline.cli import main
    from pipeline.records import Segment, Transcript, TranscriptInfo
    from pipeline.stages import process
    from tests.support.killrun import FakeASR

    pbx = tmp_path / "monitor"
    _freepbx_server_folder(pbx)
    home = tmp_path / "home"
    db_path = home / "hotline.duckdb"
    for key, value in (("HOTLINE_HOME", home), ("HOTLINE_SFTP_KNOWN_HOSTS", server.known_hosts),
                       ("HOTLINE_SFTP_KEY_PATH", server.client_key), ("HOTLINE_MAX_RECORDING_MB", "1")):
        monkeypatch.setenv(key, str(value))
    settings = load_settings(db_path=db_path)
    process._MODELS[settings] = process.Models(settings, asr=FakeASR())

    def fake_transcribe(audio, models, options=None):
        info = TranscriptInfo("vi", 0.99, audio.duration_s, speech_s=min(1.0, audio.duration_s))
        text = f"nhà tôi bị ngập, số điện thoại của tôi là {SPOKEN[:4]} {SPOKEN[4:7]} {SPOKEN[7:]}"
        return tuple(Transcript((Segment(0.1, min(3.0, audio.duration_s), text, avg_logprob=-0.2, channel=ch),), info)
                     for ch in range(audio.channels))

    monkeypatch.setattr(tasks, "transcribe_stage", fake_transcribe)
    with caplog.at_level(logging.INFO):
        summary = pull_and_process(server.url(pbx), settings, confirm_s=0.3)
        assert main(["export", "calls", "--out", str(tmp_path / "exports"), "--db", str(db_path)]) == 0
        assert main(["export", "transcripts", "--out", str(tmp_path / "exports"), "--db", str(db_path)]) == 0
    con = duckdb.connect(str(db_path), read_only=True)
    calls = con.execute("SELECT pbx_call_id, status, caller_hash IS NOT NULL FROM calls ORDER BY 1").fetchall()
    problems = [r[0] for r in con.execute("SELECT reason FROM run_problems").fetchall()]
    con.close()
    printed = capsys.readouterr()
    before = stores.scan(CALLERS, home=home, logs=[caplog.text, printed.out, printed.err],
                         exports=[tmp_path / "exports"])
    spoken_before = stores.scan([SPOKEN], home=home, exports=[tmp_path / "exports"])
    # 4 calls in the log (one unanswered: no recording expected), 3 recordings: the over-cap one refused.
    accounted = len(calls) + summary.refused
    tally.record("store_scan", "SFTP pull-and-process + exports: names, call log with a crash's NULs, a file over "
                 "the cap", tried=3, survived=3 * int(accounted == 3 and summary.run.failed == 0),
                 rows_lost=3 - accounted, clear_text_numbers=before.total, stores=before.by_store())
    assert calls == [("1764490502.11", "done", True), ("1764494000.12", "quarantined", True)], (calls, problems)
    assert summary.refused == 1 and any("NUL bytes" in p for p in problems)
    assert before.total == 0, stores.describe(before)
    # The spoken number is kept where raw text is (that is what purge is for): the scanner sees it there.
    assert spoken_before.counts["result_cache"] > 0 and spoken_before.counts["warehouse"] > 0, \
        stores.describe(spoken_before)

    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert main(["purge", "--older-than", "0", "--db", str(db_path)]) == 0
    printed = capsys.readouterr()
    after = stores.scan([*CALLERS, SPOKEN], home=home, logs=[caplog.text, printed.out, printed.err])
    staged = [p for p in (home / "staging").rglob("*.wav")]
    tally.record("store_scan", "after hotline purge (result cache by call, case text, stored names)", tried=2,
                 survived=2 * int(after.total == 0 and not staged), clear_text_numbers=after.total,
                 stores=after.by_store())
    assert "purged calls=2" in printed.out and not staged
    assert after.total == 0, stores.describe(after)
