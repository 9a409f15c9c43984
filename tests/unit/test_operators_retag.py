"""After an operator (re-)enrolment: cached speaker results of mono calls are not reused, and
`hotline operators retag` picks the mono calls processed before the voiceprints changed."""

from datetime import date, datetime
from types import SimpleNamespace

import numpy as np
import pytest

from pipeline.config import Settings
from pipeline.records import DecodedAudio, Recording
from pipeline.stages.operators import Voiceprint, save_voiceprint

pytest.importorskip("prefect")


def _print(ext: str, seed: int, when=datetime(2026, 11, 20, 9, 0)) -> Voiceprint:
    vec = np.random.default_rng(seed).standard_normal(192).astype(np.float32)
    return Voiceprint(ext, vec / np.linalg.norm(vec), 2, 30.0, "form", enrolled_at=when)


def test_speakers_cache_key_follows_the_voiceprints_on_mono_calls_only(monkeypatch, tmp_path):
    from flows import tasks

    state = SimpleNamespace(voiceprints=(), asr=SimpleNamespace(fingerprint="asr1"))
    monkeypatch.setattr(tasks, "get_models", lambda settings: state)
    settings = Settings()
    rec = Recording(path=tmp_path / "a.wav", relpath="a.wav", sha256="ab" * 32, size_bytes=1)
    mono = DecodedAudio(np.zeros((1, 160), np.float32), 16000, 16000)
    stereo = DecodedAudio(np.zeros((2, 160), np.float32), 16000, 16000)

    def key(task: str, audio, s=settings):
        return tasks.stage_cache_key(SimpleNamespace(task=SimpleNamespace(name=task)),
                                     {"rec": rec, "settings": s, "audio": audio})

    before = {(t, a.channels): key(t, a) for t in ("speakers", "transcribe") for a in (mono, stereo)}
    state.voiceprints = (_print("101", 1),)
    enrolled = {(t, a.channels): key(t, a) for t in ("speakers", "transcribe") for a in (mono, stereo)}
    state.voiceprints = (_print("101", 2),)  # re-enrolled: another vector
    again = key("speakers", mono)
    assert enrolled[("speakers", 1)] != before[("speakers", 1)] != again != enrolled[("speakers", 1)]
    for unchanged in (("speakers", 2), ("transcribe", 1), ("transcribe", 2)):
        assert enrolled[unchanged] == before[unchanged]
    off = Settings(known_operators=False)  # recognition switched off: the prints do not matter
    first = key("speakers", mono, off)
    state.voiceprints = (_print("101", 3),)
    assert key("speakers", mono, off) == first


def test_retag_selects_mono_calls_processed_before_the_latest_enrolment(tmp_path):
    from pipeline.warehouse import db
    from pipeline.warehouse.voiceprints import calls_to_retag

    con = db.connect(tmp_path / "w.duckdb")
    con.execute("INSERT INTO runs (run_id, started_at, source_dir, status) VALUES ('r1', now(), '/src', 'done')")
    rows = [  # call_id, channels, started, processed, status, purged
        ("old_mono", 1, datetime(2026, 11, 10, 8), datetime(2026, 11, 10, 9), "done", None),
        ("new_mono", 1, datetime(2026, 11, 21, 8), datetime(2026, 11, 21, 9), "done", None),
        ("old_stereo", 2, datetime(2026, 11, 11, 8), datetime(2026, 11, 11, 9), "done", None),
        ("old_failed", 1, datetime(2026, 11, 12, 8), datetime(2026, 11, 12, 9), "failed", None),
        ("old_purged", 1, datetime(2026, 11, 13, 8), datetime(2026, 11, 13, 9), "done", datetime(2026, 11, 14)),
        ("out_of_range", 1, datetime(2026, 10, 1, 8), datetime(2026, 10, 1, 9), "done", None),
    ]
    for cid, ch, started, processed, status, purged in rows:
        con.execute("INSERT INTO calls (call_id, recording_sha256, source_path, started_at, channels, status, run_id, "
                    "processed_at, purged_at) VALUES (?, ?, ?, ?, ?, ?, 'r1', ?, ?)",
                    [cid, cid * 4, f"{cid}.wav", started, ch, status, processed, purged])
    span = (date(2026, 11, 1), date(2026, 11, 30))
    assert calls_to_retag(con, *span) == []  # nobody enrolled: nothing to re-tag
    assert [r[0] for r in calls_to_retag(con, *span, everything=True)] == ["old_mono", "new_mono"]
    save_voiceprint(con, _print("101", 1, when=datetime(2026, 11, 20, 9, 0)))
    picked = calls_to_retag(con, *span)
    assert picked == [("old_mono", "old_mono" * 4, "/src", "old_mono.wav")]
    con.close()
