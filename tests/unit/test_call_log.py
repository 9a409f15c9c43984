"""Call logs with missing, extra, duplicated, malformed and unsafe rows (property-based)."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.intake.ingest import read_call_log
from tests.support import tally

HEADER = ["call_id", "start_time", "caller_number", "operator_ext", "direction", "file_name"]
NAMES = st.text(alphabet="abcđêôơư xyz_-", min_size=1, max_size=12).map(lambda s: s.strip() or "x")
UNSAFE = st.sampled_from(["../secret.wav", "../../etc/passwd", "/abs/call.wav", "C:/pbx/call.wav", "a/../../b.wav",
                          "..\\..\\win.wav"])


@st.composite
def call_logs(draw):
    """(rows as cell lists, the file names a correct reader keeps, number of rows it must skip)."""
    rows, kept, skipped = [], {}, 0
    for i in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["good", "good", "duplicate", "bad_time", "extra", "missing", "unsafe", "no_file"]))
        number = f"09{draw(st.integers(10_000_000, 99_999_999))}"
        name = f"{draw(NAMES)}.wav"
        row = [str(i), "2026-11-01 08:00:00", number, "101", "inbound", name]
        if kind == "duplicate" and kept:
            row[5] = draw(st.sampled_from(sorted(kept)))
        elif kind == "bad_time":
            row[1] = draw(st.sampled_from(["yesterday", "2026-13-45 99:00", "8h sáng"]))
        elif kind == "extra":
            row.append("surplus")
        elif kind == "missing":
            row = row[: draw(st.integers(1, 5))]
        elif kind == "unsafe":
            row[5] = draw(UNSAFE)
        elif kind == "no_file":
            row[5] = "  "
        good = kind in ("good", "duplicate") and row[5] not in kept
        if good:
            kept[row[5]] = str(i)
        else:
            skipped += 1
        rows.append(row)
    return rows, kept, skipped


def _write(path, rows):
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADER)
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(log=call_logs())
def test_every_row_is_kept_once_or_reported_and_unsafe_paths_never_pass(tmp_path, log):
    rows, kept, skipped = log
    path = tmp_path / "calls.csv"
    _write(path, rows)
    entries, problems = read_call_log(path, salt="s")
    numbers = [r[2] for r in rows if len(r) > 2]
    lost = len(rows) - len(entries) - len(problems)
    clear = sum(1 for n in numbers for p in problems if n in p)
    ok = lost == 0 and {name: e.pbx_call_id for name, e in entries.items()} == kept
    tally.record("fuzz_row", "call-log rows", tried=len(rows), survived=len(rows) if ok else 0,
                 rows_lost=max(lost, 0), rows_duplicated=max(-lost, 0), clear_text_numbers=clear)
    assert {name: e.pbx_call_id for name, e in entries.items()} == kept
    assert len(problems) == skipped
    for name in entries:
        assert not name.startswith("/") and ".." not in name.split("/")
    numbers = [r[2] for r in rows if len(r) > 2]
    assert not any(n in p for n in numbers for p in problems), "caller numbers never reach the report"
    for entry in entries.values():
        assert entry.caller_hash and len(entry.caller_last3) == 3


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_reader(tmp_path, junk):
    from pipeline.errors import CallLogError

    path = tmp_path / "calls.csv"
    path.write_bytes(b"file_name,caller\n" + junk)
    try:
        entries, problems = read_call_log(path, salt="s")
    except CallLogError:
        return  # not UTF-8: one clear error
    assert all(".." not in name.split("/") for name in entries)
