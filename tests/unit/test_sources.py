"""The source protocol on a local folder: watermark, completeness, nothing written into the source."""

from __future__ import annotations

import os
import time

import pytest

from pipeline.intake import sources

KEY = "test-caller-salt"  # keys the watermark's names (the caller salt in production)


def _old(path, age_s=600):
    t = time.time() - age_s
    os.utime(path, (t, t))


def test_local_folder_is_read_in_place_and_its_watermark_lives_beside_the_database(tmp_path, settings):
    pbx = tmp_path / "pbx"
    (pbx / "2026/11/30").mkdir(parents=True)
    rec = pbx / "2026/11/30/a.wav"
    rec.write_bytes(b"x" * 100)
    (pbx / "notes.txt").write_text("not a recording")
    _old(rec)
    src = sources.open_source(str(pbx), settings)
    staging = sources.staging_dir(str(pbx), settings)
    first = sources.pull(src, staging, key=KEY)  # first listing: nothing confirmed yet
    assert (first.new_audio, first.waiting, first.root) == ([], ["2026/11/30/a.wav"], pbx.resolve())
    second = sources.pull(src, staging, key=KEY)
    assert second.new_audio == ["2026/11/30/a.wav"] and second.bytes_pulled == 0  # no copy of a local file
    assert sorted(p.name for p in pbx.rglob("*")) == ["11", "2026", "30", "a.wav", "notes.txt"]
    assert (staging / sources.STATE_FILE).is_file() and staging.is_relative_to(settings.database.parent)
    assert sources.pull(src, staging, key=KEY).new_audio == []


def test_settle_and_changes_hold_a_file_back(tmp_path, settings):
    pbx = tmp_path / "pbx"
    pbx.mkdir()
    rec = pbx / "b.wav"
    rec.write_bytes(b"y" * 10)
    src = sources.LocalSource(pbx)
    staging = tmp_path / "stage"
    sources.pull(src, staging, key=KEY, settle_s=60)
    assert sources.pull(src, staging, key=KEY, settle_s=60).new_audio == []  # unchanged, but only seconds old
    rec.write_bytes(b"y" * 20)
    _old(rec)
    assert sources.pull(src, staging, key=KEY, settle_s=60).new_audio == []  # changed since the last listing
    assert sources.pull(src, staging, key=KEY, settle_s=60).new_audio == ["b.wav"]


def test_unsupported_sources_and_bad_watermarks_are_clear_errors(tmp_path, settings):
    with pytest.raises(sources.SourceError, match="unsupported source ftp://"):
        sources.open_source("ftp://pbx/rec", settings)
    with pytest.raises(sources.SourceError, match="does not exist"):
        sources.open_source(str(tmp_path / "missing"), settings)
    (tmp_path / "stage").mkdir()
    (tmp_path / "stage" / sources.STATE_FILE).write_text("{not json")
    (tmp_path / "pbx").mkdir()
    with pytest.raises(sources.SourceError, match="unreadable pull watermark"):
        sources.pull(sources.LocalSource(tmp_path / "pbx"), tmp_path / "stage", key=KEY)
    a = sources.staging_dir("sftp://pbx@10.0.0.5:22/var/spool/asterisk/monitor", settings)
    b = sources.staging_dir("sftp://pbx@10.0.0.5:22/var/spool/asterisk/monitor/2026", settings)
    assert a != b and a.name.startswith("10.0.0.5-")


def test_password_setting_is_not_in_the_settings_repr(settings):
    assert "hunter2" not in repr(settings.with_(sftp_password="hunter2"))
    assert "hunter2" not in settings.with_(sftp_password="hunter2").model_dump_json()


def test_deploy_needs_a_real_prefect_server(tmp_path, monkeypatch, capsys):
    from pipeline.cli import main

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    assert main(["deploy", str(tmp_path), "--interval", "60"]) == 1
    assert "set PREFECT_API_URL" in capsys.readouterr().err
    assert main(["deploy", str(tmp_path), "--interval", "0"]) == 1


def test_run_refuses_other_url_schemes_with_the_source_exit_code(tmp_path, monkeypatch, capsys):
    from pipeline.cli import main

    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    assert main(["run", "ftp://pbx/recordings"]) == sources.SourceError.exit_code
    assert "unsupported source ftp://" in capsys.readouterr().err
