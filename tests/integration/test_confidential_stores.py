"""Issue 25: the real flows, run on file names and call logs that hold caller numbers, leave none of
those numbers in clear in any store (tests/support/stores.py walks them all: warehouse, logs, Prefect's
database and result cache, watermarks, staging, quarantine, exports). Model-free: every recording here
is undecodable, so each is quarantined before any model loads."""

from __future__ import annotations

import logging
import os
import time

from pipeline.config import load_settings
from tests.support import stores, tally

# Numbers no other test uses: Prefect's test database is shared by the whole session.
NUMBERS = ("0977311001", "0977311002", "0977311003")


def _old(path, age_s=600):
    t = time.time() - age_s
    os.utime(path, (t, t))


def _recording(root, rel):
    """An undecodable recording (quarantined before any model loads), its bytes its own."""
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_bytes(b"RIFF\x00\x00\x00\x00WAVE not really " + os.urandom(16).hex().encode())
    _old(root / rel)
    return rel


def test_flow_parameters_and_the_watermark_hold_no_file_name(tmp_path, prefect_harness, caplog):
    """Issue 25 #4: FreePBX names (caller numbers) went into ``flow_run.parameters`` (``only=…``) and the
    pull watermark's keys, both outliving every purge. Now keyed ids go there, resolved by the flow."""
    from flows.pull import pull_and_process
    from flows.watch import watch_folder

    pbx = tmp_path / "pbx"
    first = [_recording(pbx, f"2026/11/30/in-101-{NUMBERS[0]}-20261130-081502-1764490502.31.wav"),
             _recording(pbx, f"2026/11/30/out-{NUMBERS[1]}-102-20261130-091000-1764494000.32.wav")]
    home = tmp_path / "home"
    settings = load_settings(home=home, db_path=home / "w.duckdb")
    with caplog.at_level(logging.INFO):
        pulled = pull_and_process(str(pbx), settings, confirm_s=0.2)
        later = _recording(pbx, f"2026/11/30/q-600-{NUMBERS[2]}-20261130-101500-1764497700.33.wav")
        watched = watch_folder(pbx, settings, interval_s=0.2, settle_s=0, max_polls=3)
    found = stores.scan(NUMBERS, home=home, logs=caplog.text)
    import duckdb

    con = duckdb.connect(str(home / "w.duckdb"), read_only=True)
    statuses = con.execute("SELECT status, count(*) FROM calls GROUP BY 1").fetchall()
    con.close()
    tally.record("store_scan", "flow parameters and watermark (pull-and-process, watch)", tried=3,
                 survived=3 if statuses == [("quarantined", 3)] else 0, rows_lost=3 - sum(n for _, n in statuses),
                 clear_text_numbers=found.total, stores=found.by_store())
    assert pulled.run is not None and pulled.run.quarantined == 2 and watched == 0, (pulled, first, later)
    assert statuses == [("quarantined", 3)]
    assert found.total == 0, stores.describe(found)
    assert {"prefect_db", "watermarks", "warehouse", "logs"} <= found.scanned
