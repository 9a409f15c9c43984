"""A FreePBX recordings folder with an Asterisk cdr-csv Master.csv, processed end to end (real models)."""

from __future__ import annotations

import csv
import hashlib
import io

from pipeline.config import load_settings
from tests.helpers import SAMPLES


# uniqueid → (FreePBX name, sample it is a copy of)
PAIRED = ("2026/11/30/in-101-0905123456-20261130-082512-1764491112.41.wav",
          "2026/11/03/rec_20261103_082512_ext101.wav")
NO_ROW = ("2026/11/30/out-0912345678-102-20261130-091033-1764494033.45.wav",
          "2026/11/24/rec_20261124_091033_ext102.wav")
NUMBERS = ("0905123456", "0912345678", "0977000111", "0988000222", "0966000333")


def freepbx_master_csv() -> str:
    """Rows in Asterisk's documented cdr-csv order, no header; uniqueid and userfield at the end."""
    def row(src, dst, chan, dstchan, start, answer, end, dur, bill, disp, uid):
        return ["", src, dst, "from-trunk", f'"" <{src}>', chan, dstchan, "Dial", "PJSIP/101,,tT", start, answer,
                end, dur, bill, disp, "DOCUMENTATION", uid, ""]

    rows = [
        row("0905123456", "101", "PJSIP/viettel-00000041", "PJSIP/101-00000042", "2026-11-30 08:25:10",
            "2026-11-30 08:25:12", "2026-11-30 08:25:34", 24, 22, "ANSWERED", "1764491112.41"),
        # unanswered and busy calls: no recording, nothing to report
        row("0977000111", "101", "PJSIP/viettel-00000043", "PJSIP/101-00000044", "2026-11-30 08:40:00", "",
            "2026-11-30 08:40:30", 30, 0, "NO ANSWER", "1764492000.43"),
        row("0966000333", "102", "PJSIP/viettel-00000046", "", "2026-11-30 08:45:00", "",
            "2026-11-30 08:45:01", 1, 0, "BUSY", "1764492300.46"),
        # answered, but its recording never arrived: reported
        row("0988000222", "102", "PJSIP/viettel-00000047", "PJSIP/102-00000048", "2026-11-30 08:50:00",
            "2026-11-30 08:50:03", "2026-11-30 08:51:00", 60, 57, "ANSWERED", "1764492600.47"),
    ]
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def build_freepbx_folder(root, seconds: float = 8.0):
    """The two calls cut to their first ``seconds`` (the test is about pairing, not about ASR)."""
    import soundfile as sf

    for name, sample in (PAIRED, NO_ROW):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        data, rate = sf.read(SAMPLES / sample, dtype="int16", always_2d=True)
        sf.write(root / name, data[: int(seconds * rate)], rate, subtype="PCM_16")
    (root / "Master.csv").write_text(freepbx_master_csv())
    return root


def _digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_freepbx_folder_end_to_end(tmp_path, prefect_harness, model_cache):
    import duckdb

    from flows.process_calls import process_calls

    src = build_freepbx_folder(tmp_path / "monitor")
    before = _digest(src)
    home = tmp_path / "home"
    summary = process_calls(str(src), load_settings(home=home, db_path=home / "calls.duckdb"))
    assert (summary.processed, summary.quarantined, summary.failed) == (2, 0, 0)
    con = duckdb.connect(str(home / "calls.duckdb"), read_only=True)
    rows = {r[0]: r[1:] for r in con.execute(
        "SELECT source_path, pbx_call_id, direction, operator_ext, caller_last3, started_at, status, transcript "
        "FROM calls ORDER BY source_path").fetchall()}
    from pipeline.logsafe import mask_numbers

    # FreePBX names hold the caller's number: the stored path has it masked (issue 13).
    assert set(rows) == {mask_numbers(PAIRED[0]), mask_numbers(NO_ROW[0])}
    assert not any("0905123456" in path for path in rows)
    paired = rows[mask_numbers(PAIRED[0])]
    assert paired[:4] == ("1764491112.41", "inbound", "101", "456")
    assert str(paired[4]) == "2026-11-30 08:25:10"  # the CDR's start, not the file name's time
    assert paired[5] == "done" and paired[6]
    lone = rows[mask_numbers(NO_ROW[0])]
    assert lone[:4] == ("1764494033.45", "outbound", "102", "678")  # from the file name alone
    assert str(lone[4]) == "2026-11-30 09:10:33"
    n_topics = con.execute("SELECT count(*) FROM call_topics WHERE assigned").fetchone()[0]
    assert n_topics >= 1
    # FreePBX file names hold the number, and source_path is the file name (as for any source): every
    # other column holds it only hashed.
    dump = " ".join(str(v) for row in con.execute("SELECT * EXCLUDE (source_path) FROM calls").fetchall() for v in row)
    assert not any(n in dump for n in NUMBERS)
    report = (home / "quarantine" / "call-log-problems.txt").read_text()
    assert "answered call 1764492600.47 has no recording" in report
    assert "no Master.csv row for uniqueid 1764494033.45" in report
    assert "1764492000.43" not in report and "1764492300.46" not in report  # unanswered: no recording expected
    assert _digest(src) == before
