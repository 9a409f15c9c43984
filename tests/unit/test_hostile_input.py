"""Issue 13, red-team findings on untrusted PBX exports: each test failed before its fix.

Fast and model-free (no Prefect): ingest, quarantine, decode limits, salt, permissions,
warehouse identity. Each records its outcome for ``make faults`` (tests/support/tally.py).
"""

from __future__ import annotations

import io
import logging
import os
import stat

import numpy as np
import pytest
import soundfile as sf

from tests.support import tally

NUMBER = "0912000111"  # a caller number as PBXs put it in file names


def _wav(path, seconds=1.0, rate=8000, channels=1):
    t = np.arange(int(seconds * rate)) / rate
    data = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    sf.write(str(path), np.stack([data] * channels, axis=1) if channels > 1 else data, rate, subtype="PCM_16")
    return path


def _rec(path, rel=None, sha="ab" * 32, log=None):
    from pipeline.records import Recording

    return Recording(path=path, relpath=rel or path.name, sha256=sha, size_bytes=path.stat().st_size if path.exists() else 0,
                     log=log)


# ---- 1. symbolic links -------------------------------------------------------------------------

def test_links_in_the_source_are_never_followed_or_listed(tmp_path):
    from pipeline.intake.ingest import scan_source, snapshot

    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "env").write_bytes(b"HOTLINE_CALLER_SALT=s3cret\n")
    _wav(secret / "outside.wav")
    src = tmp_path / "src"
    src.mkdir()
    _wav(src / "real.wav")
    os.symlink(secret / "env", src / "env.wav")
    os.symlink("/etc/passwd", src / "passwd.mp3")
    os.symlink(secret / "outside.wav", src / "outside audio.wav")
    os.symlink(secret, src / "linked folder")
    scan = scan_source(src, salt="k")
    found = [r.relpath for r in scan.recordings]
    skipped = {rel for rel, _ in scan.file_problems}
    tally.record("bad_file", "symlinks", tried=4, survived=int(found == ["real.wav"]) * 4)
    assert found == ["real.wav"]
    assert skipped == {"env.wav", "passwd.mp3", "outside audio.wav", "linked folder"}
    assert all("symbolic link" in why for _, why in scan.file_problems)
    assert set(snapshot(src)) == {"real.wav"}


def test_quarantine_never_copies_a_link_target(tmp_path):
    from pipeline.intake.quarantine import quarantine

    secret = tmp_path / "environ"
    secret.write_bytes(b"HOTLINE_CALLER_SALT=s3cret\n")
    link = tmp_path / "env.wav"
    os.symlink(secret, link)
    q = tmp_path / "q"
    copy = quarantine(_rec(link), "not audio", q)
    contents = b"".join(p.read_bytes() for p in q.rglob("*") if p.is_file())
    leaked = int(b"s3cret" in contents)
    tally.record("bad_file", "quarantine link", survived=1 - leaked)
    assert not leaked
    assert not copy.exists() and "not copied" in (copy.parent / "error.txt").read_text()


# ---- 3. caller numbers in paths and logs ----------------------------------------------------------

def test_quarantine_names_and_error_text_hold_no_number(tmp_path):
    from pipeline.intake.quarantine import quarantine

    rec_path = _wav(tmp_path / f"{NUMBER}_rec.wav")
    q = tmp_path / "q"
    copy = quarantine(_rec(rec_path, rel=f"ngày 1/{NUMBER}_rec.wav"), f"{rec_path}: too short", q)
    n = tally.count_numbers_in_tree([NUMBER], q)
    tally.record("privacy", "quarantine names", survived=int(n == 0), clear_text_numbers=n)
    assert n == 0
    assert copy.read_bytes() == rec_path.read_bytes(), "the recording itself is kept"
    assert "***111_rec.wav" in (copy.parent / "error.txt").read_text()


def test_call_log_problems_and_warnings_mask_numbers(tmp_path, caplog):
    from pipeline.intake.ingest import scan_source

    src = tmp_path / "src"
    src.mkdir()
    _wav(src / f"{NUMBER}_rec.wav")
    (src / "calls.csv").write_text(
        "call_id,start_time,caller_number,file_name\n"
        f"1,2026-11-03 08:00:00,{NUMBER},{NUMBER}_rec.wav\n"
        f"2,2026-11-03 08:01:00,{NUMBER},{NUMBER}_rec.wav\n"  # listed again
        f"3,not a time,{NUMBER},{NUMBER}_other.wav\n"
        f"4,2026-11-03 08:02:00,{NUMBER},{NUMBER}_gone.wav\n", encoding="utf-8")
    with caplog.at_level(logging.INFO):
        scan = scan_source(src, salt="k")
    n = tally.count_numbers([NUMBER], *scan.log_problems, caplog.text)
    tally.record("privacy", "call-log warnings", tried=3, survived=3 * int(n == 0), clear_text_numbers=n)
    assert n == 0
    assert any("listed again" in p for p in scan.log_problems)
    assert any("names no recording" in p and "***111_gone.wav" in p for p in scan.log_problems), scan.log_problems


def test_stored_source_path_is_masked_and_the_file_is_found_again(tmp_path):
    from pipeline.intake.ingest import hash_file, locate, scan_source
    from pipeline.warehouse import db, load

    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    _wav(src / "d" / f"in-{NUMBER}.wav")
    _wav(src / "d" / "in-0988777111.wav", seconds=1.5)  # same last three digits, other audio
    scan = scan_source(src, salt="k")
    con = db.connect(tmp_path / "w.duckdb")
    for rec in scan.recordings:
        load.record_failure(con, rec, "r1", status="failed", error="x")
    stored = dict(con.execute("SELECT recording_sha256, source_path FROM calls").fetchall())
    n = tally.count_numbers_in_db([NUMBER, "0988777111"], con)
    con.close()
    tally.record("privacy", "stored source_path", survived=int(n == 0), clear_text_numbers=n)
    assert n == 0 and set(stored.values()) == {"d/in-***111.wav"}
    for sha, path in stored.items():
        found = locate(src, path, sha)
        assert found is not None and hash_file(found) == sha


def test_a_newline_in_a_file_name_cannot_forge_a_log_line(tmp_path, caplog):
    from pipeline.intake.ingest import scan_source
    from pipeline.logsafe import safe

    src = tmp_path / "src"
    src.mkdir()
    forged = "a.wav\n2026-12-01 ERROR admin logged in.wav"
    os.symlink("/etc/passwd", src / forged)
    with caplog.at_level(logging.WARNING):
        scan_source(src, salt="k")
    lines = [r.getMessage() for r in caplog.records]
    ok = all("\n" not in line for line in lines) and any("\\n2026" in line for line in lines)
    tally.record("bad_name", "newline in name", survived=int(ok))
    assert ok, lines
    assert safe("x\u2028y\rz") == "x\\u2028y\\rz"


# ---- 6. one bad input must not stop the batch -------------------------------------------------------

@pytest.mark.skipif(os.geteuid() == 0, reason="root reads mode-000 files")
def test_an_unreadable_recording_is_reported_and_the_others_are_scanned(tmp_path):
    from pipeline.intake.ingest import scan_source

    src = tmp_path / "src"
    src.mkdir()
    _wav(src / "a.wav")
    locked = _wav(src / "b.wav", seconds=2)
    _wav(src / "c.wav", seconds=3)
    locked.chmod(0)
    try:
        scan = scan_source(src, salt="k")
    finally:
        locked.chmod(0o600)
    ok = [r.relpath for r in scan.recordings] == ["a.wav", "c.wav"]
    tally.record("bad_file", "mode 000", survived=int(ok))
    assert ok
    assert scan.file_problems == (("b.wav", "cannot read (Permission denied)"),)


def test_a_read_error_on_one_recording_skips_that_file_only(tmp_path, monkeypatch):
    """The same as mode 000, where the tests run as root (root reads mode-000 files)."""
    from pipeline.intake import ingest

    src = tmp_path / "src"
    src.mkdir()
    for name in ("a.wav", "b.wav", "c.wav"):
        _wav(src / name, seconds=1 + len(name))
    real = ingest.hash_file

    def hash_or_refuse(path, *a, **kw):
        if path.name == "b.wav":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *a, **kw)

    monkeypatch.setattr(ingest, "hash_file", hash_or_refuse)
    scan = ingest.scan_source(src, salt="k")
    ok = [r.relpath for r in scan.recordings] == ["a.wav", "c.wav"]
    tally.record("bad_file", "unreadable recording", survived=int(ok))
    assert ok and scan.file_problems == (("b.wav", "cannot read (Permission denied)"),)


def test_a_huge_call_log_cell_skips_that_row_only(tmp_path):
    from pipeline.intake.ingest import read_call_log

    log = tmp_path / "calls.csv"
    log.write_text("call_id,file_name,operator_ext\n1,a.wav,101\n"
                   f'2,b.wav,"{"x" * 200_000}"\n3,c.wav,103\n', encoding="utf-8")
    entries, problems = read_call_log(log, salt="k")
    lost = 3 - len(entries) - len(problems)
    tally.record("bad_row", "cell over 128 KiB", survived=int(lost == 0), rows_lost=max(lost, 0))
    assert set(entries) == {"a.wav", "c.wav"}
    assert len(problems) == 1 and "line 3" in problems[0] and "field" in problems[0]


# ---- 8 (low). call-log encodings and row breaks -----------------------------------------------------

_TONES = "\u0300\u0301\u0303\u0309\u0323"


def _cp1258(text: str) -> bytes:
    """Text as Windows Vietnamese writes it: base letters precomposed, tone marks combining."""
    import unicodedata

    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
            out += (base + "".join(c for c in parts if c in _TONES)).encode("cp1258")
    return out


@pytest.mark.parametrize("encoding,expected", [("utf-8-sig", "utf-8"), ("utf-16", "utf-16"), ("cp1258", "cp1258")])
def test_vietnamese_call_logs_in_common_encodings_are_read(tmp_path, encoding, expected):
    from pipeline.intake.ingest import read_call_log

    text = "call_id,file_name,operator_ext\n1,Buôn Ma Thuột.wav,Lê Văn\n2,Hà Nội.wav,Đức\n"
    log = tmp_path / "calls.csv"
    log.write_bytes(_cp1258(text) if encoding == "cp1258" else text.encode(encoding))
    entries, problems, used = read_call_log(log, salt="k", with_encoding=True)
    ok = used == expected and set(entries) == {"Buôn Ma Thuột.wav", "Hà Nội.wav"}
    tally.record("bad_row", f"call log in {encoding}", tried=2, survived=2 * int(ok), rows_lost=2 - len(entries))
    assert ok, (used, entries, problems)
    assert entries["Hà Nội.wav"].operator_ext == "Đức"


def test_a_line_separator_inside_a_cell_does_not_split_the_row(tmp_path):
    from pipeline.intake.ingest import read_call_log

    log = tmp_path / "calls.csv"
    log.write_text("call_id,file_name,operator_ext\n1,a.wav,ext\u2028101\n2,b.wav,102\n", encoding="utf-8")
    entries, problems = read_call_log(log, salt="k")
    lost = 2 - len(entries)
    tally.record("bad_row", "U+2028 in a cell", survived=int(not problems and lost == 0), rows_lost=lost)
    assert set(entries) == {"a.wav", "b.wav"} and not problems


# ---- 7. identity, duplicates and re-written files ------------------------------------------------------

def test_identical_recordings_with_their_own_rows_are_each_reported(tmp_path):
    from pipeline.intake.ingest import dedupe, scan_source

    src = tmp_path / "src"
    src.mkdir()
    header_only = io.BytesIO()
    sf.write(header_only, np.zeros(0, dtype=np.float32), 8000, format="WAV", subtype="PCM_16")
    for k in (1, 2, 3):
        (src / f"hangup{k}.wav").write_bytes(header_only.getvalue())
    (src / "calls.csv").write_text("call_id,file_name\nP1,hangup1.wav\nP2,hangup2.wav\nP3,hangup3.wav\n")
    scan = scan_source(src, salt="k")
    problems: list[str] = []
    kept = dedupe(scan.recordings, problems)
    lost = 3 - len(kept) - len(problems)
    tally.record("bad_row", "identical hang-ups", tried=3, survived=3 * int(lost == 0), rows_lost=lost)
    assert len(kept) == 1 and len(problems) == 2
    assert {"P2", "P3"} <= {p.split("PBX call ")[1].split(")")[0] for p in problems}


def test_a_rewritten_recording_replaces_its_earlier_version(tmp_path):
    from pipeline.records import CallLogEntry
    from pipeline.warehouse import db, load

    entry = CallLogEntry("PBX-7", "x.wav", None, None, None, None, None)
    con = db.connect(tmp_path / "w.duckdb")
    path = _wav(tmp_path / "x.wav")
    load.record_failure(con, _rec(path, sha="11" * 32, log=entry), "r1", status="quarantined", error="truncated")
    load.record_failure(con, _rec(path, sha="22" * 32, log=entry), "r2", status="failed", error="later")
    rows = con.execute("SELECT recording_sha256 FROM calls WHERE pbx_call_id = 'PBX-7'").fetchall()
    con.close()
    dup = len(rows) - 1
    tally.record("concurrent_writer", "file completed after a first scan", survived=int(dup == 0), rows_duplicated=dup)
    assert rows == [("22" * 32,)]


# ---- 2. decompression bombs -----------------------------------------------------------------------------

def test_a_flac_bomb_is_refused_from_its_header(tmp_path):
    from pipeline.errors import AudioDecodeError
    from pipeline.stages.audio import decode_audio

    bomb = tmp_path / "bomb.flac"
    sf.write(str(bomb), np.zeros((192000 * 2, 8), dtype=np.float32), 192000, format="FLAC")
    assert bomb.stat().st_size < 200_000
    with pytest.raises(AudioDecodeError) as err:
        decode_audio(bomb)
    tally.record("bad_file", "8-channel 192 kHz FLAC", survived=1)
    assert "channels" in str(err.value) or "Hz" in str(err.value)


def test_decoding_stops_at_the_byte_budget_even_when_the_header_hides_the_length(tmp_path):
    from pipeline.errors import AudioDecodeError
    from pipeline.stages.audio import decode_audio

    big = tmp_path / "long.wav"
    sf.write(str(big), np.zeros(16000 * 120, dtype=np.float32), 16000, subtype="PCM_16")
    data = bytearray(big.read_bytes())
    data[4:8] = b"\xff\xff\xff\xff"  # streaming-style header: sizes unknown
    i = data.index(b"data")
    data[i + 4:i + 8] = b"\xff\xff\xff\xff"
    big.write_bytes(bytes(data))
    with pytest.raises(AudioDecodeError) as err:
        decode_audio(big, max_decoded_bytes=16000 * 60 * 4, max_duration_s=None)
    tally.record("bad_file", "bomb past the byte budget", survived=1)
    assert "MiB limit" in str(err.value)
    assert decode_audio(big, max_duration_s=None).duration_s == pytest.approx(120, abs=0.1)


def test_a_recording_swapped_for_a_link_is_not_decoded(tmp_path):
    from pipeline.errors import AudioDecodeError
    from pipeline.stages.audio import decode_audio

    target = _wav(tmp_path / "elsewhere.wav")
    link = tmp_path / "call.wav"
    os.symlink(target, link)
    with pytest.raises(AudioDecodeError):
        decode_audio(link)
    tally.record("bad_file", "link at decode time", survived=1)


# ---- 4. the caller salt -----------------------------------------------------------------------------------

def test_the_public_salt_is_refused_and_a_private_one_is_generated(tmp_path):
    from pipeline.config import load_settings
    from pipeline.salt import PUBLIC_DEV_SALT, UnsafeSalt, caller_salt, salt_file

    with pytest.raises(UnsafeSalt):
        caller_salt(load_settings(home=tmp_path, caller_salt=PUBLIC_DEV_SALT))
    assert caller_salt(load_settings(home=tmp_path, caller_salt=PUBLIC_DEV_SALT, dev_mode=True)) == PUBLIC_DEV_SALT
    first = caller_salt(load_settings(home=tmp_path))
    assert len(first) == 64 and first == caller_salt(load_settings(home=tmp_path)), "generated once, then reused"
    assert stat.S_IMODE(salt_file(tmp_path).stat().st_mode) == 0o600
    assert stat.S_IMODE(salt_file(tmp_path).parent.stat().st_mode) == 0o700
    assert caller_salt(load_settings(home=tmp_path / "other")) != first


# ---- 5. owner-only files and no raw text in the result cache --------------------------------------------

def test_files_created_after_loading_settings_are_owner_only(tmp_path):
    from pipeline.config import load_settings
    from pipeline.intake.quarantine import quarantine
    from pipeline.warehouse import db

    old = os.umask(0o022)
    try:
        load_settings(home=tmp_path)
        con = db.connect(tmp_path / "w.duckdb")
        con.close()
        quarantine(_rec(_wav(tmp_path / "a.wav")), "x", tmp_path / "quarantine")
        export = tmp_path / "exports"
        export.mkdir()
        (export / "calls.csv").write_text("x")
        made = [tmp_path / "w.duckdb", tmp_path / "quarantine", export, export / "calls.csv",
                *(tmp_path / "quarantine").rglob("*")]
    finally:
        os.umask(old)
    loose = [p for p in made if stat.S_IMODE(p.stat().st_mode) & 0o077]
    tally.record("privacy", "owner-only files", tried=len(made), survived=len(made) - len(loose))
    assert not loose, [(p, oct(p.stat().st_mode)) for p in loose]


def test_raw_text_is_not_persisted_by_the_stage_cache_when_not_kept(tmp_path):
    from prefect.cache_policies import NO_CACHE

    from flows.tasks import cached_if_kept, speakers_task, transcribe_task
    from pipeline.config import load_settings

    kept = load_settings(home=tmp_path)
    off = load_settings(home=tmp_path, keep_raw_text=False)
    for t in (transcribe_task, speakers_task):
        assert cached_if_kept(t, kept).persist_result is True
        assert cached_if_kept(t, off).persist_result is False and cached_if_kept(t, off).cache_policy is NO_CACHE
    tally.record("privacy", "no raw text in the result cache", survived=1)


def test_migration_masks_numbers_stored_in_clear_by_earlier_versions(tmp_path):
    from pipeline.warehouse import db

    con = db.connect(tmp_path / "w.duckdb")
    con.execute("INSERT INTO calls (call_id, recording_sha256, source_path, status, error) VALUES "
                f"('c1', 's1', 'ngày 1/in-{NUMBER}.wav', 'failed', 'in-{NUMBER}.wav: bad'), "
                "('c2', 's2', 'rec_20261103_082512_ext101.wav', 'done', NULL)")
    con.execute("DELETE FROM schema_migrations WHERE version = 6")
    con.close()
    con = db.connect(tmp_path / "w.duckdb")  # applies 006 again, as on a warehouse from before it
    rows = dict(con.execute("SELECT call_id, source_path FROM calls").fetchall())
    n = tally.count_numbers_in_db([NUMBER], con)
    con.close()
    tally.record("privacy", "paths stored before the fix", survived=int(n == 0), clear_text_numbers=n)
    assert n == 0
    assert rows == {"c1": "ngày 1/in-***111.wav", "c2": "rec_20261103_082512_ext101.wav"}


def test_hotline_run_leaves_files_still_being_written_for_the_next_run(tmp_path, monkeypatch):
    import flows.process_calls as pc
    import flows.reaper as reaper
    import pipeline.commands.run as run_cmd
    from pipeline.commands.run import run_folder
    from pipeline.config import load_settings

    monkeypatch.setattr(run_cmd, "prepare_prefect", lambda settings: None)  # keep this session's Prefect env

    seen = {}
    monkeypatch.setattr(pc, "run_process_calls", lambda *a, **k: seen.setdefault("settle_s", k["settle_s"]))
    monkeypatch.setattr(reaper, "temporary_server_api_url", lambda: None)
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    run_folder(tmp_path, load_settings())
    assert seen["settle_s"] == 5.0
    monkeypatch.setenv("HOTLINE_SETTLE_S", "0")
    seen.clear()
    run_folder(tmp_path, load_settings())
    assert seen["settle_s"] == 0.0
