import shutil

import pytest

from pipeline.errors import CallLogError
from pipeline.intake.ingest import dedupe, find_audio_files, read_call_log, scan_source
from pipeline.salt import hash_caller

from tests.helpers import DATA, SAMPLES


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_scan_finds_audio_recursively_and_pairs_call_log():
    scan = scan_source(SAMPLES, salt="s")
    assert len(scan.recordings) == 5
    assert all(r.log is not None for r in scan.recordings), "every sample is in samples/calls.csv"
    assert {r.path.suffix for r in scan.recordings} >= {".wav", ".mp3"}
    assert len({r.sha256 for r in scan.recordings}) == 5
    assert scan.unmatched_log_rows == 0


def test_caller_number_is_only_kept_as_salted_hash_and_last_three_digits():
    scan = scan_source(SAMPLES, salt="s")
    raw = (SAMPLES / "calls.csv").read_text()
    numbers = [line.split(",")[2] for line in raw.splitlines()[1:]]
    for rec in scan.recordings:
        fields = [str(v) for v in vars(rec.log).values()]
        assert not any(n in f for n in numbers for f in fields)
        assert len(rec.log.caller_hash) == 64 and len(rec.log.caller_last3) == 3
    # Same number in national and international form hashes the same; the salt matters.
    assert hash_caller("0905 123 456", "a") == hash_caller("+84905123456", "a")
    assert hash_caller("0905123456", "a")[0] != hash_caller("0905123456", "b")[0]


def test_call_log_rows_outside_source_malformed_or_duplicated_are_skipped(tmp_path):
    log = _write(tmp_path / "calls.csv", "\n".join([
        "call_id,start_time,caller_number,operator_ext,direction,file_name",
        "1,2026-11-01 08:00:00,0905000111,101,inbound,a.wav",
        "2,2026-11-01 08:05:00,0905000222,101,inbound,../../etc/passwd",
        "3,2026-11-01 08:06:00,0905000333,101,inbound,/abs/b.wav",
        "4,not a time,0905000444,101,inbound,c.wav",
        "5,2026-11-01 08:07:00,0905000555,101,inbound,a.wav",
        "6,2026-11-01 08:08:00,0905000666,101,inbound,d.wav,surplus",
    ]))
    entries, problems = read_call_log(log, salt="s")
    assert list(entries) == ["a.wav"]
    assert entries["a.wav"].pbx_call_id == "1"
    assert len(problems) == 5
    assert any("outside the source folder" in p for p in problems)
    assert not any("0905" in p for p in problems), "problems never carry caller numbers"


def test_call_log_without_file_column_is_a_clear_error(tmp_path):
    log = _write(tmp_path / "calls.csv", "id,caller\n1,0905\n")
    with pytest.raises(CallLogError, match="no file-name column"):
        read_call_log(log, salt="s")


def test_same_bytes_twice_are_one_recording(tmp_path):
    shutil.copy(DATA / "short_vi.wav", tmp_path / "a.wav")
    (tmp_path / "sub").mkdir()
    shutil.copy(DATA / "short_vi.wav", tmp_path / "sub" / "copy of a.WAV")
    (tmp_path / ".hidden.wav").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not audio")
    scan = scan_source(tmp_path, salt="s")
    assert [r.relpath for r in scan.recordings] == ["a.wav", "sub/copy of a.WAV"]
    assert len(dedupe(scan.recordings)) == 1


def test_files_still_being_written_are_left_for_later(tmp_path):
    shutil.copy(DATA / "short_vi.wav", tmp_path / "fresh.wav")
    assert find_audio_files(tmp_path, settle_s=60) == []
    assert len(find_audio_files(tmp_path)) == 1


def test_a_file_that_changed_since_the_last_poll_is_left_for_later(tmp_path):
    from pipeline.intake.ingest import snapshot

    shutil.copy(DATA / "short_vi.wav", tmp_path / "done.wav")
    (tmp_path / "growing.wav").write_bytes((DATA / "short_vi.wav").read_bytes()[:1000])
    first = snapshot(tmp_path)
    with open(tmp_path / "growing.wav", "ab") as fh:  # the PBX is still writing it
        fh.write(b"\0" * 1000)
    ready = find_audio_files(tmp_path, previous=first)
    assert [p.name for p in ready] == ["done.wav"]
    assert [p.name for p in find_audio_files(tmp_path, previous=snapshot(tmp_path))] == ["done.wav", "growing.wav"]


def test_scan_can_be_restricted_to_named_files(tmp_path):
    for name in ("a.wav", "b.wav"):
        shutil.copy(DATA / "short_vi.wav", tmp_path / name)
    assert [r.relpath for r in scan_source(tmp_path, salt="s", only=["b.wav"]).recordings] == ["b.wav"]


def test_unicode_and_spaces_in_names_match_the_call_log_in_either_normal_form(tmp_path):
    import unicodedata

    name = "Buôn Ma Thuột/cuộc gọi số 1.wav"
    disk = unicodedata.normalize("NFD", name)  # as a Mac writes it
    (tmp_path / disk).parent.mkdir(parents=True)
    shutil.copy(DATA / "short_vi.wav", tmp_path / disk)
    _write(tmp_path / "calls.csv", "call_id,start_time,caller_number,file_name\n"
                                   f"7,2026-11-01 08:00:00,0905000777,{unicodedata.normalize('NFC', name)}\n")
    scan = scan_source(tmp_path, salt="s")
    assert len(scan.recordings) == 1 and scan.unmatched_log_rows == 0
    assert scan.recordings[0].log is not None and scan.recordings[0].log.pbx_call_id == "7"
