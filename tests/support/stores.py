"""Count a test's caller numbers in clear in every store the product writes (issue 25).

After a test has run the real flows on number-bearing file names and call logs,
:func:`scan` walks each store and counts the numbers in any common written form:

- ``warehouse``: every column of every table of the DuckDB file (cast to text), and
  the file's own bytes (rows deleted but not yet overwritten);
- ``logs``: the text the test captured (caplog, stdout/stderr) and log files under home;
- ``prefect_db``: Prefect's SQLite databases (this session's test server, and any under
  ``PREFECT_HOME``): every table and column (flow-run parameters, task and flow run
  names, states, logs, events), and the files' bytes (deleted rows, the WAL);
- ``result_cache``: Prefect's persisted results (pickles of raw transcripts, read out of their base64);
- ``watermarks``: the pull watermarks (``.pull-state.json``);
- ``staging``: pulled copies (names and contents), ``quarantine``: quarantined copies and
  their notes, ``exports``: report and export files (``HOTLINE_REPORT_DIR``, exports the
  test wrote), ``other``: anything else under the home folder.

A number counts in any of its forms: ``0905123456``, ``0905 123 456``, ``0905.123.456``,
``0905_123_456``, ``(0905)123456``, ``+84 905 123 456``, ``84905123456``: the text is
stripped of separators and searched for the national number without its leading 0.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

STORES = ("warehouse", "logs", "prefect_db", "result_cache", "watermarks", "staging", "quarantine", "exports")
_SEPARATORS = re.compile(rb"[ .\-_()/\\+\t\xa0]")
STATE_FILE = ".pull-state.json"


def _cores(numbers) -> list[bytes]:
    """What every written form of each number contains once separators are gone: its digits after
    the trunk 0 (or the 84 country code)."""
    out = []
    for number in numbers:
        digits = re.sub(r"\D", "", str(number))
        if digits.startswith("84") and len(digits) >= 11:
            digits = digits[2:]
        out.append(digits.lstrip("0").encode())
    return [c for c in out if len(c) >= 6]


def count_in_bytes(numbers, data: bytes | str) -> int:
    """Occurrences of ``numbers`` (any written form) in ``data``."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    flat = _SEPARATORS.sub(b"", data)
    return sum(flat.count(core) for core in _cores(numbers))


@dataclass
class StoreScan:
    counts: Counter = field(default_factory=Counter)  # store → clear numbers found
    where: list = field(default_factory=list)  # (store, place, count) of each find, for assertion messages
    scanned: set = field(default_factory=set)  # stores looked at (some may hold nothing yet)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, store: str, place: str, n: int) -> None:
        self.scanned.add(store)
        if n:
            self.counts[store] += n
            self.where.append((store, place, n))

    def by_store(self) -> dict[str, int]:
        """Clear numbers by store, for the stores looked at (a store that was not there is not in it)."""
        return {s: self.counts.get(s, 0) for s in sorted(self.scanned)}


def _duckdb_rows(numbers, path: Path, out: StoreScan) -> None:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        for schema, table in con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                                         "WHERE table_type = 'BASE TABLE'").fetchall():
            n = 0
            for row in con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall():
                n += count_in_bytes(numbers, repr(row))
            out.add("warehouse", f"{path.name}:{table}", n)
    finally:
        con.close()


def _sqlite_rows(numbers, path: Path, store: str, out: StoreScan) -> None:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            n = 0
            for row in con.execute(f'SELECT * FROM "{table}"'):
                n += count_in_bytes(numbers, repr(row))
            out.add(store, f"{path.name}:{table}", n)
    finally:
        con.close()


def prefect_databases() -> list[Path]:
    """The SQLite files of the Prefect servers this test process used."""
    found = []
    try:
        from prefect.settings import get_current_settings

        url = str(get_current_settings().server.database.connection_url.get_secret_value()
                  if hasattr(get_current_settings().server.database.connection_url, "get_secret_value")
                  else get_current_settings().server.database.connection_url or "")
    except Exception:
        url = ""
    for candidate in (url, os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL", ""),
                      os.environ.get("PREFECT_SERVER_DATABASE_CONNECTION_URL", "")):
        if candidate.startswith("sqlite"):
            found.append(Path(candidate.split(":///", 1)[1]))
    home = os.environ.get("PREFECT_HOME")
    if home:
        found.extend(Path(home).glob("*.db"))
    return [p for p in dict.fromkeys(p.resolve() for p in found) if p.is_file()]


def result_cache_dirs() -> list[Path]:
    """Where Prefect persists task results in this process (and the default under ``PREFECT_HOME``)."""
    dirs = []
    try:
        from prefect.settings import get_current_settings

        dirs.append(Path(get_current_settings().results.local_storage_path))
    except Exception:
        pass
    for env in ("PREFECT_RESULTS_LOCAL_STORAGE_PATH", "PREFECT_LOCAL_STORAGE_PATH"):
        if os.environ.get(env):
            dirs.append(Path(os.environ[env]))
    if os.environ.get("PREFECT_HOME"):
        dirs.append(Path(os.environ["PREFECT_HOME"]) / "storage")
    return [d for d in dict.fromkeys(d.resolve() for d in dirs) if d.is_dir()]


def _classify(path: Path, home: Path, exports: list[Path]) -> str:
    if path.name == STATE_FILE:
        return "watermarks"
    if any(path.is_relative_to(e) for e in exports):
        return "exports"
    rel = path.relative_to(home).parts if path.is_relative_to(home) else ()
    top = rel[0] if rel else ""
    if top == "staging":
        return "staging"
    if top == "quarantine":
        return "quarantine"
    if top in ("reports", "exports"):
        return "exports"
    if path.suffix in (".log",):
        return "logs"
    return "other"


def _decoded(data: bytes) -> bytes:
    """A Prefect result record's pickle, out of its base64 (the JSON Prefect writes), else the bytes as they are."""
    if data[:1] != b"{" or b'"result"' not in data[:4096] and b'"result"' not in data[-4096:]:
        return data
    try:
        record = json.loads(data)
        return data + b"\n" + base64.b64decode(record.get("result") or "")
    except (ValueError, TypeError, AttributeError):
        return data


def _file(numbers, path: Path, store: str, out: StoreScan, place: str | None = None) -> None:
    n = count_in_bytes(numbers, path.name)
    data = b""
    try:
        if path.is_file() and not path.is_symlink():
            data = _decoded(path.read_bytes())
            n += count_in_bytes(numbers, data)
    except OSError:
        pass
    out.add(store, place or str(path), n)


def scan(numbers, *, home: Path | None = None, logs: str | list[str] = "", exports: list[Path] = (),
         prefect: bool = True, extra: dict[str, list[Path]] | None = None, exclude: list[Path] = ()) -> StoreScan:
    """Clear ``numbers`` in every store (module docstring). ``home``: the hotline home folder (warehouse,
    staging, quarantine, reports…); ``logs``: captured log text; ``exports``: export files or folders
    written outside home; ``extra``: more folders or files by store name; ``exclude``: folders under
    ``home`` that are no store of ours (the PBX's own recordings folder a test made there)."""
    out = StoreScan()
    excluded = [Path(e).resolve() for e in exclude]
    for text in ([logs] if isinstance(logs, str) else logs):
        out.add("logs", "captured", count_in_bytes(numbers, text))
    exports = [Path(e).resolve() for e in exports]
    skip: set[Path] = set()
    if prefect:
        for db in prefect_databases():
            _sqlite_rows(numbers, db, "prefect_db", out)
            for f in db.parent.glob(db.name + "*"):  # the file itself, -wal, -journal: deleted rows too
                _file(numbers, f, "prefect_db", out, f"{f.name} (bytes)")
                skip.add(f.resolve())
        for folder in result_cache_dirs():
            out.add("result_cache", str(folder), 0)
            for f in folder.rglob("*"):
                _file(numbers, f, "result_cache", out)
                skip.add(f.resolve())
    for e in exports:
        for f in ([e] if e.is_file() else e.rglob("*")):
            _file(numbers, f, "exports", out)
            skip.add(f.resolve())
    for store, places in (extra or {}).items():
        for place in places:
            place = Path(place)
            for f in ([place] if place.is_file() else place.rglob("*")):
                _file(numbers, f, store, out)
                skip.add(f.resolve())
    if home is not None and Path(home).is_dir():
        home = Path(home).resolve()
        for f in sorted(home.rglob("*")):
            if f.resolve() in skip or f.is_relative_to(home / "models") or any(f.is_relative_to(e) for e in excluded):
                continue
            if f.suffix == ".duckdb" and f.is_file():
                _duckdb_rows(numbers, f, out)
                _file(numbers, f, "warehouse", out, f"{f.name} (bytes)")
                continue
            if f.name.endswith((".duckdb.wal", ".duckdb.lock")):
                _file(numbers, f, "warehouse", out)
                continue
            _file(numbers, f, _classify(f, home, exports), out)
            if f.is_dir():
                out.scanned.add(_classify(f, home, exports))
    return out


def describe(result: StoreScan) -> str:
    """``warehouse=0 logs=0 …`` and where any find was."""
    line = " ".join(f"{k}={result.counts.get(k, 0) if k in result.scanned else 'not scanned'}"
                    for k in sorted(set(STORES) | result.scanned))
    if result.where:
        line += "; found in " + ", ".join(f"{s}:{p}={n}" for s, p, n in result.where[:20])
    return line
