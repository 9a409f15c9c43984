from pipeline.cli import main


def test_missing_source_folder_is_one_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    code = main(["run", str(tmp_path / "nope"), "--db", str(tmp_path / "x.duckdb")])
    err = capsys.readouterr().err
    assert code != 0
    assert "nope" in err and "does not exist" in err
    assert "Traceback" not in err


def test_settings_take_paths_as_strings_and_env_vars(monkeypatch, tmp_path):
    from pathlib import Path

    from pipeline.config import load_settings

    monkeypatch.setenv("HOTLINE_OPERATOR_CHANNEL", "1")
    monkeypatch.setenv("HOTLINE_KEEP_RAW_TEXT", "false")
    s = load_settings(home=str(tmp_path), db_path=str(tmp_path / "w.duckdb"))
    assert s.home == tmp_path and isinstance(s.db_path, Path)
    assert s.quarantine_dir == tmp_path / "quarantine"
    assert s.operator_channel == 1 and s.keep_raw_text is False
