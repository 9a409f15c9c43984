"""The main job end to end: a real Prefect flow run, real models, a real DuckDB file."""

from __future__ import annotations

import csv
import hashlib
import re
import shutil

import pytest

from pipeline.config import load_settings
from tests.helpers import DATA, SAMPLES


# A stereo μ-law call (operator left) and a mono 16 kHz call: both speaker paths.
PICK = ["2026/11/07/rec_20261107_141730_ext102.wav", "2026/11/24/rec_20261124_091033_ext102.wav"]
BAD = ["empty.wav", "not_audio.mp3", "random.flac"]
VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹàáèéìíòóùúýõã]")


def _tree_digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    src = tmp_path_factory.mktemp("pbx export")
    rows = list(csv.DictReader((SAMPLES / "calls.csv").open()))
    with (src / "calls.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=rows[0].keys())
        writer.writeheader()
        for row in rows:
            if row["file_name"] in PICK:
                writer.writerow(row)
    for rel in PICK:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / rel, src / rel)
    (src / "bad đĩa").mkdir()
    for name in BAD:
        shutil.copy(DATA / "bad" / name, src / "bad đĩa" / name)
    return src


@pytest.fixture(scope="module")
def first_run(source, tmp_path_factory, prefect_harness, model_cache):
    from flows.process_calls import process_calls

    home = tmp_path_factory.mktemp("home")
    before = _tree_digest(source)
    settings = load_settings(home=home, db_path=home / "calls.duckdb")
    summary = process_calls(str(source), settings)
    return summary, home, before, settings


def _con(home):
    import duckdb

    return duckdb.connect(str(home / "calls.duckdb"), read_only=True)


def test_every_good_call_lands_with_vietnamese_text_and_topics(first_run):
    summary, home, _, _ = first_run
    assert (summary.processed, summary.quarantined, summary.failed) == (2, 3, 0)
    con = _con(home)
    done = con.execute("SELECT call_id, channels, duration_s, started_at, caller_last3 FROM calls "
                       "WHERE status = 'done' ORDER BY source_path").fetchall()
    assert len(done) == 2
    assert [d[1] for d in done] == [2, 1]
    assert all(d[2] > 15 and d[3] is not None and len(d[4]) == 3 for d in done)
    for call_id, *_ in done:
        texts = [r[0] for r in con.execute("SELECT text FROM segments WHERE call_id = ?", [call_id]).fetchall()]
        assert texts and VIETNAMESE.search(" ".join(texts).lower()), texts
        n_topics = con.execute("SELECT count(*) FROM call_topics WHERE call_id = ? AND assigned", [call_id]).fetchone()[0]
        assert n_topics >= 1
    roles = {r[0] for r in con.execute("SELECT DISTINCT role FROM segments").fetchall()}
    assert {"operator", "citizen"} <= roles
    run = con.execute("SELECT asr_model, asr_fingerprint, n_processed, status FROM runs").fetchone()
    from models.registry import DEFAULT, fingerprint_of

    assert run[0] == DEFAULT and run[1] == fingerprint_of(DEFAULT) and run[2] == 2 and run[3] == "done"
    stages = {r[0] for r in con.execute("SELECT DISTINCT stage FROM stage_timings").fetchall()}
    assert stages == {"decode", "transcribe", "speakers", "analyse", "load"}


def test_bad_files_are_quarantined_with_their_error_and_the_source_is_untouched(first_run, source):
    summary, home, before, _ = first_run
    con = _con(home)
    rows = con.execute("SELECT source_path, error, quarantine_path FROM calls WHERE status = 'quarantined' "
                       "ORDER BY source_path").fetchall()
    assert [r[0] for r in rows] == [f"bad đĩa/{n}" for n in sorted(BAD)]
    assert all(r[1] and (home / "quarantine").as_posix() in r[2] for r in rows)
    assert all((home / "quarantine" / p.split("/")[-2] / "error.txt").is_file() for _, _, p in rows)
    assert _tree_digest(source) == before


def test_caller_numbers_never_reach_the_database_in_clear(first_run):
    _, home, _, _ = first_run
    numbers = [r["caller_number"] for r in csv.DictReader((SAMPLES / "calls.csv").open())]
    con = _con(home)
    dump = " ".join(str(v) for row in con.execute("SELECT * FROM calls").fetchall() for v in row)
    assert not any(n in dump for n in numbers)


def test_rerun_changes_no_counts(first_run, source):
    from flows.process_calls import process_calls
    from pipeline.warehouse.load import table_counts

    summary, home, _, settings = first_run
    con = _con(home)
    tables = ("calls", "segments", "call_topics", "call_metrics", "words")
    before = table_counts(con, tables)
    con.close()
    again = process_calls(str(source), settings)
    assert (again.processed, again.skipped, again.found) == (0, 5, 5)
    con = _con(home)
    assert table_counts(con, tables) == before
    assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 2
