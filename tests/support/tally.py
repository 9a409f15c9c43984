"""Fault figures counted by the suite (``make faults``): each fault test records what it tried.

With ``HOTLINE_FAULT_TALLY=<file>`` set, :func:`record` appends one JSON line per
check; ``tests/support/fault_figures.py`` sums them into the figures line. Values are
recorded *before* the test asserts them, so a failing check shows in the figures.
Without the variable, recording is a no-op.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path


def record(kind: str, name: str, *, tried: int = 1, survived: int = 0, rows_lost: int = 0, rows_duplicated: int = 0,
           clear_text_numbers: int = 0, stores: dict[str, int] | None = None) -> None:
    """One check's figures. ``stores``: clear numbers by store (:func:`tests.support.stores.scan`), for the
    per-store figures; when given, ``clear_text_numbers`` should include their sum."""
    path = os.environ.get("HOTLINE_FAULT_TALLY")
    if not path:
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    row = {"kind": kind, "name": name, "tried": tried, "survived": survived, "rows_lost": rows_lost,
           "rows_duplicated": rows_duplicated, "clear_text_numbers": clear_text_numbers}
    if stores is not None:
        row["stores"] = dict(stores)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")


def count_numbers(numbers, *texts) -> int:
    """Occurrences of any of ``numbers`` (digits, with or without separators) in ``texts``."""
    n = 0
    for text in texts:
        digits_only = re.sub(r"[ .\-]", "", str(text))
        n += sum(digits_only.count(num) for num in numbers)
    return n


def count_numbers_in_tree(numbers, root: Path) -> int:
    """Clear numbers in the names and contents of every file under ``root``."""
    n = 0
    for p in Path(root).rglob("*"):
        n += count_numbers(numbers, p.name)
        if p.is_file() and not p.is_symlink():
            n += count_numbers(numbers, p.read_bytes().decode("latin-1"))
    return n


def count_numbers_in_db(numbers, con) -> int:
    """Clear numbers in every text column of every table of a DuckDB connection."""
    n = 0
    tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                         "WHERE table_type = 'BASE TABLE'").fetchall()
    for schema, table in tables:
        cols = [c for c, t in con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                          "WHERE table_schema = ? AND table_name = ?", [schema, table]).fetchall()
                if t == "VARCHAR"]
        for col in cols:
            for (v,) in con.execute(f'SELECT "{col}" FROM "{schema}"."{table}" WHERE "{col}" IS NOT NULL').fetchall():
                n += count_numbers(numbers, v)
    return n
