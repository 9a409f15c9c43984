"""Issue 25 #6, #7, #9 without a server: a damaged or linked Master.csv, numbers and forged lines in logs and
the terminal, names and sizes a source must not get past. Each check records its figures for ``make faults``."""

from __future__ import annotations

import csv
import io
import logging
import os
import time

import pytest

from pipeline.intake import calllog_asterisk as ast
from pipeline.intake import sources
from pipeline.intake.ingest import scan_source
from pipeline.logsafe import mask_numbers, safe
from pipeline.salt import hash_caller
from tests.support import stores, tally

SALT = "test-salt"
NUMBERS = ("0905123456", "0912345678", "0977000222")


def _cdr(src, dst, start, uniqueid, disposition="ANSWERED"):
    return ["", src, dst, "from-trunk", f'"" <{src}>', "PJSIP/trunk-1", f"PJSIP/{dst}-2", "Dial", "PJSIP/101,30",
            start, start, start, 35, 30, disposition, "DOCUMENTATION", uniqueid, ""]


def _rows(*rows) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode()


def _folder(tmp_path):
    """A FreePBX day folder with three recordings (bytes only: the scan does not decode)."""
    src = tmp_path / "monitor"
    names = [f"2026/11/30/in-101-{NUMBERS[0]}-20261130-081502-100.1.wav",
             f"2026/11/30/in-102-{NUMBERS[1]}-20261130-091502-100.2.wav",
             f"2026/11/30/in-101-{NUMBERS[2]}-20261130-101502-100.3.wav"]
    for i, rel in enumerate(names):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(b"RIFF" + bytes([i]) * 100)
    return src, names


# ---- 6. a damaged or linked Master.csv ---------------------------------------------------------------

def test_a_crash_s_nul_bytes_in_master_csv_cost_no_row_and_stop_nothing(tmp_path, caplog):
    """200 KB of NUL where a crashed PBX was writing, then the rows Asterisk appended after its restart:
    before, ``_csv.Error: field larger than field limit`` stopped every run and poll (0 calls)."""
    src, names = _folder(tmp_path)
    (src / "Master.csv").write_bytes(
        _rows(_cdr(NUMBERS[0], "101", "2026-11-30 08:15:02", "100.1"))
        + b'"","0912345678","102","from-trunk","",' + b"\x00" * 200_000  # the row being written: cut off
        + _rows(_cdr(NUMBERS[1], "102", "2026-11-30 09:15:02", "100.2"),
                _cdr(NUMBERS[2], "101", "2026-11-30 10:15:02", "100.3"))
        + b'"x' + b"y" * 140_000 + b"\n"  # one line over the csv module's field limit
        + _rows(_cdr("0966000333", "101", "2026-11-30 11:00:00", "100.4", "NO ANSWER")))
    with caplog.at_level(logging.INFO):
        scan = scan_source(src, salt=SALT, call_log_format="auto")
    paired = {r.relpath: r.log.pbx_call_id for r in scan.recordings if r.log and r.log.caller_hash}
    callers = {r.log.pbx_call_id: r.log.caller_hash for r in scan.recordings}
    problems = "\n".join(scan.log_problems)
    clear = stores.count_in_bytes(NUMBERS, problems + caplog.text)
    ok = len(paired) == 3 and "NUL bytes" in problems and "field larger than field limit" in problems
    tally.record("call_log", "Master.csv: 200 KB of NUL, rows appended after, an over-long line", tried=3,
                 survived=3 * int(ok), rows_lost=3 - len(paired), clear_text_numbers=clear,
                 stores={"logs": clear})
    assert len(paired) == 3, scan.log_problems
    assert callers["100.2"] == hash_caller(NUMBERS[1], SALT)[0]  # from its row, after the NULs
    assert "Master.csv line 2: NUL bytes" in problems and "line 4: unreadable row (field larger" in problems
    assert clear == 0


def test_a_linked_master_csv_in_the_folder_is_not_followed(tmp_path, caplog):
    src, names = _folder(tmp_path)
    elsewhere = tmp_path / "secret.csv"
    elsewhere.write_bytes(_rows(_cdr(NUMBERS[0], "101", "2026-11-30 07:00:00", "100.1")))
    os.symlink(elsewhere, src / "Master.csv")
    with caplog.at_level(logging.WARNING):
        scan = scan_source(src, salt=SALT, call_log_format="auto")
    # The link's row (started 07:00) is not read: the recording keeps what its name says (08:15:02).
    started = {r.log.pbx_call_id: r.log.started_at for r in scan.recordings if r.log}
    ok = (len(started) == 3 and str(started["100.1"]) == "2026-11-30 08:15:02"
          and any("Master.csv: symbolic link, not followed" in p for p in scan.log_problems))
    tally.record("call_log", "linked Master.csv", survived=int(ok))
    assert ok, scan.log_problems
    with pytest.raises(Exception, match="cannot read call log"):
        ast.read_master_csv(src / "Master.csv")  # asked for by name, a link is an error, never followed
    with pytest.raises(Exception, match="cannot read call log"):
        ast.detect_format(src / "Master.csv")


def test_a_linked_calls_csv_in_the_folder_is_reported_and_the_recordings_still_scanned(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.wav").write_bytes(b"RIFF a")
    (tmp_path / "elsewhere.csv").write_text("call_id,file_name,caller_number\n1,a.wav,0905123456\n")
    os.symlink(tmp_path / "elsewhere.csv", src / "calls.csv")
    scan = scan_source(src, salt=SALT)  # before: CallLogError, the whole run stopped
    ok = [r.relpath for r in scan.recordings] == ["a.wav"] and scan.recordings[0].log is None
    tally.record("call_log", "linked calls.csv", survived=int(ok and bool(scan.log_problems)))
    assert ok and "calls.csv: symbolic link, not followed" in scan.log_problems[0]


# ---- 7. numbers and forged lines in logs and on the terminal ------------------------------------------

@pytest.mark.parametrize("written", ["0905_123_456", "(0262)3812345", "(0262) 381 2345", "0905.123.456",
                                     "+84 905 123 456", "0905-123-456"])
def test_every_common_way_of_writing_a_number_is_masked(written):
    masked = safe(f"pull: in-101-{written}-x.wav")
    clear = stores.count_in_bytes([written], masked)
    tally.record("privacy", f"masking {written}", survived=int(clear == 0), clear_text_numbers=clear,
                 stores={"logs": clear})
    assert clear == 0 and "***" in masked


def test_dates_times_and_uniqueids_stay_readable():
    assert safe("rec_20261103_082512_ext101.wav") == "rec_20261103_082512_ext101.wav"
    assert safe("0905123456_20261130.wav") == "***456_20261130.wav"
    assert safe("recording in 2026-11-30 10:15:02: no row") == "recording in 2026-11-30 10:15:02: no row"
    assert safe("answered call 1764492600.47 has no recording") == "answered call 1764492600.47 has no recording"
    assert safe("2026-11-30 0905123456") == "2026-11-30 ***456"


def test_landline_numbers_in_brackets_are_redacted_in_transcripts():
    from pipeline.analysis.pii import redact

    text = redact("số máy bàn của tôi là (0262)3812345 nhé").text
    assert "3812345" not in text and "[SĐT]" in text


def test_a_newline_in_a_freepbx_name_cannot_forge_a_log_line(tmp_path, caplog):
    """Asterisk mode: the "not a FreePBX recording name" problem and its log line carried the name raw."""
    src, _ = _folder(tmp_path)
    forged = f"x{NUMBERS[0]}.wav\n2026-12-01 09:00:00 INFO admin logged in.wav"
    (src / forged).write_bytes(b"RIFF forged")
    (src / "Master.csv").write_bytes(_rows(_cdr(NUMBERS[0], "101", "2026-11-30 08:15:02", "100.1")) +
                                      _rows(_cdr(NUMBERS[1], "102", "2026-11-30 09:15:02", f"100.9\n{NUMBERS[2]}")))
    with caplog.at_level(logging.INFO):
        scan = scan_source(src, salt=SALT, call_log_format="asterisk")
    lines = [r.getMessage() for r in caplog.records] + list(scan.log_problems)
    broken = [line for line in lines if "\n" in line or "\r" in line]
    clear = stores.count_in_bytes(NUMBERS, "\n".join(lines))
    tally.record("bad_name", "newline in a FreePBX name and a uniqueid (Asterisk mode)", tried=2,
                 survived=2 * int(not broken and clear == 0), clear_text_numbers=clear, stores={"logs": clear})
    assert not broken and clear == 0, lines
    assert any("not a FreePBX recording name" in line and "\\n2026-12-01 09:00:00 INFO" in line for line in lines)


def test_the_cli_table_keeps_one_line_per_call_and_masks_numbers():
    from pipeline.warehouse.queries import format_table

    rows = [{"call_id": "c" * 16, "source_path": f"in-{NUMBERS[0]}.wav\nFORGED 1 row", "status": "done",
             "duration_s": 1.0, "n_speakers": 2, "topics": "", "text": f"gọi lại {NUMBERS[1]}\rxong"}]
    table = format_table(rows)
    clear = stores.count_in_bytes(NUMBERS, table)
    tally.record("bad_name", "newline in a stored name, CLI table", survived=int(len(table.splitlines()) == 3),
                 clear_text_numbers=clear, stores={"logs": clear})
    assert len(table.splitlines()) == 3 and clear == 0 and "\\nFORGED" in table


class _Server(sources.LocalSource):
    """A remote folder as :func:`sources.pull` sees one (copied out, not read in place)."""

    def local_root(self):
        return None


def _old(path, age_s=600):
    t = time.time() - age_s
    os.utime(path, (t, t))


def test_a_download_that_changed_is_logged_without_the_number(tmp_path, caplog):
    """``pull: …in-101-0905123456-…wav changed during the download`` (whenever a call is still recording)."""
    server = tmp_path / "server"
    rel = f"2026/11/30/in-101-{NUMBERS[0]}-20261130-081502-100.1.wav"
    (server / rel).parent.mkdir(parents=True)
    (server / rel).write_bytes(b"RIFF" * 100)
    _old(server / rel)
    src = _Server(server)
    real = src.fetch

    def growing(relpath, dest, max_bytes=None):  # the PBX appends while we copy
        real(relpath, dest, max_bytes)
        with (server / relpath).open("ab") as fh:
            fh.write(b"more")

    src.fetch = growing
    staging = tmp_path / "staging"
    sources.pull(src, staging, key=SALT)
    with caplog.at_level(logging.WARNING):
        got = sources.pull(src, staging, key=SALT)
    clear = stores.count_in_bytes(NUMBERS, caplog.text)
    tally.record("privacy", "changed during the download", survived=int(got.rejected == [rel] and clear == 0),
                 clear_text_numbers=clear, stores={"logs": clear})
    assert got.rejected == [rel] and "changed during the download" in caplog.text and clear == 0


# ---- 9. what a source lists cannot stop the pull ------------------------------------------------------

class _Hostile(_Server):
    """A source listing names outside its folder and a file bigger than it says."""

    def __init__(self, root, extra, lies=None):
        super().__init__(root)
        self.extra, self.lies = extra, lies or {}

    def list_files(self):
        out = super().list_files()
        out.update(self.extra)
        out.update({rel: sources.RemoteFile(size, out[rel].mtime) for rel, size in self.lies.items()})
        return out

    def stat(self, relpath):
        got = super().stat(relpath)
        return sources.RemoteFile(self.lies[relpath], got.mtime) if relpath in self.lies and got else got


def test_bad_names_are_refused_and_recorded_and_the_good_files_pulled(tmp_path, caplog):
    server = tmp_path / "server"
    good = [f"2026/11/30/in-101-{NUMBERS[0]}-20261130-081502-100.1.wav", "2026/11/30/b.wav"]
    for rel in good:
        (server / rel).parent.mkdir(parents=True, exist_ok=True)
        (server / rel).write_bytes(os.urandom(500))
        _old(server / rel)
    old = int(time.time()) - 600
    bad = {f"../../{NUMBERS[1]}.wav": sources.RemoteFile(10, old), "/etc/passwd.wav": sources.RemoteFile(10, old),
           f"2026/../../../x-{NUMBERS[2]}.wav": sources.RemoteFile(10, old)}
    src = _Hostile(server, bad)
    staging = tmp_path / "home" / "staging" / "pbx-1"
    with caplog.at_level(logging.WARNING):
        first = sources.pull(src, staging, key=SALT)  # before: SourceError on the first bad name, nothing pulled
        got = sources.pull(src, staging, key=SALT)
        again = sources.pull(src, staging, key=SALT)
    outside = [p for p in tmp_path.rglob("*.wav") if not p.is_relative_to(server) and not p.is_relative_to(staging)]
    clear = stores.count_in_bytes(NUMBERS, caplog.text + "\n".join(first.refused))
    ok = sorted(got.new_audio) == sorted(good) and len(first.refused) == 3 and not outside
    tally.record("sftp", "names outside the folder", tried=5, survived=5 * int(ok), rows_lost=2 - len(got.new_audio),
                 clear_text_numbers=clear, stores={"logs": clear})
    assert ok, (got, outside)
    assert got.refused == again.refused == [] and caplog.text.count("refused") == 3  # said once, not every pull
    assert clear == 0


def test_a_recording_over_the_cap_is_refused_from_the_listing_and_while_streaming(tmp_path, caplog):
    server = tmp_path / "server"
    server.mkdir()
    for name, size in (("big.wav", 3 << 20), ("liar.wav", 3 << 20), ("ok.wav", 1000)):
        with (server / name).open("wb") as fh:
            fh.truncate(size)  # sparse: no disk
        _old(server / name)
    src = _Hostile(server, {}, lies={"liar.wav": 1000})  # says 1000 bytes, sends 3 MiB
    staging = tmp_path / "staging"
    fetched = []
    real = src.fetch

    def counting(relpath, dest, max_bytes=None):
        try:
            real(relpath, dest, max_bytes)
        finally:
            fetched.append((relpath, dest.stat().st_size if dest.exists() else 0))

    src.fetch = counting
    with caplog.at_level(logging.WARNING):
        sources.pull(src, staging, key=SALT, max_bytes=1 << 20)
        got = sources.pull(src, staging, key=SALT, max_bytes=1 << 20)
        again = sources.pull(src, staging, key=SALT, max_bytes=1 << 20)
    refused = "\n".join(got.refused)
    ok = got.new_audio == ["ok.wav"] and "big.wav" in refused and "liar.wav" in refused
    tally.record("sftp", "size cap: listed, and a server lying about the size", tried=2, survived=2 * int(ok))
    assert ok, got
    assert "big.wav" not in [r for r, _ in fetched]  # refused from the listing: never downloaded
    assert max(size for r, size in fetched if r == "liar.wav") <= (1 << 20) + (1 << 20)  # stopped at the cap
    assert not list((staging / ".partial").iterdir()) and not (staging / "liar.wav").exists()
    assert again.refused == [] and [r for r, _ in fetched].count("liar.wav") == 1  # not tried again unchanged


def test_quarantine_does_not_copy_a_recording_over_the_cap(tmp_path):
    from pipeline.intake.quarantine import quarantine
    from pipeline.records import Recording

    big = tmp_path / "big.wav"
    with big.open("wb") as fh:
        fh.truncate(3 << 20)
    rec = Recording(path=big, relpath="big.wav", sha256="a" * 64, size_bytes=3 << 20, log=None)
    copy = quarantine(rec, "not decodable", tmp_path / "quarantine", max_bytes=1 << 20)
    note = (copy.parent / "error.txt").read_text()
    tally.record("bad_file", "quarantine of a file over the cap", survived=int(not copy.exists()))
    assert not copy.exists() and "not copied: more than 1 MiB" in note


def test_staged_names_hold_no_number_and_still_pair(tmp_path):
    """An SFTP pull stages a recording under a name without the caller's number; the call log still pairs it
    (by uniqueid for FreePBX, by the name it lists for calls.csv) and the caller hash is the number's."""
    from pipeline.intake.ingest import stage_name

    src, names = _folder(tmp_path)
    staged = tmp_path / "staged"
    for rel in names:
        (staged / stage_name(rel, SALT)).parent.mkdir(parents=True, exist_ok=True)
        os.replace(src / rel, staged / stage_name(rel, SALT))
    (staged / "calls.csv").write_text("call_id,caller_number,file_name\n" + "".join(
        f"P{i},{NUMBERS[i]},{rel}\n" for i, rel in enumerate(names)))
    scan = scan_source(staged, salt=SALT, call_log_format="hotline")
    got = {r.log.pbx_call_id: r.log.caller_hash for r in scan.recordings if r.log}
    assert got == {f"P{i}": hash_caller(n, SALT)[0] for i, n in enumerate(NUMBERS)} and not scan.log_problems
    (staged / "calls.csv").unlink()
    freepbx = scan_source(staged, salt=SALT, call_log_format="asterisk")  # no call log: the name alone
    assert sorted(r.log.caller_hash for r in freepbx.recordings) == sorted(hash_caller(n, SALT)[0] for n in NUMBERS)
    names_now = "\n".join(p.relative_to(staged).as_posix() for p in staged.rglob("*"))
    assert stores.count_in_bytes(NUMBERS, names_now) == 0
    assert mask_numbers(stage_name(names[0], SALT)) == "2026/11/30/in-101-***456-***001.wav"
