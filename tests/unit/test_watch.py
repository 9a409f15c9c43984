"""The one watch loop (pipeline/runs/watch.py) over a real local source and watermark, with a stand-in run.

(``tests/integration`` runs it with ``process-calls`` itself, locally and over SFTP.)
"""

from __future__ import annotations

import os

from pipeline.errors import DatabaseBusy
from pipeline.intake import sources
from pipeline.intake.ingest import name_key
from pipeline.runs.book import RunSummary
from pipeline.runs.watch import run_pending, watch

KEY = "test-salt"


class GrowingSource(sources.LocalSource):
    """A folder whose ``growing.wav`` the PBX is still writing during the first ``grows`` listings."""

    def __init__(self, root, grows: int):
        super().__init__(root)
        self.listings, self.grows = 0, grows

    def list_files(self):
        self.listings += 1
        if self.listings <= self.grows:
            with open(self.root / "growing.wav", "ab") as fh:
                fh.write(b"x" * 100)
        return super().list_files()


def _old(path):
    os.utime(path, (1_000_000_000, 1_000_000_000))


def _runner(results=None):
    """A stand-in for process-calls: records which recordings each run was given."""
    runs = []

    def run(root, keys, call_log):
        runs.append(sorted(keys))
        outcome = (results or {}).get(len(runs), "ok")
        if isinstance(outcome, BaseException):
            raise outcome
        return RunSummary(run_id=f"r{len(runs)}", db_path="w.duckdb", processed=len(keys) if outcome == "ok" else 0,
                          failed=len(keys) if outcome == "failed" else 0)

    return run, runs


def test_a_file_runs_once_it_stops_changing_and_once_only(tmp_path):
    pbx = tmp_path / "pbx"
    pbx.mkdir()
    (pbx / "done.wav").write_bytes(b"RIFF")
    _old(pbx / "done.wav")
    src = GrowingSource(pbx, grows=3)
    run, runs = _runner()
    processed = watch(lambda: src, tmp_path / "staging", key=KEY, run=run, interval_s=0.0, max_polls=6)
    done, growing = name_key("done.wav", KEY), name_key("growing.wav", KEY)
    # poll 1 sees both; poll 2 confirms done.wav; growing.wav changes until poll 3, is confirmed at poll 4
    assert runs == [[done], [growing]] and processed == 2
    run, again = _runner()
    assert watch(lambda: src, tmp_path / "staging", key=KEY, run=run, interval_s=0.0, max_polls=3) == 0
    assert again == []  # a second watcher: the watermark says nothing is new


def test_a_busy_warehouse_or_a_failed_batch_leaves_the_files_for_the_next_poll(tmp_path):
    pbx = tmp_path / "pbx"
    pbx.mkdir()
    (pbx / "a.wav").write_bytes(b"RIFF")
    _old(pbx / "a.wav")
    run, runs = _runner({1: DatabaseBusy("another run holds the lock"), 2: RuntimeError("Prefect went away"),
                         3: "failed"})
    processed = watch(lambda: sources.LocalSource(pbx), tmp_path / "staging", key=KEY, run=run, interval_s=0.0,
                      max_polls=6)
    key = name_key("a.wav", KEY)
    assert runs == [[key]] * 4 and processed == 1  # busy, broken, a failed call (tried again), then done


def test_a_lost_source_is_opened_again_at_the_next_poll(tmp_path, caplog):
    pbx = tmp_path / "pbx"
    pbx.mkdir()
    (pbx / "a.wav").write_bytes(b"RIFF")
    _old(pbx / "a.wav")
    opened = []

    def open_source():
        opened.append(1)
        if len(opened) == 1:
            raise sources.SourceError("sftp://pbx@10.0.0.5:22/var/spool/asterisk/monitor: cannot connect")
        return sources.LocalSource(pbx)

    run, runs = _runner()
    assert watch(open_source, tmp_path / "staging", key=KEY, run=run, interval_s=0.0, max_polls=4) == 1
    assert len(opened) == 2 and runs == [[name_key("a.wav", KEY)]]
    assert "still watching" in caplog.text


def test_the_call_logs_copied_for_a_run_go_after_it_even_when_it_fails(tmp_path):
    staging = tmp_path / "staging"
    (staging / "cdr").mkdir(parents=True)
    (staging / "cdr" / "Master.csv").write_text('"","0905123456","101"\n', encoding="utf-8")  # the PBX's, with numbers
    pulled = sources.PullResult(root=staging, pending=["k1"], call_logs=["cdr/Master.csv"])
    run, runs = _runner({1: RuntimeError("the run fell over")})
    try:
        run_pending(pulled, staging, key=KEY, run=run)
    except RuntimeError:
        pass
    assert runs == [["k1"]] and not (staging / "cdr" / "Master.csv").exists()
