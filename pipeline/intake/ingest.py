"""Find recordings, identify them by content hash, pair them with call-log rows.

The source folder is never modified: a PBX export is not ours to change. Caller
numbers leave this module only as a salted hash plus the last three digits.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import logging
import os
import re
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path, PurePosixPath

from pipeline.errors import CallLogError
from pipeline.files import AUDIO_EXTENSIONS, open_regular
from pipeline.intake import calllog_asterisk, start_time
from pipeline.logsafe import masked_forms, replace_numbers, safe
from pipeline.records import CallLogEntry, Recording
from pipeline.salt import caller_token, hash_caller
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
    file_problems: tuple[tuple[str, str], ...] = ()  # (relative path, reason) of files skipped: links, unreadable
    encoding: str | None = None  # encoding the call log was read in (utf-8, utf-16, cp1258), None without one


# Files a PBX export may hold that are not recordings are ignored silently; these are
# refused loudly because they are how an untrusted folder reaches outside itself.
_LINK = "symbolic link, not followed (only regular files inside the source folder are read)"


def hash_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of the file's bytes."""
    digest = hashlib.sha256()
    with open_regular(path) as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def name_key(relpath: str, key: str) -> str:
    """An opaque, keyed id of a recording's relative path (``k`` + 24 hex digits).

    PBX file names hold the caller's number (FreePBX: ``in-<to>-<from>-…``), so a name
    never goes where it outlives the call: Prefect flow parameters (kept in Prefect's
    database) and the pull watermark hold this id instead, and the flow finds the file
    again by keying the names it lists. ``key`` is the caller salt: without it the id
    cannot be reversed by trying numbers. Never equal to a caller hash (own prefix).
    """
    mac = hmac.new(key.encode(), b"recording-name\0" + nfc(relpath).encode(), hashlib.sha256)
    return "k" + mac.hexdigest()[:24]


def stage_name(relpath: str, salt: str) -> str:
    """The relative path a pulled recording is staged under: each caller number in it (any phone
    number, :func:`pipeline.logsafe.is_phone_run`) replaced by its :func:`pipeline.salt.caller_token`.

    A FreePBX name keeps its form (``in-101-<token>-20261130-081502-1764490502.11.wav``: kind,
    extension, date, time and uniqueid are what pairing reads), so only its two parties are
    replaced; any other name has its phone-number runs replaced. A name without one is unchanged.
    """

    def token(run: str) -> str:
        return caller_token(run, salt)

    path = PurePosixPath(relpath)
    folders = [replace_numbers(part, token) for part in path.parts[:-1]]
    parties = calllog_asterisk.freepbx_parties(path.name)
    if parties is not None:
        (start, end), to, frm = parties
        phone = lambda party: token(party) if len(re.sub(r"\D", "", party)) >= 7 else party  # noqa: E731
        name = f"{path.name[:start]}{phone(to)}-{phone(frm)}{path.name[end:]}"
    else:
        name = replace_numbers(path.name, token)
    return PurePosixPath(*folders, name).as_posix()


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


def decode_call_log(data: bytes) -> tuple[str, str]:
    """(text, encoding) of a call log's bytes: a BOM first, then UTF-8, then cp1258.

    Vietnamese PBX exports come in UTF-8 (with or without BOM), UTF-16 (Excel's
    "Unicode text") and cp1258 (Windows Vietnamese). cp1258 leaves five bytes
    undefined: a file that is none of these raises ``UnicodeDecodeError``.
    """
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(enc), "utf-16" if enc == "utf-16" else "utf-8"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if len(data) >= 4 and data[1:2] == b"\x00" and data[3:4] == b"\x00":  # UTF-16 LE without a BOM
        return data.decode("utf-16-le"), "utf-16"
    # cp1258 writes tone marks as combining characters: one Unicode form (NFC) for matching.
    return nfc(data.decode("cp1258")), "cp1258"


def read_call_log(csv_path: Path, *, salt: str, with_encoding: bool = False):
    """Read a PBX call-log CSV. Returns (entries by relative file name, problems).

    Rows that are malformed (including a cell over the csv module's 128 KiB field
    limit), name no file, or point outside the source folder are skipped and
    reported in ``problems`` (line number and reason, numbers masked, control
    characters escaped); a file named twice keeps its first row. The encoding is
    detected (:func:`decode_call_log`); ``with_encoding`` adds it as a third value.
    Raises :class:`CallLogError` when the file cannot be read at all or has no
    file-name column.
    """
    csv_path = Path(csv_path)
    try:
        with open_regular(csv_path) as fh:
            text, encoding = decode_call_log(fh.read())
    except (OSError, UnicodeDecodeError) as exc:
        raise CallLogError(f"{safe(csv_path)}: cannot read call log ({safe(exc)})") from exc
    name = safe(csv_path.name)
    # newline="": line breaks inside quoted cells stay in the cell, and U+2028 (which
    # str.splitlines() would split on) is an ordinary character, not a row break.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        fieldnames = reader.fieldnames or []
    except csv.Error as exc:
        raise CallLogError(f"{safe(csv_path)}: unreadable header ({safe(exc)})") from exc
    header = {(h or "").strip().lower(): h for h in fieldnames}
    columns = {}
    for key, aliases in _COLUMNS.items():
        columns[key] = next((header[a] for a in aliases if a in header), None)
    if columns["file_name"] is None:
        raise CallLogError(f"{safe(csv_path)}: no file-name column (expected one of {', '.join(_COLUMNS['file_name'])})")
    entries: dict[str, CallLogEntry] = {}
    problems: list[str] = []
    while True:
        line_no = reader.reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. "field larger than field limit (131072)": skip that row, go on
            problems.append(f"{name} line {line_no}: unreadable row ({safe(exc)})")
            continue

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
            problems.append(f"{name} line {line_no}: {safe(exc)}")
            continue
        if relpath in entries:
            problems.append(f"{name} line {line_no}: {safe(relpath)} listed again; first row kept")
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
    if with_encoding:
        return entries, problems, encoding
    return entries, problems


def _walk(source_dir: Path, problems: list[tuple[str, str]] | None = None):
    """(path, relative POSIX path, lstat) of each audio file under ``source_dir``, never following a link.

    Hidden files and folders are skipped. A symbolic link, to a file or a folder,
    is never followed (a PBX export folder is untrusted: a link may point at
    ``/proc/self/environ`` or ``/etc/passwd``); one with an audio extension is
    reported in ``problems``. Files that vanish or cannot be stat'ed are reported too.
    """
    source_dir = Path(source_dir)

    def _onerror(exc: OSError):
        if problems is not None and exc.filename:
            try:
                rel = Path(exc.filename).relative_to(source_dir).as_posix()
            except ValueError:
                rel = str(exc.filename)
            problems.append((rel, f"folder not readable ({exc.strerror or exc})"))

    for top, dirs, files in os.walk(source_dir, followlinks=False, onerror=_onerror):
        top_path = Path(top)
        keep = []
        for d in dirs:
            if d.startswith("."):
                continue
            if (top_path / d).is_symlink():
                if problems is not None:
                    problems.append(((top_path / d).relative_to(source_dir).as_posix(), _LINK))
                continue
            keep.append(d)
        dirs[:] = sorted(keep)
        for f in sorted(files):
            if f.startswith(".") or Path(f).suffix.lower() not in AUDIO_EXTENSIONS:
                continue
            path = top_path / f
            rel = path.relative_to(source_dir).as_posix()
            try:
                st = path.lstat()
            except FileNotFoundError:  # moved away between listing and stat
                continue
            except OSError as exc:
                if problems is not None:
                    problems.append((rel, f"cannot stat ({exc.strerror or exc})"))
                continue
            if stat.S_ISLNK(st.st_mode):
                if problems is not None:
                    problems.append((rel, _LINK))
                continue
            if not stat.S_ISREG(st.st_mode):
                if problems is not None:
                    problems.append((rel, "not a regular file"))
                continue
            yield path, rel, st


def snapshot(source_dir: Path) -> dict[str, tuple[int, int]]:
    """(size in bytes, mtime in ns) of every audio file under ``source_dir``, by relative path.

    Costs one ``stat`` per file and reads no audio: cheap enough to run at every poll.
    Symbolic links are not listed (see :func:`_walk`).
    """
    return {rel: (st.st_size, st.st_mtime_ns) for _, rel, st in _walk(Path(source_dir))}


def find_audio_files(source_dir: Path, *, settle_s: float = 0.0, previous: dict[str, tuple[int, int]] | None = None,
                     only: Iterable[str] | None = None, only_keys: Iterable[str] | None = None,
                     key: str | None = None, problems: list[tuple[str, str]] | None = None) -> list[Path]:
    """Audio files under ``source_dir``, recursively, sorted by relative path.

    Hidden files, symbolic links (never followed; reported in ``problems``) and
    files possibly still being written by the PBX are left out: those modified less
    than ``settle_s`` seconds ago and, when ``previous`` (a :func:`snapshot` from the
    last poll) is given, those whose size or mtime changed since then or that it did
    not hold. ``only`` restricts the scan to these relative paths, ``only_keys`` to the
    files whose :func:`name_key` (with ``key``) is one of these.
    """
    source_dir = Path(source_dir)
    now = time.time()
    wanted = set(only) if only is not None else None
    wanted_keys = set(only_keys) if only_keys is not None else None
    if wanted_keys is not None and not key:
        raise ValueError("only_keys needs the key the ids were made with")
    found = []
    for path, rel, st in _walk(source_dir, problems):
        if wanted is not None and rel not in wanted:
            continue
        if wanted_keys is not None and name_key(rel, key) not in wanted_keys:
            continue
        if settle_s and now - st.st_mtime < settle_s:
            continue
        if previous is not None and previous.get(rel) != (st.st_size, st.st_mtime_ns):
            continue
        found.append((rel, path))
    return [path for _, path in sorted(found)]


def scan_source(source_dir: Path, *, calls_csv: Path | None = None, salt: str, settle_s: float = 0.0,
                only: Iterable[str] | None = None, only_keys: Iterable[str] | None = None,
                call_log_format: str = "hotline") -> ScanResult:
    """Find every recording under ``source_dir``, hash it and attach its call-log row.

    ``calls_csv`` defaults to ``source_dir/calls.csv`` when that exists; ``settle_s``,
    ``only`` and ``only_keys`` (:func:`name_key` ids made with ``salt``) are passed to
    :func:`find_audio_files`. A file that cannot be read
    (no permission, a link, gone) is skipped and reported in ``file_problems``; a
    call-log row naming no recording found is reported in ``log_problems`` (full
    scans only: a restricted scan leaves the others for their own turn). Raises
    :class:`CallLogError` when the folder does not exist or the call log is unreadable.
    ``call_log_format`` auto | hotline | asterisk: see :mod:`pipeline.intake.calllog_asterisk` (auto also
    finds a ``Master.csv``).
    """
    source_dir = Path(source_dir).resolve()
    if not source_dir.is_dir():
        raise CallLogError(f"{safe(source_dir)}: source folder does not exist")
    found_problems: list[str] = []  # a call log in the folder that is a link: not followed, said so
    if calls_csv is None:
        found = calllog_asterisk.find_call_log(source_dir, found_problems)
        calls_csv = found if call_log_format != "hotline" or (found and found.name == "calls.csv") else None
    if call_log_format != "hotline":  # Asterisk cdr-csv + FreePBX names (issue 18): a separate module
        calls_csv, call_log_format = calllog_asterisk.choose(source_dir, calls_csv, call_log_format)
    if call_log_format == "asterisk":
        entries, problems = calllog_asterisk.read_for_source(calls_csv, sorted(snapshot(source_dir)), salt=salt)
        encoding = None
    else:
        entries, problems, encoding = (read_call_log(Path(calls_csv), salt=salt, with_encoding=True) if calls_csv
                                       else ({}, [], None))
    problems = found_problems + list(problems)
    staged: dict[str, CallLogEntry] | None = None

    def staged_entry(rel: str) -> CallLogEntry | None:
        """The row of a recording pulled over SFTP: staged under :func:`stage_name`, its row names it as listed."""
        nonlocal staged
        if staged is None:
            staged = {nfc(stage_name(name, salt)): entry for name, entry in entries.items()}
        return staged.get(rel)
    file_problems: list[tuple[str, str]] = []
    recordings = []
    for path in find_audio_files(source_dir, settle_s=settle_s, only=only, only_keys=only_keys, key=salt,
                                 problems=file_problems):
        rel = path.relative_to(source_dir).as_posix()
        try:
            size, digest = path.lstat().st_size, hash_file(path)
        except FileNotFoundError:  # moved away by the PBX between listing and hashing
            continue
        except OSError as exc:  # mode 000, swapped for a link, I/O error: this file only
            file_problems.append((rel, f"cannot read ({exc.strerror or type(exc).__name__})"))
            continue
        entry = entries.get(nfc(rel)) or staged_entry(nfc(rel))
        guess, source = (None, None) if entry and entry.started_at else start_time.recording_start(path, rel)
        recordings.append(Recording(path=path, relpath=rel, sha256=digest, size_bytes=size, log=entry,
                                    estimated_start=guess, start_source=source))
    found = {nfc(r.relpath) for r in recordings} | {nfc(rel) for rel, _ in file_problems}
    unmatched = [rel for rel in entries if rel not in found and nfc(stage_name(rel, salt)) not in found]
    if only is None and only_keys is None and calls_csv:
        problems.extend(f"{safe(Path(calls_csv).name)}: {safe(rel)} names no recording found in the folder"
                        for rel in unmatched)
    if encoding and encoding != "utf-8":
        log.info("call log read as %s", encoding)
    for p in problems:
        log.warning("call log: %s", safe(p))
    for rel, why in file_problems:
        log.warning("skipped %s: %s", safe(rel), why)
    return ScanResult(tuple(recordings), tuple(problems), len(unmatched), tuple(file_problems), encoding)


def dedupe(recordings: tuple[Recording, ...] | list[Recording],
           problems: list[str] | None = None) -> list[Recording]:
    """One recording per content hash (the same bytes copied twice are one call).

    Each recording dropped as a copy is reported in ``problems`` (with its PBX call
    id when the call log gave one), so no call-log row vanishes unreported.
    """
    seen: dict[str, Recording] = {}
    dropped: list[tuple[Recording, Recording]] = []
    for rec in recordings:
        if rec.sha256 not in seen:
            seen[rec.sha256] = rec
        elif rec.log and not seen[rec.sha256].log:
            dropped.append((seen[rec.sha256], rec))
            seen[rec.sha256] = replace(rec)
        else:
            dropped.append((rec, seen[rec.sha256]))
    if problems is not None:
        for gone, kept in dropped:
            pbx = f" (PBX call {safe(gone.log.pbx_call_id)})" if gone.log and gone.log.pbx_call_id else ""
            problems.append(f"{safe(gone.relpath)}{pbx}: same audio as {safe(kept.relpath)} "
                            f"(call {kept.call_id}); not counted as a separate call")
    return list(seen.values())


def locate(source_dir: Path, stored_path: str, sha256: str | None = None) -> Path | None:
    """Find a recording again from its stored (masked) relative path and its content hash.

    ``calls.source_path`` holds the path with caller numbers masked
    (``in-***456.wav``): the file is found by masking the names under
    ``source_dir`` the same way and, since two numbers may share their last three
    digits, checking the SHA-256. An unmasked path is taken as it is (hash checked
    when given). Links are never followed; None when nothing matches.
    """
    source_dir = Path(source_dir)
    if not stored_path or not source_dir.is_dir():
        return None
    rel = stored_path  # a POSIX path as scan_source made it (a backslash is part of a name on POSIX)
    parts = PurePosixPath(rel).parts
    if PurePosixPath(rel).is_absolute() or ".." in parts:
        return None
    candidates = []
    direct = source_dir / rel
    if "***" not in rel or direct.exists():
        candidates.append(direct)
    if "***" in rel:
        candidates.extend(p for p, r, _ in _walk(source_dir)
                          if nfc(rel) in {nfc(m) for m in masked_forms(r)} and source_dir / r != direct)
    for path in candidates:
        try:
            if not stat.S_ISREG(path.lstat().st_mode):
                continue
            if sha256 is None and "***" not in rel:
                return path
            if hash_file(path) == sha256:
                return path
        except OSError:
            continue
    return None
