"""Open the DuckDB file, apply numbered migrations (each recorded once), re-create the views.

Migrations are ``migrations/NNN_name.sql``, applied in order; each one runs in the
same transaction as the row that records it (as sqlite-utils does), so a failed
migration leaves no trace. Views are ``views/NN_name.sql`` (one ``CREATE OR REPLACE
VIEW name`` each, stg_ before mart_): changing a mart is editing its file, no
migration. They are re-created, in order and in one transaction, when the warehouse
opens for writing with migrations and their fingerprint differs from the one stored
in ``schema_views`` (migration 013); read-only and per-request connections never
rewrite them.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import time
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb

from pipeline.config import ensure_dir
from pipeline.errors import DatabaseBusy, WarehouseError

_MIGRATION_RE = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_VIEW_RE = re.compile(r"^(\d{2})_([a-z0-9_]+)\.sql$")
_VIEW_CONFLICT_TRIES = 10  # attempts when another connection of this process re-creates the views at once


# Open transactions by connection: how many `transaction` blocks are inside one another.
_DEPTH: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction on ``con``: commit when the block ends, roll back and re-raise on any error.

    Nested use joins the enclosing transaction (DuckDB has no savepoints): an inner block
    neither begins, commits nor rolls back; its error propagates, and the outermost block
    rolls back everything, the inner block's work included. A ``BEGIN`` written by hand
    around a ``transaction`` block is not seen (DuckDB then refuses the inner ``BEGIN``).
    """
    depth = _DEPTH.get(con, 0)
    if depth:
        _DEPTH[con] = depth + 1
        try:
            yield con
        finally:
            _DEPTH[con] = depth
        return
    con.execute("BEGIN TRANSACTION")
    _DEPTH[con] = 1
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:  # a failed COMMIT has already ended the transaction
            pass
        raise
    finally:
        _DEPTH.pop(con, None)


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
        with transaction(con):
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
        applied.append(version)
    return applied


def views() -> list[tuple[str, str]]:
    """(view name, sql) of every shipped view file, in the order they are created (by number)."""
    folder = resources.files("pipeline.warehouse") / "views"
    found = []
    for entry in folder.iterdir():
        m = _VIEW_RE.match(entry.name)
        if m:
            found.append((int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    return [(name, sql) for _, name, sql in sorted(found)]


def views_fingerprint(shipped: list[tuple[str, str]] | None = None) -> str:
    """sha256 over the view files' names and text, in order: it changes when any view does."""
    digest = hashlib.sha256()
    for name, sql in views() if shipped is None else shipped:
        digest.update(name.encode() + b"\0" + sql.encode("utf-8") + b"\0")
    return digest.hexdigest()


def refresh_views(con: duckdb.DuckDBPyConnection) -> bool:
    """Re-create the shipped views unless the stored fingerprint is theirs. Returns True if it did.

    All in one transaction: a view dropped from the files (and recorded as created by
    an earlier set) is dropped, every file runs in order, the new fingerprint is stored.
    Readers of another connection see the old views or the new ones, never a mix. When
    another connection of this process is re-creating them at the same moment (DuckDB
    reports a write-write conflict), wait for it and check again.
    """
    shipped = views()
    fingerprint = views_fingerprint(shipped)
    names = [name for name, _ in shipped]
    for attempt in range(_VIEW_CONFLICT_TRIES):
        stored = con.execute("SELECT fingerprint, views FROM schema_views").fetchone()
        if stored is not None and stored[0] == fingerprint:
            return False
        try:
            with transaction(con):
                for gone in sorted(set(stored[1] if stored else ()) - set(names)):
                    con.execute(f'DROP VIEW IF EXISTS "{gone}"')
                for _, sql in shipped:
                    con.execute(sql)
                con.execute("DELETE FROM schema_views")
                con.execute("INSERT INTO schema_views VALUES (?, ?, now())", [fingerprint, names])
            return True
        except duckdb.TransactionException:
            if attempt == _VIEW_CONFLICT_TRIES - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    return False  # not reached


def connect(path: Path | str, *, read_only: bool = False, wait_s: float = 0.0, migrate_schema: bool = True,
            create: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (creating and migrating it unless ``read_only``).

    DuckDB lets one process write a file at a time. When another process holds it,
    wait up to ``wait_s`` seconds, then raise :class:`DatabaseBusy` naming the file.
    Only the commands that load calls (``run``, ``watch``, ``backfill``) pass
    ``create=True``: for every other use a missing file is a typo, and a new empty
    warehouse would hide it. Raises :class:`WarehouseError` for a missing file (when
    not ``create``), a folder, or a file that is not a DuckDB database.
    """
    path = Path(path)
    check_warehouse_path(path, create=create and not read_only)
    if not read_only:
        ensure_dir(path.parent, "database")
    deadline = time.monotonic() + wait_s
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise WarehouseError(_open_problem(path, exc)) from None
            if time.monotonic() >= deadline:
                raise DatabaseBusy(
                    f"{path} is open for writing by another process (another `hotline run`?); "
                    "wait for it to finish or pass --wait SECONDS"
                ) from exc
            time.sleep(0.5)
    if migrate_schema and not read_only:
        try:
            migrate(con)
            refresh_views(con)
        except BaseException:
            con.close()
            raise
    return con


def check_warehouse_path(path: Path, *, create: bool) -> None:
    """Raise :class:`WarehouseError` unless ``path`` is an existing file, or may be created."""
    if path.is_dir():
        raise WarehouseError(f"{path}: is a folder, not a DuckDB database file (pass --db FILE)")
    if not path.exists() and not create:
        raise WarehouseError(f"{path}: no such warehouse (check --db / HOTLINE_DB_PATH; "
                             f"`hotline run SOURCE_DIR --db {path}` creates one)")


def _open_problem(path: Path, exc: Exception) -> str:
    text = str(exc).strip()
    if "not a valid DuckDB database" in text:
        return f"{path}: not a DuckDB database file (check --db / HOTLINE_DB_PATH)"
    first = text.splitlines()[0] if text else type(exc).__name__
    return f"{path}: cannot be opened as a DuckDB database ({first})"


# How long a run waits for the web app (or a notebook) to let go of the file before one
# brief piece of work; a request holds it for milliseconds, a search refresh ~1 s.
BRIEF_WAIT_S = 60.0


def run_lock_path(path: Path | str) -> Path:
    """The lock file that makes two runs on one warehouse exclude each other."""
    path = Path(path)
    return path.with_name(path.name + ".run.lock")


@contextmanager
def run_lock(path: Path | str, *, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the warehouse's run lock (``<db>.run.lock``, ``flock``) for a whole run.

    Runs do not hold the database file itself while models work, so the web app can
    read and write between a run's loads; this lock is what keeps a second run out.
    The kernel releases it when the process dies, so a killed run never leaves it
    taken. Raises :class:`DatabaseBusy` after ``wait_s`` seconds.
    """
    lock = run_lock_path(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait_s
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DatabaseBusy(
                        f"{path} is being loaded by another process (another `hotline run`?); "
                        "wait for it to finish or pass --wait SECONDS") from None
                time.sleep(0.5)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def compact(path: Path | str, *, wait_s: float = BRIEF_WAIT_S) -> tuple[int, int]:
    """Rewrite the warehouse into a new file and put it in place of the old one; returns (bytes before, after).

    DuckDB leaves the data of deleted or updated rows in the blocks it frees until they are
    reused: after the retention purge, the raw text it removed is still readable in the file.
    The copy (``COPY FROM DATABASE``) holds only the live rows. The old file stays open, and so
    locked against every other process, until the new one is in its place: a process that
    waited opens the new file, and no write can land in the old one. Hold :func:`run_lock`
    around it (a run must not load meanwhile). Raises :class:`DatabaseBusy` after ``wait_s``.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.compact")
    before = path.stat().st_size
    con = connect(path, wait_s=wait_s, migrate_schema=False)
    try:
        con.execute("CHECKPOINT")
        name = con.execute("SELECT current_database()").fetchone()[0]
        con.execute("ATTACH '" + str(tmp).replace("'", "''") + "' AS hotline_compact")
        try:
            con.execute(f'COPY FROM DATABASE "{name}" TO hotline_compact')
        finally:
            con.execute("DETACH hotline_compact")
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    return before, path.stat().st_size


@contextmanager
def brief(path: Path | str, *, wait_s: float = BRIEF_WAIT_S, migrate_schema: bool = False,
          create: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection for one short piece of work (a call's load), closed after.

    While another process (the web app, between requests) has the file open, wait and
    retry for up to ``wait_s`` seconds, then raise :class:`DatabaseBusy`.
    """
    con = connect(path, wait_s=wait_s, migrate_schema=migrate_schema, create=create)
    try:
        yield con
    finally:
        con.close()
