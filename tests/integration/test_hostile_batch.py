"""Issue 13 at the flow level: one batch of hostile inputs, ``watch`` surviving a failed
batch, and a property-based fuzz of file names. Model-free (every recording here fails
before transcription, or the test stops before it)."""

from __future__ import annotations

import logging
import os
import shutil

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import load_settings
from tests.helpers import DATA
from tests.support import stores, tally

NUMBER = "0912000111"


def test_a_batch_of_hostile_inputs_runs_to_the_end_and_records_each_problem(tmp_path, prefect_harness, monkeypatch,
                                                                              caplog):
    from flows.process_calls import process_calls
    from pipeline.intake import ingest

    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(DATA / "bad" / "empty.wav", src / f"{NUMBER}_empty.wav")
    shutil.copy(DATA / "bad" / "random.flac", src / f"{NUMBER}_corrupt.flac")
    shutil.copy(DATA / "bad" / "not_audio.mp3", src / "locked.mp3")
    (tmp_path / "environ").write_bytes(b"HOTLINE_CALLER_SALT=s3cret\n")
    os.symlink(tmp_path / "environ", src / "env.wav")
    (src / "calls.csv").write_text(
        "call_id,caller_number,file_name,operator_ext\n"
        f"P1,{NUMBER},{NUMBER}_empty.wav,101\n"
        f"P2,{NUMBER},{NUMBER}_corrupt.flac,\"{'x' * 200_000}\"\n"
        f"P3,{NUMBER},{NUMBER}_empty.wav,101\n"
        f"P4,{NUMBER},{NUMBER}_gone.wav,101\n", encoding="utf-8")
    real = ingest.hash_file
    monkeypatch.setattr(ingest, "hash_file", lambda p, *a, **k: (_ for _ in ()).throw(
        PermissionError(13, "Permission denied", str(p))) if p.name == "locked.mp3" else real(p, *a, **k))
    home = tmp_path / "home"
    with caplog.at_level(logging.INFO):
        summary = process_calls(str(src), load_settings(home=home, db_path=home / "w.duckdb"))
    con = duckdb.connect(str(home / "w.duckdb"), read_only=True)
    calls = con.execute("SELECT source_path, status FROM calls ORDER BY 1").fetchall()
    rows_as_calls = con.execute("SELECT count(*) FROM calls WHERE pbx_call_id IS NOT NULL").fetchone()[0]
    problems = con.execute("SELECT kind, ref, reason FROM run_problems WHERE run_id = ?", [summary.run_id]).fetchall()
    con.close()
    found = stores.scan([NUMBER], home=home, logs=caplog.text)  # every store, Prefect's database included
    clear = found.total
    leaked = int(any(b"s3cret" in p.read_bytes() for p in (home / "quarantine").rglob("*") if p.is_file()))
    kinds = sorted(k for k, _, _ in problems)
    # 4 files and 4 call-log rows: each file is a call or a recorded problem, and so is each row
    accounted = len(calls) + kinds.count("file") + rows_as_calls + kinds.count("call_log")
    tally.record("batch", "hostile batch: links, unreadable, corrupt, huge cell, repeat row, missing file", tried=8,
                 survived=8 if accounted >= 8 and not leaked else 0, rows_lost=max(0, 8 - accounted),
                 clear_text_numbers=clear + leaked, stores=found.by_store())
    assert calls == [("***111_corrupt.flac", "quarantined"), ("***111_empty.wav", "quarantined")]
    assert accounted == 8 and rows_as_calls == 1
    assert kinds.count("file") == 2, problems  # the link and the unreadable file
    assert kinds.count("call_log") == 3, problems  # the huge cell, the repeated row, the missing file
    assert clear == 0 and not leaked, stores.describe(found)
    assert summary.problems and len(summary.problems) == len(problems)


def test_watch_survives_a_failed_batch_and_tries_again(tmp_path, monkeypatch, caplog):
    import flows.watch as watch
    from pipeline.runs.book import RunSummary

    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(DATA / "bad" / "random.flac", src / "a.flac")
    calls = []

    def flaky(*args, **kwargs):
        calls.append(kwargs["only_keys"])
        if len(calls) == 1:
            raise RuntimeError("Prefect server went away")
        return RunSummary(run_id="r", db_path="x", processed=1)

    monkeypatch.setattr(watch, "run_process_calls", flaky)
    with caplog.at_level(logging.ERROR):
        processed = watch.watch_source(src, load_settings(home=tmp_path / "home"), interval_s=0.05, settle_s=0,
                                       max_polls=4)
    tally.record("batch", "watch after a failed batch", survived=int(processed == 1))
    from pipeline.intake.ingest import name_key
    from pipeline.salt import caller_salt

    key = name_key("a.flac", caller_salt(load_settings(home=tmp_path / "home")))  # the flow is given keyed ids, never file names
    assert processed == 1 and calls == [[key], [key]]
    assert "still watching" in caplog.text


_NAME_CHARS = st.sampled_from(list("abcđêôơư xyz_-.()") + ["\n", "\r", "\t", "\u2028", "\x1b", "0", "9", "+"])


@st.composite
def hostile_names(draw):
    parts = [draw(st.text(alphabet=_NAME_CHARS, max_size=8)), NUMBER if draw(st.booleans()) else "",
             draw(st.text(alphabet=_NAME_CHARS, max_size=8))]
    name = "".join(parts).replace("/", "_").strip(".") or "x"
    if name.startswith("."):
        name = "_" + name
    return name + draw(st.sampled_from([".wav", ".mp3", ".WAV", ".flac"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(hostile_names(), min_size=1, max_size=4, unique=True))
def test_fuzzed_file_names_are_found_logged_on_one_line_and_found_again(tmp_path_factory, names):
    from pipeline.intake.ingest import locate, scan_source
    from pipeline.logsafe import mask_numbers, safe

    src = tmp_path_factory.mktemp("fuzz")
    for i, name in enumerate(names):
        (src / name).write_bytes(b"RIFF" + bytes([i]) * 40)
    scan = scan_source(src, salt="k")
    found = sorted(r.relpath for r in scan.recordings)
    lines = [safe(r.relpath) for r in scan.recordings]
    clear = tally.count_numbers([NUMBER], *lines)
    broken = sum(1 for line in lines if any(c in line for c in "\n\r\u2028\x1b"))
    again = sum(1 for r in scan.recordings if locate(src, mask_numbers(r.relpath), r.sha256) == r.path)
    ok = found == sorted(names) and clear == 0 and broken == 0 and again == len(names)
    tally.record("fuzz_name", "file names", tried=len(names), survived=len(names) if ok else 0,
                 rows_lost=len(names) - len(found), clear_text_numbers=clear)
    assert found == sorted(names)
    assert clear == 0 and broken == 0
    assert again == len(names)
