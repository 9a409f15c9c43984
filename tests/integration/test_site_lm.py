"""`hotline lm build` on a demo warehouse (issue 27 #3): the site's rebuilt language model is the one the next
backfill decodes with, and every call and run it touches records its fingerprint."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from datetime import date, datetime

import duckdb
import pytest

from models import language_model
from pipeline.config import load_settings
from tests.helpers import REPO, SAMPLES

PICK = ("2026/11/03/rec_20261103_082512_ext101.wav", "2026/11/17/rec_20261117_082507_ext101.wav")
CORRECTED = [  # what QA typed over two sentences (redacted form: the phone number is a placeholder)
    "Rác ở hẻm 45 đường Lê Duẩn để cả tuần rồi không ai lấy.",
    "Số của tôi là [SĐT], anh gọi lại giùm em.",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory, prefect_harness, model_cache):
    from flows.process_calls import process_calls

    src = tmp_path_factory.mktemp("src")
    rows = [r for r in csv.DictReader((SAMPLES / "calls.csv").open()) if r["file_name"] in PICK]
    with (src / "calls.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=rows[0].keys())
        writer.writeheader()
        writer.writerows(rows)
    for rel in PICK:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / rel, src / rel)
    home = tmp_path_factory.mktemp("home")
    settings = load_settings(home=home, db_path=home / "demo.duckdb", model_cache_dir=model_cache)
    summary = process_calls(str(src), settings)
    assert summary.processed == len(PICK)
    return settings


def test_the_first_run_records_the_shipped_model(demo):
    shipped = language_model.load(language_model.resolve("shipped", None)).fingerprint
    con = duckdb.connect(str(demo.database), read_only=True)
    assert con.execute("SELECT DISTINCT asr_lm FROM calls").fetchall() == [(shipped,)]
    assert con.execute("SELECT DISTINCT asr_lm FROM runs").fetchall() == [(shipped,)]
    assert con.execute("SELECT count(*) FROM calls WHERE asr_fingerprint LIKE ?", [f"%+lm:{shipped}@%"]).fetchone()[0] \
        == len(PICK)
    con.close()


def test_lm_build_then_backfill_decodes_every_call_with_the_site_model_and_records_it(demo):
    from pipeline.commands.backfill import backfill_range

    con = duckdb.connect(str(demo.database))
    call_id = con.execute("SELECT min(call_id) FROM calls").fetchone()[0]
    for seq, text in enumerate(CORRECTED):
        con.execute("INSERT INTO call_edits (call_id, kind, target, old_value, new_value, user_name, edited_at) "
                    "VALUES (?, 'transcript', ?, 'cũ', ?, 'qa1', ?)",
                    [call_id, str(seq), text, datetime(2026, 12, 1, 9, seq)])
    con.close()
    (demo.home / "lm-text").mkdir()
    (demo.home / "lm-text" / "thong-bao.txt").write_text("Lịch thu gom rác phường Tân An từ ngày 1/12.\n",
                                                        encoding="utf-8")
    env = {"HOTLINE_HOME": str(demo.home), "HOTLINE_MODEL_CACHE": str(demo.model_cache), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "pipeline.cli", "lm", "build", "--db", str(demo.database)],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    # the placeholder cut the second correction in two: 3 sentences, the phone number in none
    assert "corrected transcripts 3 sentences" in out.stdout and "admin texts 1 sentences" in out.stdout
    site = language_model.read_site(demo.site_lm_dir / "site.json")
    assert site["fingerprint"].startswith("mix:") and f"lm={site['fingerprint']}" in out.stdout
    assert (demo.site_lm_dir / site["parts"][1]["path"]).stat().st_mode & 0o077 == 0  # n-grams of calls

    # `hotline models` names it, with its sources
    listed = subprocess.run([sys.executable, "-m", "pipeline.cli", "models"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert site["fingerprint"] in listed.stdout and "corrected transcripts" in listed.stdout

    summary = backfill_range(date(2026, 11, 1), date(2026, 11, 30), demo, db_path=demo.database)
    assert (summary.found, summary.processed, summary.failed) == (len(PICK), len(PICK), 0)
    con = duckdb.connect(str(demo.database), read_only=True)
    assert con.execute("SELECT DISTINCT asr_lm FROM calls").fetchall() == [(site["fingerprint"],)]
    assert con.execute("SELECT asr_lm FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()[0] == site["fingerprint"]
    assert con.execute("SELECT count(*) FROM calls WHERE asr_fingerprint LIKE ?",
                       [f"%+lm:{site['fingerprint']}@%"]).fetchone()[0] == len(PICK)
    con.close()
    # the same model again: nothing left to re-run
    assert backfill_range(date(2026, 11, 1), date(2026, 11, 30), demo, db_path=demo.database).found == 0
