"""Open the DuckDB file and apply numbered migrations, each recorded once.

Migrations are ``migrations/NNN_name.sql``, applied in order; each one runs in the
same transaction as the row that records it (as sqlite-utils does), so a failed
migration leaves no trace.
"""

from __future__ import annotations

import re
import time
from importlib import resources
from pathlib import Path

import duckdb

from pipeline.errors import DatabaseBusy

_MIGRATION_RE = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every shipped migration, in order."""
    folder = resources.files("pipeline.warehouse") / "migrations"
    found = []
    for entry in folder.iterdir():
        m = _MIGRATION_RE.match(entry.name)
        if m:
            found.append((int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the migrations not yet recorded in ``schema_migrations``. Returns their versions."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, sql in migrations():
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


def connect(path: Path | str, *, read_only: bool = False, wait_s: float = 0.0, migrate_schema: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (creating and migrating it unless ``read_only``).

    DuckDB lets one process write a file at a time. When another process holds it,
    wait up to ``wait_s`` seconds, then raise :class:`DatabaseBusy` naming the file.
    """
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise DatabaseBusy(
                    f"{path} is open for writing by another process (another `hotline run`?); "
                    "wait for it to finish or pass --wait SECONDS"
                ) from exc
            time.sleep(0.5)
    if migrate_schema and not read_only:
        migrate(con)
    return con
