"""Scale-out: per-call work on a local two-worker Dask cluster, the database written by the flow process only."""

from __future__ import annotations

from pipeline.config import load_settings
from tests.helpers import DATA


def _variant(src, dst, k: int) -> None:
    """A copy of ``src`` with different bytes (the last sample nudged), so it hashes as another call."""
    data = bytearray(src.read_bytes())
    data[-1] = (data[-1] + k) % 256
    dst.write_bytes(bytes(data))


def test_two_dask_workers_process_each_call_once(tmp_path, prefect_harness, model_cache, monkeypatch):
    from flows.process_calls import run_process_calls
    from pipeline.stages import process

    monkeypatch.setenv("HOTLINE_MODEL_CACHE", str(model_cache))
    src = tmp_path / "src"
    src.mkdir()
    for k in (1, 2):  # stereo: one speaker per channel, no diarizer to load in each worker
        _variant(DATA / "short_stereo.wav", src / f"call {k}.wav", k)
    settings = load_settings(home=tmp_path, db_path=tmp_path / "w.duckdb", cpu_threads=1)
    loaded_here = {s for s, m in process._MODELS.items() if m._asr is not None}
    summary = run_process_calls(str(src), settings, workers=2)
    assert (summary.found, summary.processed, summary.failed, summary.quarantined) == (2, 2, 0, 0)
    import duckdb

    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    calls = con.execute("SELECT call_id, status, asr_fingerprint FROM calls").fetchall()
    n_segments = con.execute("SELECT count(*) FROM segments").fetchone()[0]
    stages = {r[0] for r in con.execute("SELECT DISTINCT stage FROM stage_timings").fetchall()}
    con.close()
    assert len(calls) == 2 and {c[1] for c in calls} == {"done"} and all(c[2] for c in calls)
    assert n_segments > 0
    assert stages == {"decode", "transcribe", "speakers", "analyse", "load"}
    newly_loaded = {s for s, m in process._MODELS.items() if m._asr is not None} - loaded_here
    assert not newly_loaded, "the models ran in the Dask workers, not in the flow's process"
