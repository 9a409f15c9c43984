"""Asterisk cdr-csv Master.csv + FreePBX recording names, paired by uniqueid."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest

from pipeline.errors import CallLogError
from pipeline.intake import calllog_asterisk as ast
from pipeline.intake.ingest import scan_source
from pipeline.salt import hash_caller

SALT = "test-salt"


def cdr(src, dst, channel, dstchannel, start, disposition, uniqueid, billsec=30, answer=None):
    """One Master.csv row in Asterisk's documented column order (cdr_csv with loguniqueid/loguserfield)."""
    return ["", src, dst, "from-internal", f'"Citizen" <{src}>', channel, dstchannel, "Dial", "PJSIP/101,30",
            start, answer or (start if disposition == "ANSWERED" else ""), start, billsec + 5, billsec, disposition,
            "DOCUMENTATION", uniqueid, ""]


def write_master(path, rows):
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue())


def test_recording_names_parse_into_kind_parties_time_and_uniqueid():
    n = ast.parse_recording_name("2026/11/30/in-101-0905123456-20261130-081502-1764490502.11.wav")
    assert (n.kind, n.to, n.frm, n.uniqueid, n.direction) == ("in", "101", "0905123456", "1764490502.11", "inbound")
    assert n.started_at == datetime(2026, 11, 30, 8, 15, 2)
    assert ast.parse_recording_name("out-0912345678-102-20261130-091000-1764494000.12.mp3").direction == "outbound"
    assert ast.parse_recording_name("exten-102-101-20261130-091000-1764494000.13.wav").direction == "internal"
    assert ast.parse_recording_name("q-600-0987654321-20261130-101500-1764497700.14.wav").direction == "inbound"
    assert ast.parse_recording_name("rec_20261103_082512_ext101.wav") is None
    assert ast.parse_recording_name("in-101-0905-20261399-081502-17.wav") is None  # month 13


def test_detects_master_csv_and_our_own_header(tmp_path):
    master = tmp_path / "Master.csv"
    write_master(master, [cdr("0905123456", "101", "PJSIP/trunk-1", "PJSIP/101-2", "2026-11-30 08:15:02",
                              "ANSWERED", "1.1")])
    ours = tmp_path / "calls.csv"
    ours.write_text("call_id,start_time,caller_number,operator_ext,direction,file_name\n")
    assert ast.detect_format(master) == "asterisk"
    assert ast.detect_format(ours) == "hotline"
    assert ast.choose(tmp_path, None, "auto") == (ours, "hotline")  # calls.csv first, as before
    ours.unlink()
    assert ast.choose(tmp_path, None, "auto") == (master, "asterisk")
    master.unlink()
    assert ast.choose(tmp_path, None, "auto") == (None, "asterisk")  # FreePBX names alone still say something
    with pytest.raises(CallLogError, match="unknown call-log format"):
        ast.choose(tmp_path, None, "cisco")


def test_pairing_by_uniqueid_reports_what_does_not_pair(tmp_path):
    master = tmp_path / "Master.csv"
    rows = [
        cdr("0905123456", "101", "PJSIP/viettel-0001", "PJSIP/101-0002", "2026-11-30 08:15:02", "ANSWERED", "100.1"),
        # a ring group: the same call rang 102 first (no answer), then 103 answered
        cdr("0987654321", "600", "PJSIP/viettel-0003", "PJSIP/102-0004", "2026-11-30 09:00:00", "NO ANSWER",
            "100.2", billsec=0),
        cdr("0987654321", "600", "PJSIP/viettel-0003", "PJSIP/103-0005", "2026-11-30 09:00:00", "ANSWERED", "100.2"),
        cdr("102", "0912345678", "PJSIP/102-0006", "PJSIP/viettel-0007", "2026-11-30 10:00:00", "ANSWERED", "100.3"),
        cdr("0977000111", "101", "PJSIP/viettel-0008", "", "2026-11-30 11:00:00", "NO ANSWER", "100.4", billsec=0),
        cdr("0977000222", "101", "PJSIP/viettel-0009", "PJSIP/101-0010", "2026-11-30 11:05:00", "ANSWERED", "100.5"),
        ["too", "few", "columns"],
    ]
    write_master(master, rows)
    recs = ["2026/11/30/in-101-0905123456-20261130-081502-100.1.wav",
            "2026/11/30/q-600-0987654321-20261130-090000-100.2.wav",
            "2026/11/30/out-0912345678-102-20261130-100000-100.3.wav",
            "2026/11/30/in-101-0966555444-20261130-120000-100.9.wav",  # no row
            "odd name.wav"]
    p = ast.pair(master, recs, salt=SALT)
    e1, e2, e3, e9 = (p.entries[r] for r in recs[:4])
    assert (e1.pbx_call_id, e1.direction, e1.operator_ext) == ("100.1", "inbound", "101")
    assert (e1.caller_hash, e1.caller_last3) == hash_caller("0905123456", SALT)
    assert e1.started_at == datetime(2026, 11, 30, 8, 15, 2)
    assert (e2.operator_ext, e2.caller_last3) == ("103", "321")  # the answering leg of the ring group
    # Outbound: the operator is the calling extension, the citizen the number dialled.
    assert (e3.direction, e3.operator_ext, e3.caller_last3) == ("outbound", "102", "678")
    # A recording with no row keeps what its name says.
    assert (e9.pbx_call_id, e9.direction, e9.operator_ext, e9.caller_last3) == ("100.9", "inbound", "101", "444")
    assert sorted(p.unpaired_recordings) == ["2026/11/30/in-101-0966555444-20261130-120000-100.9.wav", "odd name.wav"]
    assert p.unpaired_answered == ["100.5"] and p.unanswered == 1
    text = "\n".join(p.problems)
    assert "line 7: 3 columns" in text and "answered call 100.5 has no recording" in text
    assert "recording in 2026-11-30 12:00:00: no Master.csv row for uniqueid 100.9" in text
    assert not any(n in text for n in ("0977000222", "0905123456", "0966555444"))  # no caller number in clear


def test_scan_source_pairs_a_freepbx_folder(tmp_path):
    day = tmp_path / "2026" / "11" / "30"
    day.mkdir(parents=True)
    (day / "in-101-0905123456-20261130-081502-100.1.wav").write_bytes(b"RIFF fake one")
    (day / "in-101-0905000000-20261130-081900-100.7.wav").write_bytes(b"RIFF fake two")
    write_master(tmp_path / "Master.csv", [cdr("0905123456", "101", "PJSIP/t-1", "PJSIP/104-2",
                                               "2026-11-30 08:15:02", "ANSWERED", "100.1")])
    for fmt in ("auto", "asterisk"):
        scan = scan_source(tmp_path, salt=SALT, call_log_format=fmt)
        logs = {r.relpath: r.log for r in scan.recordings}
        assert logs["2026/11/30/in-101-0905123456-20261130-081502-100.1.wav"].operator_ext == "104"
        assert logs["2026/11/30/in-101-0905000000-20261130-081900-100.7.wav"].pbx_call_id == "100.7"
        assert any("no Master.csv row for uniqueid 100.7" in p for p in scan.log_problems)
    # Forced to our own format, Master.csv (no header) is not a call log we can read.
    with pytest.raises(CallLogError):
        scan_source(tmp_path, calls_csv=tmp_path / "Master.csv", salt=SALT, call_log_format="hotline")


def test_without_a_call_log_freepbx_names_still_give_the_call_and_nothing_is_reported(tmp_path):
    (tmp_path / "in-101-0905123456-20261130-081502-100.1.wav").write_bytes(b"RIFF one")
    (tmp_path / "rec_20261103_082512_ext101.wav").write_bytes(b"RIFF two")
    scan = scan_source(tmp_path, salt=SALT, call_log_format="auto")
    logs = {r.relpath: r.log for r in scan.recordings}
    assert logs["rec_20261103_082512_ext101.wav"] is None
    e = logs["in-101-0905123456-20261130-081502-100.1.wav"]
    assert (e.pbx_call_id, e.direction, e.operator_ext, e.caller_last3) == ("100.1", "inbound", "101", "456")
    assert scan.log_problems == ()
