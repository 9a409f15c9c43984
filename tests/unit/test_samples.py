"""The demo calls in samples/: call log, manifest and audio agree, and every file decodes."""

import csv
import json
from pathlib import Path

import pytest
import soundfile as sf

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = REPO_ROOT / "samples"
AUDIO_SUFFIXES = {".wav", ".mp3", ".flac", ".ogg"}


def _audio_files() -> set[str]:
    return {p.relative_to(SAMPLES).as_posix() for p in SAMPLES.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES}


def _log_rows() -> list[dict]:
    with open(SAMPLES / "calls.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _manifest() -> dict:
    return json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))


def test_call_log_lists_every_audio_file_and_nothing_else():
    rows = _log_rows()
    assert sorted(r["file_name"] for r in rows) == sorted(_audio_files())
    assert len({r["call_id"] for r in rows}) == len(rows)


def test_manifest_covers_the_same_files_with_taxonomy_topics():
    manifest = _manifest()
    taxonomy = json.loads((REPO_ROOT / "models" / "taxonomy.json").read_text(encoding="utf-8"))
    keys = {t["key"] for t in taxonomy["topics"]}
    assert set(manifest) == _audio_files()
    for entry in manifest.values():
        assert entry["topics"] and set(entry["topics"]) <= keys
        assert entry["turns"][0]["role"] == "operator"  # the hotline answers first
        assert {t["role"] for t in entry["turns"]} == {"operator", "citizen"}


@pytest.mark.parametrize("relpath", sorted(_audio_files()))
def test_sample_decodes_and_matches_its_manifest(relpath):
    entry = _manifest()[relpath]
    samples, rate = sf.read(SAMPLES / relpath, always_2d=True)
    duration = samples.shape[0] / rate
    assert 20.0 <= duration <= 45.0
    assert duration == pytest.approx(entry["duration_s"], abs=0.01)
    assert samples.shape[1] == (2 if entry["layout"] == "stereo_ulaw" else 1)
    for turn in entry["turns"]:
        assert 0.0 <= turn["start_s"] < turn["end_s"] <= duration
        # Each turn is audible where the manifest says it is.
        channel = turn.get("channel", 0)
        mid = int((turn["start_s"] + turn["end_s"]) / 2 * rate)
        window = samples[mid - rate // 2 : mid + rate // 2, channel]
        assert abs(window).max() > 0.05


def test_samples_stay_small():
    total = sum((SAMPLES / p).stat().st_size for p in _audio_files())
    assert total < 2.5e6
