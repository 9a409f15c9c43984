"""Several sites, one picture (issue 32 item 4): the province's copy of each centre's calls and cases.

Each centre (the province's 0262.1022, Buôn Ma Thuột's 1900.86.86.47, former Phú Yên) runs its own
installation and warehouse. The province's warehouse registers them (``sites``) and ``refresh_site``
ATTACHes a site's file READ_ONLY and replaces that site's rows of ``site_calls``, ``site_call_topics``,
``site_call_places`` and ``site_cases`` in one transaction: a refresh never duplicates a call, a call
purged at the site leaves the picture, and a refresh that fails (the site is writing, the file is
missing) keeps the copy of the one before. Only the columns in ``_COPY`` cross: no caller number,
hash, initials, transcript, file name or PBX id (docs/operations.md, "Several sites").

``export_site`` writes the same columns from a site's warehouse into a small file of their own (an
*extract*), swapped into place whole: a site that does not want its warehouse read, or that writes all
day, publishes that file instead and the province registers it. Measured against one shared DuckLake in
docs/operations.md.
"""

from __future__ import annotations

import os
import re
import uuid
from datetime import date, datetime
from pathlib import Path

import duckdb

from pipeline.warehouse.db import transaction

SITE_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
OPEN_STATUSES = ("new", "forwarded", "in_progress")

# What crosses from a site: per province table, the SELECT over the site's tables (schema ``src``).
# The same column names are read from a warehouse and from an extract (export_site writes these tables).
_COPY = {
    "site_calls": ("calls", "SELECT call_id, line, started_at, duration_s, urgent, frustrated, needs_review "
                            "FROM src.calls WHERE status = 'done'"),
    "site_call_topics": ("call_topics", "SELECT call_id, topic FROM src.call_topics WHERE assigned"),
    "site_call_places": ("call_places", "SELECT call_id, kind, name FROM src.call_places"),
    "site_cases": ("cases", """SELECT k.case_id,
                                      (SELECT min(c.line) FROM src.case_calls cc JOIN src.calls c USING (call_id)
                                       WHERE cc.case_id = k.case_id) AS line,
                                      k.kind, k.status, k.topic, k.place, k.unit, k.urgent, k.opened_at, k.due_date,
                                      k.closed_at
                               FROM src.cases k WHERE k.merged_into IS NULL"""),
}
# An extract's own tables (export_site): the columns above, under the site's table names.
_EXTRACT = {
    "calls": "SELECT call_id, line, started_at, duration_s, urgent, frustrated, needs_review, status FROM src.calls",
    "call_topics": "SELECT call_id, topic, assigned FROM src.call_topics",
    "call_places": "SELECT call_id, kind, name FROM src.call_places",
    "cases": "SELECT case_id, kind, status, topic, place, unit, urgent, opened_at, due_date, closed_at, merged_into "
             "FROM src.cases",
    "case_calls": "SELECT call_id, case_id FROM src.case_calls",
}


class SiteError(ValueError):
    """A site key, name or file the province cannot use; the message names it."""


def _quoted(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def add_site(con: duckdb.DuckDBPyConnection, site: str, name: str, path: Path | str) -> None:
    """Register (or re-point) ``site`` at ``path``. Raises :class:`SiteError` for a bad key or a missing file."""
    if not SITE_KEY.match(site or ""):
        raise SiteError(f"site key {site!r}: lower-case letters, digits and '-', e.g. bmt")
    if not Path(path).is_file():
        raise SiteError(f"{path}: no such file (a site's warehouse or its extract from `hotline sites export`)")
    with transaction(con):
        con.execute("""INSERT INTO sites (site, name, path, added_at) VALUES (?, ?, ?, now())
                       ON CONFLICT (site) DO UPDATE SET name = excluded.name, path = excluded.path""",
                    [site, name or site, str(Path(path).resolve())])


def remove_site(con: duckdb.DuckDBPyConnection, site: str) -> bool:
    """Forget ``site`` and its copied rows. Returns whether it was registered."""
    with transaction(con):
        for table in _COPY:
            con.execute(f"DELETE FROM {table} WHERE site = ?", [site])  # fixed table names
        return bool(con.execute("DELETE FROM sites WHERE site = ? RETURNING site", [site]).fetchall())


def list_sites(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every registered site: key, name, path, refreshed_at, n_calls, last_error, and calls in the copy."""
    cur = con.execute("""SELECT s.site, s.name, s.path, s.refreshed_at, s.n_calls, s.last_error,
                                (SELECT count(*) FROM site_calls c WHERE c.site = s.site) AS copied
                         FROM sites s ORDER BY s.site""")
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def site_keys(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT site FROM sites ORDER BY site").fetchall()]


def refresh_site(con: duckdb.DuckDBPyConnection, site: str) -> int:
    """Replace ``site``'s copy with its file's current calls and cases. Returns the calls copied.

    The file is ATTACHed READ_ONLY for the copy and detached after. A failure (another process holds
    it for writing: DuckDB's lock; a missing or foreign file) is recorded in ``sites.last_error`` and
    raised as :class:`SiteError`; the copy of the last good refresh stays.
    """
    row = con.execute("SELECT path FROM sites WHERE site = ?", [site]).fetchone()
    if row is None:
        raise SiteError(f"no site {site!r}: `hotline sites add` registers it")
    path = row[0]
    try:
        con.execute(f"ATTACH {_quoted(path)} AS src (READ_ONLY)")
    except duckdb.Error as exc:
        reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        con.execute("UPDATE sites SET last_error = ? WHERE site = ?", [reason, site])
        busy = "lock" in reason.lower()
        raise SiteError(f"site {site}: {path} could not be read"
                        + (" (its installation holds it open for writing; try again, or register its extract)"
                           if busy else f" ({reason})")) from None
    try:
        with transaction(con):
            for table, (_, select) in _COPY.items():
                con.execute(f"DELETE FROM {table} WHERE site = ?", [site])  # fixed table names
                con.execute(f"INSERT INTO {table} SELECT ?, * FROM ({select})", [site])
            n = con.execute("SELECT count(*) FROM site_calls WHERE site = ?", [site]).fetchone()[0]
            con.execute("UPDATE sites SET refreshed_at = now(), n_calls = ?, last_error = NULL WHERE site = ?",
                        [n, site])
    finally:
        con.execute("DETACH src")
    return int(n)


def export_site(warehouse: Path | str, out: Path | str) -> int:
    """Write the columns the province reads from the site's ``warehouse`` into ``out`` (an extract).

    The warehouse is ATTACHed READ_ONLY in a connection of its own (a site's web app may read it
    meanwhile); the extract is written to a temporary file beside ``out`` and renamed over it: a
    province refreshing at that moment reads the old extract or the new one, never half of one.
    Returns the calls written.
    """
    out = Path(out)
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex}.tmp")
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {_quoted(warehouse)} AS src (READ_ONLY)")
        con.execute(f"ATTACH {_quoted(tmp)} AS site_extract")
        for table, select in _EXTRACT.items():
            con.execute(f"CREATE TABLE site_extract.{table} AS {select}")  # fixed text
        n = con.execute("SELECT count(*) FROM site_extract.calls WHERE status = 'done'").fetchone()[0]
        con.execute("DETACH site_extract")
        os.chmod(tmp, 0o600)
        os.replace(tmp, out)
    except BaseException:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    return int(n)


def _filters(alias: str, sites: list[str] | None, lines: list[str] | None) -> tuple[str, list]:
    where, params = [], []
    if sites:
        where.append(f"{alias}.site IN (SELECT unnest(?))")
        params.append(list(sites))
    if lines:
        where.append(f"{alias}.line IN (SELECT unnest(?))")
        params.append(list(lines))
    return (" AND " + " AND ".join(where)) if where else "", params


def province_counts(con: duckdb.DuckDBPyConnection, start: date | datetime, end: date | datetime, *,
                    sites: list[str] | None = None, lines: list[str] | None = None) -> list[dict]:
    """Calls by site × line × month × topic × ward/commune in [start, end] (days), most first."""
    extra, params = _filters("c", sites, lines)
    cur = con.execute(f"""
        SELECT c.site, c.line, CAST(date_trunc('month', c.started_at) AS DATE) AS month, t.topic, p.name AS place,
               count(DISTINCT c.call_id) AS n_calls
        FROM site_calls c
        LEFT JOIN site_call_topics t ON t.site = c.site AND t.call_id = c.call_id
        LEFT JOIN site_call_places p ON p.site = c.site AND p.call_id = c.call_id
        WHERE CAST(c.started_at AS DATE) BETWEEN ? AND ?{extra}
        GROUP BY ALL ORDER BY n_calls DESC, month, c.site, c.line, t.topic, place
    """, [start, end, *params])  # the fragment is fixed text; values bound
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def province_totals(con: duckdb.DuckDBPyConnection, start: date | datetime, end: date | datetime, *,
                    sites: list[str] | None = None, lines: list[str] | None = None) -> list[dict]:
    """Per site and line: calls, urgent, frustrated in [start, end]."""
    extra, params = _filters("c", sites, lines)
    cur = con.execute(f"""
        SELECT c.site, c.line, count(*) AS n_calls, count(*) FILTER (WHERE c.urgent) AS n_urgent,
               count(*) FILTER (WHERE c.frustrated) AS n_frustrated
        FROM site_calls c WHERE CAST(c.started_at AS DATE) BETWEEN ? AND ?{extra}
        GROUP BY ALL ORDER BY c.site, c.line
    """, [start, end, *params])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def province_open_cases(con: duckdb.DuckDBPyConnection, *, today: date,
                        sites: list[str] | None = None, lines: list[str] | None = None) -> list[dict]:
    """Open cases per site × handling unit (None: not yet forwarded): open, overdue (due before ``today``), urgent."""
    extra, params = _filters("k", sites, lines)
    cur = con.execute(f"""
        SELECT k.site, k.unit, count(*) AS n_open, count(*) FILTER (WHERE k.due_date < ?) AS n_overdue,
               count(*) FILTER (WHERE k.urgent) AS n_urgent
        FROM site_cases k WHERE k.status IN (SELECT unnest(?)){extra}
        GROUP BY ALL ORDER BY n_open DESC, k.site, k.unit NULLS FIRST
    """, [today, list(OPEN_STATUSES), *params])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def province_lines(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(site, line) pairs present in the copy, for the filters."""
    return [(r[0], r[1]) for r in con.execute(
        "SELECT DISTINCT site, line FROM site_calls WHERE line IS NOT NULL ORDER BY 1, 2").fetchall()]


def province_period(con: duckdb.DuckDBPyConnection) -> tuple[date | None, date | None]:
    """First and last day of the copied calls."""
    row = con.execute("SELECT min(started_at)::DATE, max(started_at)::DATE FROM site_calls").fetchone()
    return row[0], row[1]
