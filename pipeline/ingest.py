"""Find recordings, identify them by content hash, pair them with call-log rows.

The source folder is never modified: a PBX export is not ours to change. Caller
numbers leave this module only as a salted hash plus the last three digits.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path, PurePosixPath

from pipeline.audio import AUDIO_EXTENSIONS
from pipeline.errors import CallLogError
from pipeline.records import CallLogEntry, Recording
from pipeline.textnorm import nfc

log = logging.getLogger(__name__)

# Header names PBX exports use for the columns we need, first one canonical.
_COLUMNS = {
    "pbx_call_id": ("call_id", "id", "uniqueid", "callid"),
    "started_at": ("start_time", "started_at", "start", "calldate", "date"),
    "caller": ("caller_number", "caller", "src", "from", "caller_id"),
    "operator_ext": ("operator_ext", "extension", "dst", "agent", "operator"),
    "direction": ("direction", "type"),
    "file_name": ("file_name", "recording", "recordingfile", "file", "filename"),
}
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M")


@dataclass(frozen=True)
class ScanResult:
    recordings: tuple[Recording, ...]  # every audio file found, sorted by relative path
    log_problems: tuple[str, ...]  # call-log rows skipped, each with its line number and reason
    unmatched_log_rows: int  # call-log rows that name no file found


def hash_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of the file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def normalise_number(raw: str) -> str:
    """Digits of a Vietnamese phone number in national form: ``+84 905…`` → ``0905…``."""
    digits = re.sub(r"\D", "", raw or "")
    if digits.startswith("84") and len(digits) >= 11:
        digits = "0" + digits[2:]
    return digits


def hash_caller(raw: str, salt: str) -> tuple[str | None, str | None]:
    """(salted HMAC-SHA-256 hex, last three digits) of a caller number; (None, None) if empty."""
    digits = normalise_number(raw)
    if not digits:
        return None, None
    mac = hmac.new(salt.encode(), digits.encode(), hashlib.sha256).hexdigest()
    return mac, digits[-3:]


def parse_time(raw: str) -> datetime | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        pass
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(raw, fmt)
        except ValueError:
            continue
    raise ValueError(f"unreadable start time {raw!r}")


def _safe_relpath(raw: str) -> str:
    """The call log's file name as a POSIX path inside the source folder, or ValueError."""
    name = (raw or "").strip().replace("\\", "/")
    if not name:
        raise ValueError("no file name")
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", name):
        raise ValueError(f"file name {name!r} points outside the source folder")
    # One Unicode form, so "Buôn Ma Thuột.wav" written by macOS (NFD) matches the log (NFC).
    return nfc(str(path))


def read_call_log(csv_path: Path, *, salt: str) -> tuple[dict[str, CallLogEntry], list[str]]:
    """Read a PBX call-log CSV. Returns (entries by relative file name, problems).

    Rows that are malformed, name no file, or point outside the source folder are
    skipped and reported in ``problems`` (line number and reason, never the caller
    number); a file named twice keeps its first row. Raises :class:`CallLogError`
    when the file cannot be read at all or has no file-name column.
    """
    try:
        text = Path(csv_path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CallLogError(f"{csv_path}: cannot read call log ({exc})") from exc
    reader = csv.DictReader(text.splitlines())
    header = {(h or "").strip().lower(): h for h in (reader.fieldnames or [])}
    columns = {}
    for key, aliases in _COLUMNS.items():
        columns[key] = next((header[a] for a in aliases if a in header), None)
    if columns["file_name"] is None:
        raise CallLogError(f"{csv_path}: no file-name column (expected one of {', '.join(_COLUMNS['file_name'])})")
    entries: dict[str, CallLogEntry] = {}
    problems: list[str] = []
    for line_no, row in enumerate(reader, start=2):
        def get(key: str) -> str:
            col = columns[key]
            value = row.get(col) if col else None
            return value.strip() if isinstance(value, str) else ""

        try:
            if None in row:  # DictReader puts surplus cells under None
                raise ValueError(f"{len(row[None])} more cells than the header")
            relpath = _safe_relpath(get("file_name"))
            started = parse_time(get("started_at"))
        except ValueError as exc:
            problems.append(f"{csv_path.name} line {line_no}: {exc}")
            continue
        if relpath in entries:
            problems.append(f"{csv_path.name} line {line_no}: {relpath} listed again; first row kept")
            continue
        caller_hash, last3 = hash_caller(get("caller"), salt)
        entries[relpath] = CallLogEntry(
            pbx_call_id=get("pbx_call_id") or None,
            file_name=relpath,
            started_at=started,
            caller_hash=caller_hash,
            caller_last3=last3,
            operator_ext=get("operator_ext") or None,
            direction=get("direction").lower() or None,
        )
    return entries, problems


def _is_candidate(path: Path, rel: Path) -> bool:
    if any(part.startswith(".") for part in rel.parts):
        return False
    return path.suffix.lower() in AUDIO_EXTENSIONS and path.is_file()


def snapshot(source_dir: Path) -> dict[str, tuple[int, int]]:
    """(size in bytes, mtime in ns) of every audio file under ``source_dir``, by relative path.

    Costs one ``stat`` per file and reads no audio: cheap enough to run at every poll.
    """
    source_dir = Path(source_dir)
    out = {}
    for path in source_dir.rglob("*"):
        rel = path.relative_to(source_dir)
        if _is_candidate(path, rel):
            st = path.stat()
            out[rel.as_posix()] = (st.st_size, st.st_mtime_ns)
    return out


def find_audio_files(source_dir: Path, *, settle_s: float = 0.0, previous: dict[str, tuple[int, int]] | None = None,
                     only: Iterable[str] | None = None) -> list[Path]:
    """Audio files under ``source_dir``, recursively, sorted by relative path.

    Hidden files and files possibly still being written by the PBX are left for a
    later scan: those modified less than ``settle_s`` seconds ago and, when
    ``previous`` (a :func:`snapshot` from the last poll) is given, those whose size
    or mtime changed since then or that it did not hold. ``only`` restricts the scan
    to these relative paths.
    """
    source_dir = Path(source_dir)
    now = time.time()
    wanted = set(only) if only is not None else None
    found = []
    for path in source_dir.rglob("*"):
        rel = path.relative_to(source_dir)
        if not _is_candidate(path, rel):
            continue
        if wanted is not None and rel.as_posix() not in wanted:
            continue
        st = path.stat()
        if settle_s and now - st.st_mtime < settle_s:
            continue
        if previous is not None and previous.get(rel.as_posix()) != (st.st_size, st.st_mtime_ns):
            continue
        found.append(path)
    return sorted(found, key=lambda p: p.relative_to(source_dir).as_posix())


def scan_source(source_dir: Path, *, calls_csv: Path | None = None, salt: str, settle_s: float = 0.0,
                only: Iterable[str] | None = None, call_log_format: str = "hotline") -> ScanResult:
    """Find every recording under ``source_dir``, hash it and attach its call-log row.

    ``calls_csv`` defaults to ``source_dir/calls.csv`` when that exists; ``settle_s``
    and ``only`` are passed to :func:`find_audio_files`. ``call_log_format`` auto |
    hotline | asterisk: see :mod:`pipeline.calllog_asterisk` (auto also finds a
    ``Master.csv``). Raises :class:`CallLogError` when the folder does not exist or
    the call log is unreadable.
    """
    source_dir = Path(source_dir).resolve()
    if not source_dir.is_dir():
        raise CallLogError(f"{source_dir}: source folder does not exist")
    if calls_csv is None and (source_dir / "calls.csv").is_file():
        calls_csv = source_dir / "calls.csv"
    if call_log_format != "hotline":  # Asterisk cdr-csv + FreePBX names (issue 18): a separate module
        from pipeline import calllog_asterisk

        calls_csv, call_log_format = calllog_asterisk.choose(source_dir, calls_csv, call_log_format)
    if call_log_format == "asterisk":
        entries, problems = calllog_asterisk.read_for_source(calls_csv, source_dir, salt=salt)
    else:
        entries, problems = read_call_log(Path(calls_csv), salt=salt) if calls_csv else ({}, [])
    recordings = []
    for path in find_audio_files(source_dir, settle_s=settle_s, only=only):
        rel = path.relative_to(source_dir).as_posix()
        try:
            size, digest = path.stat().st_size, hash_file(path)
        except FileNotFoundError:  # moved away by the PBX between listing and hashing
            continue
        recordings.append(Recording(path=path, relpath=rel, sha256=digest, size_bytes=size, log=entries.get(nfc(rel))))
    found = {r.relpath for r in recordings}
    found = {nfc(rel) for rel in found}
    unmatched = sum(1 for rel in entries if rel not in found)
    for p in problems:
        log.warning("call log: %s", p)
    return ScanResult(tuple(recordings), tuple(problems), unmatched)


def dedupe(recordings: tuple[Recording, ...] | list[Recording]) -> list[Recording]:
    """One recording per content hash (the same bytes copied twice are one call)."""
    seen: dict[str, Recording] = {}
    for rec in recordings:
        if rec.sha256 not in seen:
            seen[rec.sha256] = rec
        elif rec.log and not seen[rec.sha256].log:
            seen[rec.sha256] = replace(rec)
    return list(seen.values())
