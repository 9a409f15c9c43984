"""Issue 12 #3: a command module parses arguments, calls the library and prints.

Checked on the source with ast (nothing is imported): no module of pipeline/commands/
imports duckdb or pandas, holds an SQL statement in a string, or calls ``.execute``
on a connection; SQL lives in pipeline/warehouse/, evaluations in pipeline/eval/.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.helpers import REPO

COMMANDS = sorted((REPO / "pipeline" / "commands").glob("*.py"))
FORBIDDEN_IMPORTS = ("duckdb", "pandas", "sqlite3")
# An SQL statement as this project writes them (keywords in capitals): a keyword that opens
# one, then what that statement always has next. Help texts in plain words do not match.
SQL = re.compile(r"^\s*(SELECT\b.*\bFROM\b|INSERT\s+INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|CREATE\s+"
                 r"(OR\s+REPLACE\s+)?(TABLE|VIEW|INDEX)\b|DROP\s+(TABLE|VIEW)\b|WITH\s+\w+\s+AS\s*\()",
                 re.DOTALL)


def problems(source: str) -> list[str]:
    """What makes a command module more than arguments, a library call and printing."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            names = []
        for name in names:
            if name.split(".")[0] in FORBIDDEN_IMPORTS:
                found.append(f"line {node.lineno}: imports {name}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
            found.append(f"line {node.lineno}: SQL {node.value.strip()[:40]!r}")
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            if SQL.search(text):
                found.append(f"line {node.lineno}: SQL {text.strip()[:40]!r}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                "execute", "executemany", "sql"):
            found.append(f"line {node.lineno}: .{node.func.attr}() on a connection")
    return found


def test_the_check_finds_each_kind_of_breach():
    assert problems("import duckdb\n") == ["line 1: imports duckdb"]
    assert problems("def f():\n    from pandas import DataFrame\n") == ["line 2: imports pandas"]
    assert problems('Q = "SELECT call_id FROM segments"\n')[0].startswith("line 1: SQL")
    assert problems('def f(t):\n    return f"INSERT INTO {t} BY NAME SELECT * FROM x"\n')[0].startswith("line 2: SQL")
    assert problems("def f(con):\n    con.execute(q)\n") == ["line 2: .execute() on a connection"]
    assert problems('Q = """\n  WITH t AS (SELECT 1) SELECT * FROM t"""\n')[0].startswith("line 1: SQL")
    # Help texts and messages that merely use the words are not SQL.
    assert problems('H = "select the calls of a period from the warehouse"\nM = "update the model, set it"\n') == []


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: p.name)
def test_command_modules_hold_no_sql_and_open_no_database(path: Path):
    assert not problems(path.read_text(encoding="utf-8")), f"{path.relative_to(REPO)}: " + "; ".join(
        problems(path.read_text(encoding="utf-8")))


def test_every_command_module_registers_and_holds_no_evaluation():
    """Evaluations live in pipeline/eval/: no command module defines a scorer or a manifest reader."""
    for path in COMMANDS:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        if path.name != "__init__.py":
            assert "register" in defined, f"{path.name}: no register(sub, eval_sub)"
        scorers = sorted(n for n in defined if re.match(r"(evaluate|score|read_manifest|read_corrected)", n))
        assert not scorers, f"{path.name} defines {scorers}: move them to pipeline/eval/ or the library"
