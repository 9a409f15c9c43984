"""Where recordings come from: a local folder or an SFTP server, behind one small protocol.

A source only ever *reads*: it lists files (relative path → size and mtime) and
copies one file out. Nothing on the source is written, renamed or deleted.

:func:`pull` brings a source's new, complete files to a local folder the pipeline
can scan, incrementally:

- a watermark file (``.pull-state.json`` in the staging folder) holds what the last
  listing saw and what has been pulled, by size and mtime under a keyed id of the relative
  path (:func:`pipeline.intake.ingest.name_key`), never the name itself: PBX file names hold
  the caller's number, and the watermark outlives every purge;
- a file is taken only once its size and mtime are the same at two listings in a
  row (and it is ``settle_s`` old): a PBX still writing a recording changes them;
- a download goes to a hidden ``.partial`` file (ingest skips hidden paths), is
  checked against the listed size and a fresh ``stat`` of the source, and only then
  renamed into place: the pipeline never sees a partial download.

A local folder needs no copy: its staging folder *is* the folder, and only the
watermark is kept (beside the database, not in the PBX's folder).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import stat as statmod
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import unquote, urlsplit

from pipeline.errors import HotlineError
from pipeline.files import AUDIO_EXTENSIONS, FileTooLarge, copy_capped, open_regular
from pipeline.intake.ingest import name_key, stage_name
from pipeline.logsafe import safe

log = logging.getLogger(__name__)

CALL_LOG_EXTENSIONS = frozenset({".csv"})  # calls.csv, Asterisk cdr-csv Master.csv
STATE_FILE = ".pull-state.json"


class SourceError(HotlineError):
    """A recordings source cannot be reached, authenticated or read."""

    exit_code = 7


@dataclass(frozen=True)
class RemoteFile:
    size: int  # bytes
    mtime: int  # s since the epoch (SFTP gives whole seconds)


class Source(Protocol):
    """What every source offers. ``relpath`` is POSIX, relative to the source's root."""

    def describe(self) -> str:
        """Where the source is, for logs: never a password."""

    def list_files(self) -> dict[str, RemoteFile]:
        """Recordings and call logs under the root, recursively; hidden paths left out."""

    def stat(self, relpath: str) -> RemoteFile | None:
        """The file's size and mtime now, or None when it is gone."""

    def fetch(self, relpath: str, dest: Path, max_bytes: int | None = None) -> None:
        """Copy the file to ``dest`` (a new local file); the source is not changed. Raises
        :class:`FileTooLarge` as soon as more than ``max_bytes`` came (None: no cap)."""

    def local_root(self) -> Path | None:
        """The folder itself when the pipeline can read it in place (no copy needed)."""

    def close(self) -> None: ...


def wanted(relpath: str) -> bool:
    """Audio recordings and CSV call logs, not hidden files or folders (PBX temporary files)."""
    path = PurePosixPath(relpath)
    if any(part.startswith(".") for part in path.parts):
        return False
    ext = path.suffix.lower()
    return ext in AUDIO_EXTENSIONS or ext in CALL_LOG_EXTENSIONS


def is_audio(relpath: str) -> bool:
    return PurePosixPath(relpath).suffix.lower() in AUDIO_EXTENSIONS


# ---------------------------------------------------------------------------- local


class LocalSource:
    """Today's source: a folder on this machine, read in place."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise SourceError(f"{self.root}: source folder does not exist")

    def describe(self) -> str:
        return str(self.root)

    def list_files(self) -> dict[str, RemoteFile]:
        out = {}
        for path in self.root.rglob("*"):
            rel = path.relative_to(self.root).as_posix()
            if wanted(rel) and path.is_file():
                st = path.stat()
                out[rel] = RemoteFile(st.st_size, int(st.st_mtime))
        return out

    def stat(self, relpath: str) -> RemoteFile | None:
        try:
            st = (self.root / relpath).stat()
        except FileNotFoundError:
            return None
        return RemoteFile(st.st_size, int(st.st_mtime))

    def fetch(self, relpath: str, dest: Path, max_bytes: int | None = None) -> None:
        with open_regular(self.root / relpath) as src:
            copy_capped(src, dest, max_bytes)

    def local_root(self) -> Path | None:
        return self.root

    def close(self) -> None:
        pass


# ----------------------------------------------------------------------------- sftp


@dataclass(frozen=True)
class SftpLocation:
    user: str
    host: str
    port: int
    path: str  # absolute remote folder

    def describe(self) -> str:
        return f"sftp://{self.user}@{self.host}:{self.port}{self.path}"


def parse_sftp_url(url: str) -> SftpLocation:
    """``sftp://user@host[:port]/path`` → its parts. A password in the URL is refused (it would be logged)."""
    parts = urlsplit(url)
    if parts.scheme != "sftp":
        raise SourceError(f"not an sftp:// URL: {url!r}")
    if parts.password is not None:
        raise SourceError("put the SFTP password in HOTLINE_SFTP_PASSWORD or a Prefect Secret block "
                          "(HOTLINE_SFTP_PASSWORD_SECRET), not in the URL")
    if not parts.hostname:
        raise SourceError(f"no host in {parts.scheme}://…{parts.path}")
    user = unquote(parts.username or os.environ.get("USER", ""))
    path = unquote(parts.path) or "/"
    try:
        port = parts.port or 22
    except ValueError as exc:
        raise SourceError(f"bad port in SFTP URL: {exc}") from exc
    return SftpLocation(user=user, host=parts.hostname, port=port, path=path)


def is_remote(source: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*://", str(source)))


class SftpSource:
    """A folder on an SFTP server (the PBX, or a recording server). Read-only use.

    Host keys are checked against ``known_hosts`` (settings ``sftp_known_hosts``, by
    default ``~/.ssh/known_hosts``); an unknown or changed host key is refused.
    """

    def __init__(self, location: SftpLocation, *, known_hosts: Path, key_path: Path | None = None,
                 password: str | None = None, timeout_s: float = 15.0):
        import paramiko

        self.location = location
        client = paramiko.SSHClient()
        known_hosts = Path(known_hosts).expanduser()
        if not known_hosts.is_file():
            raise SourceError(f"{known_hosts}: no known_hosts file; add the server's host key "
                              f"(ssh-keyscan -p {location.port} {location.host} >> {known_hosts}, then check it)")
        client.load_host_keys(str(known_hosts))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(location.host, port=location.port, username=location.user,
                           key_filename=str(key_path) if key_path else None, password=password,
                           look_for_keys=False, allow_agent=False, timeout=timeout_s, banner_timeout=timeout_s,
                           auth_timeout=timeout_s)
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise SourceError(f"{location.describe()}: host key does not match {known_hosts}: refused") from exc
        except paramiko.SSHException as exc:
            client.close()
            # paramiko's messages name the host and the key type, never the password.
            raise SourceError(f"{location.describe()}: {exc}") from exc
        except OSError as exc:
            client.close()
            raise SourceError(f"{location.describe()}: cannot connect ({exc})") from exc
        self._client = client
        self._sftp = client.open_sftp()

    @classmethod
    def from_settings(cls, url: str, settings) -> "SftpSource":
        """The server ``url`` names, with the settings' key, known hosts and password (a password kept in a
        Prefect Secret block is read into the settings by the flows: :func:`flows.environment.with_secrets`)."""
        key = Path(settings.sftp_key_path).expanduser() if settings.sftp_key_path else None
        return cls(parse_sftp_url(url), known_hosts=Path(settings.sftp_known_hosts), key_path=key,
                   password=settings.sftp_password or None, timeout_s=settings.sftp_timeout_s)

    def describe(self) -> str:
        return self.location.describe()

    def _remote(self, relpath: str) -> str:
        return str(PurePosixPath(self.location.path) / relpath)

    def list_files(self) -> dict[str, RemoteFile]:
        """As :meth:`Source.list_files`. The server is not trusted: an entry whose name is not one file
        name (a ``/``, a NUL) or a folder deeper than :data:`MAX_DEPTH` is not listed but put in
        ``self.refused`` ((path, why), for :func:`pull` to report), and a link is never followed."""
        out: dict[str, RemoteFile] = {}
        self.refused: list[tuple[str, str]] = []
        stack = [("", 0)]
        while stack:
            rel_dir, depth = stack.pop()
            try:
                entries = self._sftp.listdir_attr(self._remote(rel_dir) if rel_dir else self.location.path)
            except OSError as exc:
                if not rel_dir:
                    raise SourceError(f"{self.describe()}: cannot list {self.location.path} ({exc})") from exc
                self.refused.append((rel_dir, f"folder cannot be listed ({exc})"))  # the rest goes on
                continue
            for attr in entries:
                name = attr.filename
                rel = f"{rel_dir}/{name}" if rel_dir else name
                why = _bad_name(name)
                if why and name not in (".", ".."):
                    if wanted(PurePosixPath(name).name) or statmod.S_ISDIR(attr.st_mode or 0):
                        self.refused.append((rel, why))
                    continue
                if name.startswith("."):  # hidden: a PBX's temporary file (and "." and "..")
                    continue
                if statmod.S_ISDIR(attr.st_mode or 0):
                    if depth + 1 >= MAX_DEPTH:
                        self.refused.append((rel, f"folder deeper than {MAX_DEPTH} levels; not walked"))
                    else:
                        stack.append((rel, depth + 1))
                elif statmod.S_ISREG(attr.st_mode or 0) and wanted(rel):
                    out[rel] = RemoteFile(int(attr.st_size or 0), int(attr.st_mtime or 0))
        return out

    def stat(self, relpath: str) -> RemoteFile | None:
        try:
            attr = self._sftp.stat(self._remote(relpath))
        except FileNotFoundError:
            return None
        return RemoteFile(int(attr.st_size), int(attr.st_mtime))

    def fetch(self, relpath: str, dest: Path, max_bytes: int | None = None) -> None:
        # Streamed and counted (not sftp.get): a server may list a small file and send gigabytes.
        with self._sftp.open(self._remote(relpath), "rb") as src:
            size = int(src.stat().st_size or 0)
            # Read ahead what the server says the file holds (at most one byte past the cap), 2 MiB in flight;
            # past that, reads go one by one until the cap stops them.
            src.prefetch(min(size, max_bytes + 1) if max_bytes else size, max_concurrent_requests=64)
            copy_capped(src, dest, max_bytes, chunk=1 << 16)

    def local_root(self) -> Path | None:
        return None

    def close(self) -> None:
        self._sftp.close()
        self._client.close()


def check_source(source: str | Path) -> None:
    """Raise :class:`SourceError` for a source that cannot work, without connecting to it."""
    text = str(source)
    if text.startswith("sftp://"):
        parse_sftp_url(text)
    elif is_remote(text):
        raise SourceError(f"unsupported source {text.split('://')[0]}:// (local folder or sftp://)")
    elif not Path(text).is_dir():
        raise SourceError(f"{text}: source folder does not exist")


def open_source(source: str | Path, settings) -> Source:
    """A local folder path or an ``sftp://`` URL → its source (connected)."""
    text = str(source)
    if text.startswith("sftp://"):
        return SftpSource.from_settings(text, settings)
    if is_remote(text):
        raise SourceError(f"unsupported source {text.split('://')[0]}:// (local folder or sftp://)")
    return LocalSource(Path(text))


def staging_dir(source: str | Path, settings) -> Path:
    """Where a source's files are pulled to: ``<database folder>/staging/<host>-<hash of URL>``.

    A local folder has no copy: only its watermark lives there.
    """
    text = str(source) if is_remote(str(source)) else str(Path(source).resolve())
    key = hashlib.sha256(text.encode()).hexdigest()[:12]
    host = parse_sftp_url(text).host if text.startswith("sftp://") else "local"
    return settings.database.parent / "staging" / f"{re.sub(r'[^A-Za-z0-9.-]', '_', host)}-{key}"


# ----------------------------------------------------------------------------- pull


@dataclass
class PullResult:
    root: Path  # the folder to scan: the staging folder, or the local source itself
    new_audio: list[str] = field(default_factory=list)  # recordings pulled (or ready in place) this time, as listed
    # Recordings to process now, as name_key ids of their paths under ``root`` (what a flow run is given:
    # Prefect stores its parameters, and names hold caller numbers). Empty while a call log is being written.
    pending: list[str] = field(default_factory=list)
    call_logs: list[str] = field(default_factory=list)  # call logs copied for this run (deleted after it)
    waiting: list[str] = field(default_factory=list)  # seen but not yet complete (changing or too new)
    listed: int = 0
    bytes_pulled: int = 0
    rejected: list[str] = field(default_factory=list)  # downloads discarded: size changed during the copy
    refused: list[str] = field(default_factory=list)  # newly refused (bad name, over the size cap): "name: why", masked
    held: int = 0  # recordings kept pending because a call log was still being written


# How deep a source's folders are walked (FreePBX: YYYY/MM/DD): a server listing folders without end
# cannot keep a pull going.
MAX_DEPTH = 16
# Call logs (Asterisk's Master.csv only grows) get a larger cap than recordings.
MAX_CALL_LOG_BYTES = 2 << 30


def _bad_name(name: str) -> str | None:
    """Why an entry's name, as a server listed it, cannot be one file inside the source folder (None: fine)."""
    if "/" in name or "\x00" in name:
        return "name holds a path separator or a NUL byte"
    if name in ("", ".", ".."):
        return "not a file name"
    if len(name.encode("utf-8", "surrogateescape")) > 255:
        return "name longer than 255 bytes"
    return None


STATE_VERSION = 2  # 2: keyed ids, not relative paths (a version-1 watermark is rewritten on load)


def _load_state(path: Path, key: str) -> dict:
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        return {"version": STATE_VERSION, "seen": {}, "pulled": {}, "pending": [], "refused": {}}
    except (OSError, ValueError) as exc:
        raise SourceError(f"{path}: unreadable pull watermark ({exc}); delete it to pull everything again") from exc
    if not isinstance(state, dict) or not isinstance(state.get("seen", {}), dict):
        raise SourceError(f"{path}: unreadable pull watermark (not a watermark); delete it to pull everything again")
    for part, empty in (("seen", {}), ("pulled", {}), ("pending", []), ("refused", {})):
        state.setdefault(part, empty)
    if state.get("version") != STATE_VERSION:  # earlier versions kept file names (caller numbers) in clear
        state = {"version": STATE_VERSION,
                 "seen": {name_key(rel, key): v for rel, v in state["seen"].items()},
                 "pulled": {name_key(rel, key): v for rel, v in state["pulled"].items()},
                 "pending": sorted(name_key(rel, key) for rel in state["pending"]), "refused": {}}
        _save_state(path, state)
    return state



def _save_state(path: Path, state: dict) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(state, indent=0, sort_keys=True))
    os.replace(tmp, path)


def _unsafe_rel(relpath: str) -> str | None:
    """Why a listed relative path is not a path inside the source folder (None: it is)."""
    path = PurePosixPath(relpath)
    if path.is_absolute() or ".." in path.parts or "\x00" in relpath:
        return "path outside the source folder"
    return None


def pull(source: Source, staging: Path, *, key: str, settle_s: float = 0.0, confirm_s: float = 0.0,
         max_bytes: int | None = None, now: float | None = None) -> PullResult:
    """Bring the source's new, complete files to ``staging`` and move the watermark on.

    A file is complete when its size and mtime match the previous pull's listing
    or, with ``confirm_s`` > 0, a listing taken ``confirm_s`` seconds earlier in this
    pull (so a one-off or scheduled run need not wait for the next run), and its
    mtime is at least ``settle_s`` old. ``key`` (the caller salt) keys the names in the
    watermark and in ``pending`` (:func:`pipeline.intake.ingest.name_key`).

    Nothing a server lists can stop the pull: a name that is not a file inside the folder,
    or a recording over ``max_bytes`` (listed so, or found so while streaming; None: no cap),
    is refused, said once in the log and ``refused``, and not tried again until it changes.
    A recording is staged under :func:`pipeline.intake.ingest.stage_name` (no caller number in
    the name). Call logs are copied only for a run that has recordings to process, and
    :func:`drop_call_logs` deletes them after it: the call log is the PBX's, full of numbers,
    and is not kept. While a call log is still being written, the recordings wait (``held``).

    Returns what is new. Files that are still changing are left for a later pull;
    a download whose size does not match the source's is discarded, never renamed
    into place. Call :func:`mark_processed` once the new recordings are processed.
    """
    staging = Path(staging)
    staging.mkdir(parents=True, exist_ok=True)
    state_path = staging / STATE_FILE
    state = _load_state(state_path, key)
    seen = {k: tuple(v) for k, v in state["seen"].items()}
    pulled = {k: tuple(v) for k, v in state["pulled"].items()}
    refused = {k: tuple(v) for k, v in state["refused"].items()}
    if confirm_s > 0:
        first = source.list_files()
        time.sleep(confirm_s)
    listing = source.list_files()
    ids = {rel: name_key(rel, key) for rel in listing}
    if confirm_s > 0:
        seen.update({ids[rel]: (f.size, f.mtime) for rel, f in first.items()
                     if rel in ids and listing[rel] == f and seen.get(ids[rel]) != (f.size, f.mtime)})
    now = time.time() if now is None else now
    in_place = source.local_root()
    result = PullResult(root=in_place or staging, listed=len(listing))
    partial = staging / ".partial"

    def refuse(rel: str, rid: str, sig: tuple, why: str) -> None:
        if refused.get(rid) != sig:  # said once, until the file changes
            result.refused.append(f"{safe(rel)}: {why}")
            log.warning("pull: %s refused: %s; the other files go on", safe(rel), why)
        refused[rid] = sig

    for rel, why in getattr(source, "refused", []):  # what the listing itself could not take (SftpSource)
        refuse(rel, name_key(rel, key), (0, 0), why)

    def fetch(rel: str, info: RemoteFile, cap: int | None) -> Path | None:
        """The file copied to a hidden partial file, checked; None when it changed or was refused."""
        partial.mkdir(exist_ok=True)
        tmp = partial / f"{uuid.uuid4().hex}{PurePosixPath(rel).suffix}"
        try:
            source.fetch(rel, tmp, max_bytes=cap)
            after = source.stat(rel)
            got = tmp.stat().st_size
            if after is None or (after.size, after.mtime) != (info.size, info.mtime) or got != info.size:
                result.rejected.append(rel)
                log.warning("pull: %s changed during the download (%d of %d bytes); tried again next pull",
                            safe(rel), got, info.size)
                tmp.unlink(missing_ok=True)
                return None
            os.utime(tmp, (info.mtime, info.mtime))
            return tmp
        except FileTooLarge as exc:
            tmp.unlink(missing_ok=True)
            refuse(rel, ids[rel], (info.size, info.mtime), str(exc))
            return None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    logs_ready: list[str] = []
    logs_changing = False
    for rel in sorted(listing):
        info, rid = listing[rel], ids[rel]
        sig = (info.size, info.mtime)
        why = _unsafe_rel(rel)
        if why:
            refuse(rel, rid, sig, why)
            continue
        if not is_audio(rel):  # a call log: copied below, for this run only
            if seen.get(rid) == sig and now - info.mtime >= settle_s:
                logs_ready.append(rel)
            else:
                logs_changing = True
                result.waiting.append(rel)
            continue
        if pulled.get(rid) == sig or refused.get(rid) == sig:
            continue
        if seen.get(rid) != sig or now - info.mtime < settle_s:
            result.waiting.append(rel)
            continue
        staged = rel
        if in_place is None:
            if max_bytes and info.size > max_bytes:
                refuse(rel, rid, sig, f"{info.size / 2**20:.0f} MiB, over the {max_bytes / 2**20:g} MiB cap "
                                      f"(HOTLINE_MAX_RECORDING_MB)")
                continue
            tmp = fetch(rel, info, max_bytes)
            if tmp is None:
                continue
            staged = stage_name(rel, key)
            dest = staging / staged
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, dest)
            except OSError as exc:  # a name this file system cannot hold
                tmp.unlink(missing_ok=True)
                refuse(rel, rid, sig, f"cannot be stored here ({exc.strerror or type(exc).__name__})")
                continue
            result.bytes_pulled += info.size
        pulled[rid] = sig
        refused.pop(rid, None)
        result.new_audio.append(rel)
        state["pending"] = sorted(set(state["pending"]) | {name_key(staged, key)})
    pending = sorted(state["pending"])
    if pending and logs_changing:  # the rows of these calls may be what is being written: next pull
        result.held = len(pending)
    elif pending and in_place is None:
        for rel in logs_ready:
            info = listing[rel]
            tmp = fetch(rel, info, MAX_CALL_LOG_BYTES)
            if tmp is None:
                result.held = len(pending)
                break
            dest = staging / stage_name(rel, key)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, dest)
            result.bytes_pulled += info.size
            result.call_logs.append(rel)
    elif pending:
        result.call_logs = logs_ready
    result.pending = [] if result.held else pending
    _save_state(state_path, {"version": STATE_VERSION, "seen": {ids[k]: [v.size, v.mtime] for k, v in listing.items()},
                             "pulled": {k: list(v) for k, v in pulled.items()}, "pending": pending,
                             "refused": {k: list(v) for k, v in refused.items()}})
    return result


def drop_call_logs(*folders: Path) -> int:
    """Delete the call logs copied into staging ``folders`` for a run (:func:`pull`, :func:`pull_call_log`):
    the PBX keeps its own; ours would hold every caller's number past every purge. Returns how many went."""
    n = 0
    for folder in folders:
        for path in Path(folder).rglob("*"):
            if path.suffix.lower() in CALL_LOG_EXTENSIONS and (path.is_file() or path.is_symlink()):
                path.unlink(missing_ok=True)
                n += 1
    return n


def call_log_copies(calls_csv: str | Path | None, settings) -> list[Path]:
    """The staging folder :func:`pull_call_log` copies an ``sftp://`` call log to (none for a local file)."""
    return [staging_dir(str(calls_csv), settings)] if calls_csv and str(calls_csv).startswith("sftp://") else []


def mark_processed(staging: Path, keys: list[str], *, key: str) -> None:
    """Take processed recordings (``pending`` ids of :func:`pull`) off the watermark's pending list."""
    state_path = Path(staging) / STATE_FILE
    state = _load_state(state_path, key)
    done = set(keys)
    state["pending"] = [r for r in state["pending"] if r not in done]
    _save_state(state_path, state)


def pull_call_log(url: str, settings) -> Path:
    """A call log that lives elsewhere on the server (``sftp://…/cdr-csv/Master.csv``), copied when it changed.

    Asterisk keeps ``Master.csv`` in ``/var/log/asterisk/cdr-csv/``, away from the
    recordings. Returns the local copy (same checks as :func:`pull`: hidden partial
    file, size verified, renamed into place), for one run: :func:`drop_call_logs` deletes it
    after the run (:func:`call_log_copies` names its folder).
    """
    loc = parse_sftp_url(url)
    folder, name = str(PurePosixPath(loc.path).parent), PurePosixPath(loc.path).name
    parent_url = f"sftp://{loc.user}@{loc.host}:{loc.port}{folder}"
    dest_dir = staging_dir(url, settings)
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / name
    src = SftpSource.from_settings(parent_url, settings)
    try:
        info = src.stat(name)
        if info is None:
            raise SourceError(f"{loc.describe()}: call log not found")
        have = dest.stat() if dest.exists() else None
        if have is not None and (have.st_size, int(have.st_mtime)) == (info.size, info.mtime):
            return dest
        tmp = dest_dir / f".{uuid.uuid4().hex}.partial"
        try:
            src.fetch(name, tmp, max_bytes=MAX_CALL_LOG_BYTES)
            if tmp.stat().st_size < info.size:
                raise SourceError(f"{loc.describe()}: download came up short; tried again next run")
            os.utime(tmp, (info.mtime, info.mtime))
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
    finally:
        src.close()
    return dest
