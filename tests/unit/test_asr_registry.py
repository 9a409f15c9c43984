"""Model registry, `hotline models`, the per-model review threshold and where the recogniser is recorded."""

from __future__ import annotations

from dataclasses import replace

import pytest

from models import registry
from pipeline.config import load_settings
from pipeline.stages.analyse import review_threshold


def test_every_entry_states_provenance_and_licence():
    for name, e in registry.REGISTRY.items():
        assert e.name == name and e.version and e.size_bytes > 1_000_000
        assert e.licence and e.weights_from
        assert registry.fingerprint_of(name).startswith("sha256:")
        assert 0.0 < e.review_confidence < 1.0
    assert "unconfirmed" in registry.REGISTRY["viet-asr"].licence  # the weights' terms are not settled
    assert registry.DEFAULT in registry.REGISTRY


def test_the_default_has_measurements_for_both_channels():
    e = registry.REGISTRY[registry.DEFAULT]
    assert e.wideband and e.telephone, "the default must be chosen by measurement"
    other = registry.REGISTRY["base"]
    assert e.wideband.wer < other.wideband.wer and e.telephone.wer < other.telephone.wer


def test_the_setting_selects_the_recogniser_family(monkeypatch):
    monkeypatch.delenv("HOTLINE_ASR_MODEL", raising=False)
    assert load_settings().asr_model == registry.DEFAULT
    monkeypatch.setenv("HOTLINE_ASR_MODEL", "base")
    assert load_settings().asr_model == "base"
    assert registry.is_viet_asr("viet-asr") and registry.is_viet_asr("viet-asr-16k") and not registry.is_viet_asr("base")
    # the two viet-asr settings must not share a cache key
    assert registry.fingerprint_of("viet-asr") != registry.fingerprint_of("viet-asr-16k")


def test_a_local_folder_is_fingerprinted_as_loading_it_would_without_loading_it(tmp_path):
    from models.asr import resolve_asr_model

    folder = tmp_path / "phowhisper-ct2"
    folder.mkdir()
    for name, data in (("config.json", b"{}"), ("tokenizer.json", b"{}"), ("model.bin", b"w" * 1000)):
        (folder / name).write_bytes(data)
    first = registry.fingerprint_of(str(folder), tmp_path)
    assert first.startswith("sha256:") and first == resolve_asr_model(str(folder), tmp_path).fingerprint
    (folder / "model.bin").write_bytes(b"v" * 1001)  # another version of the weights: another cache key
    assert registry.fingerprint_of(str(folder), tmp_path) not in ("?", first)
    assert registry.fingerprint_of("vinai/PhoWhisper-medium", tmp_path) == "?"  # a hub id: known once fetched


def test_review_threshold_follows_the_model_unless_set(monkeypatch):
    monkeypatch.delenv("HOTLINE_REVIEW_CONFIDENCE", raising=False)
    s = load_settings()
    assert review_threshold(s.with_(asr_model="base")) == registry.REGISTRY["base"].review_confidence
    assert review_threshold(s.with_(asr_model="viet-asr")) == registry.REGISTRY["viet-asr"].review_confidence
    assert review_threshold(s.with_(asr_model="/models/phowhisper-ct2")) == registry.REGISTRY["base"].review_confidence
    assert review_threshold(s.with_(review_confidence=0.25)) == 0.25


def test_models_command_lists_each_recogniser(capsys):
    from pipeline.cli import main

    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in registry.REGISTRY:
        assert f" {name}" in out
    assert "licence:" in out and "fingerprint: sha256:" in out and "wer=" in out


def test_the_call_row_records_the_recogniser_and_what_is_approximate(tmp_path):
    from tests.support.call_results import one_turn_result as _result

    from pipeline.warehouse import db, load

    con = db.connect(tmp_path / "w.duckdb")
    result = replace(_result(), asr_model="viet-asr", asr_fingerprint=registry.fingerprint_of("viet-asr"),
                     asr_word_times="approximate", asr_confidence="approximate")
    load.load_call(con, result, "run1")
    row = con.execute("SELECT asr_model, asr_fingerprint, asr_word_times, asr_confidence FROM calls").fetchone()
    assert row == ("viet-asr", registry.fingerprint_of("viet-asr"), "approximate", "approximate")


@pytest.mark.parametrize("name", ["viet-asr", "base"])
def test_capabilities_name_what_is_measured(name):
    from models.asr import WhisperASR
    from models.viet_asr import VietASR

    caps = (VietASR if name == "viet-asr" else WhisperASR).capabilities
    if name == "viet-asr":
        assert caps.word_times == caps.confidence == "approximate" and caps.languages == ("vi",)
        assert caps.max_input_s <= 15.0 and not caps.digits
    else:
        assert caps.word_times == caps.confidence == "model"
