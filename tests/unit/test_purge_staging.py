"""``hotline purge`` deletes the staged (SFTP-pulled) copies of the calls it purges, after the commit, and
nothing else: not newer calls' copies, not the pull's watermark, not a file of a local source folder
(the PBX's), not the target of a link planted in the staging folder. A re-run removes nothing more."""

from __future__ import annotations

import hashlib
import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pipeline.intake import sources
from pipeline.intake.ingest import stage_name
from pipeline.logsafe import mask_numbers
from pipeline.warehouse import db
from pipeline.warehouse.staged_copies import staging_root

KEY = "test-caller-salt"  # keys the watermark's names (the caller salt in production)

NOW = datetime.now().replace(microsecond=0) - timedelta(hours=1)  # the CLI purges against the clock
OLD, NEW = NOW - timedelta(days=400), NOW - timedelta(days=10)
URL = "sftp://pbx@10.0.0.5:22/var/spool/asterisk/monitor"


class _Server(sources.LocalSource):
    """An SFTP server's folder as :func:`pipeline.intake.sources.pull` sees it: listed, then copied out (not in place)."""

    def local_root(self):
        return None


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _call(con, call_id, run_id, rel, sha, started):
    con.execute("INSERT INTO calls (call_id, recording_sha256, status, started_at, duration_s, transcript, caller_hash, "
                "source_path, run_id) VALUES (?, ?, 'done', ?, 30.0, 'nhà tôi ở 12 Lê Duẩn', 'abc', ?, ?)",
                [call_id, sha, started, rel, run_id])


@pytest.fixture
def world(tmp_path, settings):
    server = tmp_path / "server"
    names = {"old": "2026/01/05/in-0905123456-1.wav", "old2": "2026/01/06/out-0905999456-2.wav",
             "new": "2026/11/18/in-0912345678-3.wav", "reused": "2026/02/01/in-0911111111-4.wav"}
    for i, rel in enumerate(names.values()):
        (server / rel).parent.mkdir(parents=True, exist_ok=True)
        (server / rel).write_bytes(b"RIFF" + bytes([i]) * 2000)
        t = (NOW - timedelta(days=1)).timestamp()
        os.utime(server / rel, (t, t))
    staging = sources.staging_dir(URL, settings)
    assert staging.parent == staging_root(settings.database)  # the purge looks where the pull puts copies
    sources.pull(_Server(server), staging, key=KEY)
    pulled = sources.pull(_Server(server), staging, key=KEY)  # the second listing confirms the files: they are copied
    assert sorted(pulled.new_audio) == sorted(names.values()) and pulled.bytes_pulled == 4 * 2004
    # Staged without the caller number in the name (issue 25); an older version staged "old2" under its own name.
    names = {k: stage_name(rel, KEY) for k, rel in names.items()}
    names["old2"] = "2026/01/06/out-0905999456-2.wav"
    os.replace(staging / stage_name(names["old2"], KEY), staging / names["old2"])

    local = tmp_path / "pbx-local"  # a local source folder: read in place, the PBX's own files
    (local / "2026/01").mkdir(parents=True)
    local_rec = local / "2026/01/in-0905000111-9.wav"
    local_rec.write_bytes(b"RIFF local")
    outside = tmp_path / "precious.wav"
    outside.write_bytes(b"RIFF not ours")
    (staging / "2026/01/05/in-0905222333-5.wav").symlink_to(outside)  # planted link, named like a recording

    con = db.connect(settings.database)
    con.execute("INSERT INTO runs (run_id, started_at, source_dir, status) VALUES "
                "('run-sftp', ?, ?, 'done'), ('run-local', ?, ?, 'done')",
                [OLD, str(staging.resolve()), OLD, str(local.resolve())])
    shas = {k: _sha(staging / rel) for k, rel in names.items()}
    _call(con, "c-old", "run-sftp", mask_numbers(names["old"]), shas["old"], OLD)
    _call(con, "c-old2", "run-sftp", names["old2"], shas["old2"], OLD)  # stored unmasked (older warehouse and pull)
    _call(con, "c-new", "run-sftp", mask_numbers(names["new"]), shas["new"], NEW)
    # The PBX reused the name: the staged file now holds another recording than the old call's.
    _call(con, "c-reused", "run-sftp", mask_numbers(names["reused"]), "0" * 64, OLD)
    _call(con, "c-link", "run-sftp", mask_numbers("2026/01/05/in-0905222333-5.wav"), _sha(outside), OLD)
    _call(con, "c-local", "run-local", mask_numbers("2026/01/in-0905000111-9.wav"), _sha(local_rec), OLD)
    yield {"con": con, "staging": staging, "names": names, "local_rec": local_rec, "outside": outside}
    con.close()


def test_purge_deletes_staged_copies_of_purged_calls_only(world, caplog):
    from pipeline.warehouse.purge import purge

    con, staging, names = world["con"], world["staging"], world["names"]
    watermark = (staging / sources.STATE_FILE).read_bytes()
    with caplog.at_level(logging.INFO, logger="pipeline.warehouse.purge"):
        report = purge(con, 365, now=NOW)  # staging root: beside the warehouse file, found from the connection
    assert report.n_calls == 5 and report.n_staged == 2 and report.n_files == 2
    assert "2 files (2 staged recordings, 0 cached results, 0 reports)" in caplog.text
    assert not (staging / names["old"]).exists() and not (staging / names["old2"]).exists()
    assert not (staging / "2026/01/06").exists() and (staging / "2026/01/05").is_dir()  # a folder emptied goes
    assert (staging / names["new"]).is_file()  # still within retention: the web app plays it
    assert (staging / names["reused"]).is_file()  # another recording under the old call's name
    assert (staging / "2026/01/05/in-0905222333-5.wav").is_symlink() and world["outside"].read_bytes() == b"RIFF not ours"
    assert world["local_rec"].read_bytes() == b"RIFF local"  # the PBX's folder is never written
    assert (staging / sources.STATE_FILE).read_bytes() == watermark  # so the pull will not fetch them again
    assert con.execute("SELECT n_files FROM purges").fetchall() == [(2,)]

    again = purge(con, 365, now=NOW + timedelta(hours=1))
    assert (again.n_calls, again.n_staged, again.n_files) == (0, 0, 0)
    assert (staging / names["new"]).is_file() and world["local_rec"].is_file()


def test_staged_copy_left_by_an_older_purge_goes_at_the_next_one(world):
    """A warehouse purged before staged copies were deleted: its calls are purged already, their copies not."""
    from pipeline.warehouse.purge import purge

    con, staging, names = world["con"], world["staging"], world["names"]
    con.execute("UPDATE calls SET transcript = NULL, caller_hash = NULL, purged_at = ? WHERE call_id = 'c-old'", [OLD])
    report = purge(con, 365, now=NOW, staging_root=staging.parent)
    assert report.n_calls == 4 and report.n_staged == 2 and not (staging / names["old"]).exists()


def test_failed_purge_deletes_no_staged_copy(world, monkeypatch):
    from pipeline.warehouse import purge as retention
    from pipeline.warehouse import retention as rows

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(rows, "record_purge", boom)
    with pytest.raises(RuntimeError):
        retention.purge(world["con"], 365, now=NOW)
    assert (world["staging"] / world["names"]["old"]).is_file()  # rolled back: the rows still point at it
    assert world["con"].execute("SELECT count(*) FROM calls WHERE purged_at IS NOT NULL").fetchone()[0] == 0


def test_purge_command_counts_staged_copies(world, settings, monkeypatch, capsys):
    from pipeline.cli import main

    world["con"].close()
    monkeypatch.setenv("HOTLINE_HOME", str(settings.home))
    monkeypatch.setenv("PREFECT_RESULTS_LOCAL_STORAGE_PATH", str(settings.home / "no-cache"))
    assert main(["purge", "--older-than", "0", "--db", str(settings.database)]) == 0
    out = capsys.readouterr().out
    assert "staged=3 " in out and "files=3 " in out  # now: the new call's copy goes too
    assert not (world["staging"] / world["names"]["new"]).exists() and world["local_rec"].is_file()
    assert (world["staging"] / sources.STATE_FILE).is_file() and world["outside"].is_file()
