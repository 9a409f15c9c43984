"""Lines in the warehouse (issue 32): each call's line, line counts, users' line scopes (bind parameters only).

Which line a call is on is decided by :class:`pipeline.lines.LineBook` (the number dialled, the
source, the default); this module stores it, for each distinct (number, source) once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import duckdb

from pipeline.lines import LineBook
from pipeline.warehouse.db import transaction


def assign_lines(con: duckdb.DuckDBPyConnection, book: LineBook, call_ids: Sequence[str] | None = None) -> int:
    """Set ``calls.line`` of the calls that have none (or of ``call_ids``, again). Returns how many were set.

    One decision per distinct (number dialled, run's source folder), then one UPDATE: set-based
    for a whole warehouse after migration 022 as for one call after its load.
    """
    where, params = ("c.call_id IN (SELECT unnest($ids))", {"ids": list(call_ids)}) if call_ids is not None \
        else ("c.line IS NULL", {})
    pairs = con.execute(f"SELECT DISTINCT c.dialled, r.source_dir FROM calls c LEFT JOIN runs r USING (run_id) "
                        f"WHERE {where}", params).fetchall()  # fixed fragment; values bound
    if not pairs:
        return 0
    decided = [(d, s, book.line_for(d, s)) for d, s in pairs]
    with transaction(con):
        n = con.execute(f"""
            UPDATE calls SET line = m.line
            FROM (SELECT unnest($d) AS dialled, unnest($s) AS source_dir, unnest($l) AS line) m,
                 (SELECT c.call_id, c.dialled, r.source_dir FROM calls c LEFT JOIN runs r USING (run_id)
                  WHERE {where}) k
            WHERE calls.call_id = k.call_id AND k.dialled IS NOT DISTINCT FROM m.dialled
              AND k.source_dir IS NOT DISTINCT FROM m.source_dir
        """, params | {"d": [x[0] for x in decided], "s": [x[1] for x in decided],
                       "l": [x[2] for x in decided]}).fetchone()[0]
    return int(n)


def line_counts(con: duckdb.DuckDBPyConnection) -> dict[str | None, tuple[int, object, object]]:
    """Per line key (None: not yet assigned): (calls, first call, last call) of the processed calls."""
    return {r[0]: (r[1], r[2], r[3]) for r in con.execute(
        "SELECT line, count(*), min(started_at), max(started_at) FROM calls WHERE status = 'done' GROUP BY line").fetchall()}


def user_lines(con: duckdb.DuckDBPyConnection, user_name: str) -> tuple[str, ...] | None:
    """The lines ``user_name`` is scoped to, or None: every line."""
    rows = con.execute("SELECT line FROM user_lines WHERE user_name = ? ORDER BY line", [user_name]).fetchall()
    return tuple(r[0] for r in rows) or None


def set_user_lines(con: duckdb.DuckDBPyConnection, user_name: str, lines: Iterable[str]) -> None:
    """Scope ``user_name`` to ``lines`` (empty: every line)."""
    with transaction(con):
        con.execute("DELETE FROM user_lines WHERE user_name = ?", [user_name])
        for line in sorted(set(lines)):
            con.execute("INSERT INTO user_lines VALUES (?, ?)", [user_name, line])


def call_line(con: duckdb.DuckDBPyConnection, call_id: str) -> tuple[bool, str | None]:
    """(the call exists, its line)."""
    row = con.execute("SELECT line FROM calls WHERE call_id = ?", [call_id]).fetchone()
    return (row is not None, row[0] if row else None)


def case_lines(con: duckdb.DuckDBPyConnection, case_id: str) -> tuple[bool, set[str | None]]:
    """(the case exists, the lines of its calls)."""
    exists = con.execute("SELECT count(*) FROM cases WHERE case_id = ?", [case_id]).fetchone()[0] > 0
    rows = con.execute("SELECT DISTINCT c.line FROM case_calls k JOIN calls c USING (call_id) WHERE k.case_id = ?",
                       [case_id]).fetchall()
    return exists, {r[0] for r in rows}
