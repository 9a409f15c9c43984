"""Issue 10: the command line says what is wrong in one line, before starting anything,
and only the commands that load calls create a warehouse."""

from __future__ import annotations

import argparse
import socket
import time

import pytest

from pipeline.cli import COMMAND_GROUPS, build_parser, main


@pytest.fixture
def web_db(tmp_path):
    """An empty, migrated warehouse."""
    from pipeline.warehouse import db

    path = tmp_path / "hotline.duckdb"
    db.connect(path).close()
    return path


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    return err


def _all_parsers(parser, path=("hotline",)):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _all_parsers(child, path + (name,))


def test_every_option_of_every_command_has_help_and_no_markup():
    for path, parser in _all_parsers(build_parser()):
        text = parser.format_help()
        assert "``" not in text and ":func:" not in text, " ".join(path)
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            assert action.help, f"{' '.join(path)} {action.dest}: no help text"


def test_help_lists_every_command_in_a_group_with_an_example():
    parser = build_parser()
    registered = set(parser._subparsers._group_actions[0].choices)
    grouped = {name for _, entries in COMMAND_GROUPS for name, _ in entries}
    assert registered == grouped, f"not grouped: {registered - grouped}; gone: {grouped - registered}"
    text = parser.format_help()
    for title, entries in COMMAND_GROUPS:
        assert f"{title}:" in text
        for _, example in entries:
            assert example in text


@pytest.mark.parametrize("argv", [
    ["report", "--from", "2026-11-01", "--to", "2026-11-30", "--out", "{tmp}/r.html", "--db", "{tmp}/typo.duckdb"],
    ["users", "list", "--db", "{tmp}/typo.duckdb"],
    ["users", "disable", "bob", "--db", "{tmp}/typo.duckdb"],
    ["purge", "--older-than", "30", "--db", "{tmp}/typo.duckdb"],
    ["serve", "--db", "{tmp}/typo.duckdb"],
    ["cases", "list", "--db", "{tmp}/typo.duckdb"],
    ["operators", "list", "--db", "{tmp}/typo.duckdb"],
    ["export", "calls", "--from", "2026-11-01", "--to", "2026-11-30", "--out", "{tmp}/x.csv", "--db", "{tmp}/typo.duckdb"],
])
def test_commands_that_read_refuse_a_missing_warehouse(argv, tmp_path, capsys):
    code = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert code != 0
    err = _one_line_error(capsys)
    assert "typo.duckdb" in err and "no such warehouse" in err
    assert not (tmp_path / "typo.duckdb").exists()
    assert not (tmp_path / "r.html").exists()


def test_users_add_refuses_a_missing_warehouse_before_asking_a_password(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", None)  # reading a password would crash: it must not get that far
    assert main(["users", "add", "bob", "--role", "qa", "--password-stdin", "--db", str(tmp_path / "t.duckdb")]) != 0
    assert "no such warehouse" in _one_line_error(capsys)
    assert not (tmp_path / "t.duckdb").exists()


@pytest.mark.parametrize("kind", ["text file", "folder"])
@pytest.mark.parametrize("command", ["report", "serve", "run"])
def test_a_warehouse_that_is_not_duckdb_is_one_line(kind, command, tmp_path, capsys):
    bad = tmp_path / "bad.duckdb"
    if kind == "folder":
        bad.mkdir()
    else:
        bad.write_text("not a database\n")
    argv = {"report": ["report", "--from", "2026-11-01", "--to", "2026-11-02", "--out", str(tmp_path / "r.html")],
            "serve": ["serve", "--port", "1"],
            "run": ["run", str(tmp_path)]}[command]
    assert main(argv + ["--db", str(bad)]) != 0
    err = _one_line_error(capsys)
    assert str(bad) in err and ("not a DuckDB" in err or "folder" in err)


def test_run_checks_the_call_log_before_starting_prefect(tmp_path, capsys):
    started = time.perf_counter()
    code = main(["run", str(tmp_path), "--calls-csv", str(tmp_path / "missing.csv"), "--db", str(tmp_path / "w.duckdb")])
    assert code != 0
    assert "missing.csv" in _one_line_error(capsys)
    assert time.perf_counter() - started < 5  # no Prefect server was started
    assert not (tmp_path / "w.duckdb").exists()


def test_an_unusable_home_is_one_line_naming_the_folder(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("HOTLINE_HOME", str(blocker / "home"))
    assert main(["run", str(tmp_path)]) != 0
    err = _one_line_error(capsys)
    assert str(blocker / "home") in err and "folder" in err


@pytest.mark.parametrize("bad", ["2026-13-01", "30/11/2026", "yesterday"])
def test_a_bad_date_is_one_plain_line(bad, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["report", "--from", bad, "--to", "2026-11-30", "--out", str(tmp_path / "r.html")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"'{bad}' is not a date: write it as YYYY-MM-DD" in err and "Traceback" not in err


def test_a_reversed_period_writes_no_report(web_db, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", "--from", "2026-11-30", "--to", "2026-11-01", "--out", str(out), "--db", str(web_db)]) != 0
    assert "before --from" in _one_line_error(capsys)
    assert not out.exists()


def test_serve_on_a_port_in_use_is_one_line(web_db, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["serve", "--db", str(web_db), "--port", str(port)]) != 0
    err = _one_line_error(capsys)
    assert f"127.0.0.1:{port}" in err and "--port" in err


def test_users_list_disable_enable_remove(web_db, capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase\n"))
    assert main(["users", "add", "Lan", "--role", "qa", "--password-stdin", "--db", str(web_db)]) == 0
    capsys.readouterr()
    assert main(["users", "list", "--db", str(web_db)]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("lan "))
    assert " qa " in line and "active" in line and "never" in line
    assert main(["users", "disable", "lan", "--db", str(web_db)]) == 0
    main(["users", "list", "--db", str(web_db)])
    assert "disabled" in next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("lan "))
    assert main(["users", "disable", "lan", "--enable", "--db", str(web_db)]) == 0
    main(["users", "list", "--db", str(web_db)])
    assert "active" in next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("lan "))
    assert main(["users", "remove", "lan", "--db", str(web_db)]) == 0
    main(["users", "list", "--db", str(web_db)])
    assert not any(ln.startswith("lan ") for ln in capsys.readouterr().out.splitlines())
    assert main(["users", "remove", "lan", "--db", str(web_db)]) != 0
    assert "no account named 'lan'" in _one_line_error(capsys)
