"""SQL has one owner: only modules under pipeline/warehouse/ run SQL or hold SQL text (checked on the source, ast).

A module elsewhere (library, web, flows, models) calls named functions of
``pipeline.warehouse``. Two checks, per module: no call of a connection's ``execute``,
``executemany``, ``sql`` or ``query`` (nor ``duckdb.sql``/``duckdb.query``), and no string
literal that starts like a SQL statement. Modules still to mend are in KNOWN with the
reason; the test fails on a new one and when a listed one is clean (the list only shrinks).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.helpers import REPO

RUNS_SQL = {"execute", "executemany", "sql", "query", "from_query"}
SQL_TEXT = re.compile(
    r"^\s*(SELECT\s|INSERT\s+(OR\s+\w+\s+)?INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|"
    r"CREATE\s+(OR\s+REPLACE\s+)?(TEMP\s+)?(TABLE|VIEW)\s|WITH\s+\w+\s+AS\s*\(|DROP\s+(TABLE|VIEW)\s|"
    r"ALTER\s+TABLE\s|PRAGMA\s)")  # keywords in capitals, as STYLE.md writes SQL

KNOWN: dict[str, str] = {}  # none left: the commands and evaluations moved their SQL (package 12b)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sql_sites(source: str) -> list[tuple[int, str]]:
    """(line, what) of every SQL call or SQL text in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RUNS_SQL:
            found.append((node.lineno, f".{node.func.attr}("))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_TEXT.match(node.value):
            found.append((node.lineno, node.value.strip()[:40]))
    return found


def _offenders() -> dict[str, list[tuple[int, str]]]:
    out = {}
    for folder in ("pipeline", "flows", "models"):
        for path in sorted((REPO / folder).rglob("*.py")):
            module = _module_name(path)
            if module == "pipeline.warehouse" or module.startswith("pipeline.warehouse."):
                continue
            sites = _sql_sites(path.read_text(encoding="utf-8"))
            if sites:
                out[module] = sites
    return out


def test_only_the_warehouse_runs_sql():
    new = {m: s for m, s in _offenders().items() if m not in KNOWN}
    assert not new, "SQL outside pipeline/warehouse/ (call a named warehouse function instead): " + "; ".join(
        f"{m} lines {', '.join(str(line) for line, _ in s)}" for m, s in sorted(new.items()))


def test_known_exceptions_still_run_sql_or_are_struck_off():
    gone = sorted(set(KNOWN) - set(_offenders()))
    assert not gone, "no SQL left, strike them off KNOWN: " + ", ".join(gone)


def test_the_check_sees_sql_calls_and_sql_text():
    # The detector itself, on text that must and must not count.
    assert [w for _, w in _sql_sites('con.execute("SELECT 1")')] == [".execute(", "SELECT 1"]
    assert _sql_sites('x = """\n    WITH a AS (SELECT 1) SELECT * FROM a"""')
    assert _sql_sites("cur.executemany(q, rows)") and _sql_sites("duckdb.sql(q)")
    assert _sql_sites('f"DELETE FROM {table} WHERE call_id = ?"')
    assert not _sql_sites('"select a topic from the list"')  # prose, not a statement
    assert not _sql_sites('log.info("updated %d calls", n)')
    assert not _sql_sites("calls.call_rows(con, start=s)")
