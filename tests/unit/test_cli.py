import pytest

from pipeline.cli import build_parser, main


def test_every_command_is_registered():
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)
    assert {"run", "eval"} <= commands


def test_missing_source_folder_is_one_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    code = main(["run", str(tmp_path / "nope"), "--db", str(tmp_path / "x.duckdb")])
    err = capsys.readouterr().err
    assert code != 0
    assert "nope" in err and "does not exist" in err
    assert "Traceback" not in err
