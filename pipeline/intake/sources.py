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
import shutil
import stat as statmod
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import unquote, urlsplit

from pipeline.errors import HotlineError
from pipeline.files import AUDIO_EXTENSIONS
from pipeline.intake.ingest import name_key

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

    def fetch(self, relpath: str, dest: Path) -> None:
        """Copy the file to ``dest`` (a new local file); the source is not changed."""

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

    def fetch(self, relpath: str, dest: Path) -> None:
        shutil.copyfile(self.root / relpath, dest)

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
        out: dict[str, RemoteFile] = {}
        stack = [""]
        while stack:
            rel_dir = stack.pop()
            try:
                entries = self._sftp.listdir_attr(self._remote(rel_dir) if rel_dir else self.location.path)
            except OSError as exc:
                raise SourceError(f"{self.describe()}: cannot list {rel_dir or '/'} ({exc})") from exc
            for attr in entries:
                if attr.filename.startswith("."):
                    continue
                rel = f"{rel_dir}/{attr.filename}" if rel_dir else attr.filename
                if statmod.S_ISDIR(attr.st_mode or 0):
                    stack.append(rel)
                elif statmod.S_ISREG(attr.st_mode or 0) and wanted(rel):
                    out[rel] = RemoteFile(int(attr.st_size), int(attr.st_mtime))
        return out

    def stat(self, relpath: str) -> RemoteFile | None:
        try:
            attr = self._sftp.stat(self._remote(relpath))
        except FileNotFoundError:
            return None
        return RemoteFile(int(attr.st_size), int(attr.st_mtime))

    def fetch(self, relpath: str, dest: Path) -> None:
        self._sftp.get(self._remote(relpath), str(dest))

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
    new_audio: list[str] = field(default_factory=list)  # recordings pulled (or ready in place) this time
    # Recordings pulled but not yet marked processed, as name_key ids of their paths under ``root``:
    # what a flow run is given (its parameters are stored by Prefect), never file names.
    pending: list[str] = field(default_factory=list)
    call_logs: list[str] = field(default_factory=list)  # call-log files refreshed this time
    waiting: list[str] = field(default_factory=list)  # seen but not yet complete (changing or too new)
    listed: int = 0
    bytes_pulled: int = 0
    rejected: list[str] = field(default_factory=list)  # downloads discarded: size changed during the copy


STATE_VERSION = 2  # 2: keyed ids, not relative paths (a version-1 watermark is rewritten on load)


def _load_state(path: Path, key: str) -> dict:
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        return {"version": STATE_VERSION, "seen": {}, "pulled": {}, "pending": []}
    except (OSError, ValueError) as exc:
        raise SourceError(f"{path}: unreadable pull watermark ({exc}); delete it to pull everything again") from exc
    if not isinstance(state, dict) or not isinstance(state.get("seen", {}), dict):
        raise SourceError(f"{path}: unreadable pull watermark (not a watermark); delete it to pull everything again")
    state.setdefault("seen", {})
    state.setdefault("pulled", {})
    state.setdefault("pending", [])
    if state.get("version") != STATE_VERSION:  # earlier versions kept file names (caller numbers) in clear
        state = {"version": STATE_VERSION,
                 "seen": {name_key(rel, key): v for rel, v in state["seen"].items()},
                 "pulled": {name_key(rel, key): v for rel, v in state["pulled"].items()},
                 "pending": sorted(name_key(rel, key) for rel in state["pending"])}
        _save_state(path, state)
    return state


def _save_state(path: Path, state: dict) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(state, indent=0, sort_keys=True))
    os.replace(tmp, path)


def _safe_rel(relpath: str) -> str:
    path = PurePosixPath(relpath)
    if path.is_absolute() or ".." in path.parts:
        raise SourceError(f"source listed a path outside its folder: {relpath!r}")
    return path.as_posix()


def pull(source: Source, staging: Path, *, key: str, settle_s: float = 0.0, confirm_s: float = 0.0,
         now: float | None = None) -> PullResult:
    """Bring the source's new, complete files to ``staging`` and move the watermark on.

    A file is complete when its size and mtime match the previous pull's listing
    or, with ``confirm_s`` > 0, a listing taken ``confirm_s`` seconds earlier in this
    pull (so a one-off or scheduled run need not wait for the next run), and its
    mtime is at least ``settle_s`` old. ``key`` (the caller salt) keys the names in the
    watermark and in ``pending`` (:func:`pipeline.intake.ingest.name_key`).

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
    for rel in sorted(listing):
        rel = _safe_rel(rel)
        info, rid = listing[rel], ids[rel]
        sig = (info.size, info.mtime)
        if pulled.get(rid) == sig:
            continue
        if seen.get(rid) != sig or now - info.mtime < settle_s:
            result.waiting.append(rel)
            continue
        if in_place is None:
            partial.mkdir(exist_ok=True)
            tmp = partial / f"{uuid.uuid4().hex}{PurePosixPath(rel).suffix}"
            try:
                source.fetch(rel, tmp)
                after = source.stat(rel)
                got = tmp.stat().st_size
                if after is None or (after.size, after.mtime) != sig or got != info.size:
                    result.rejected.append(rel)
                    log.warning("pull: %s changed during the download (%d of %d bytes); tried again next pull",
                                rel, got, info.size)
                    tmp.unlink(missing_ok=True)
                    continue
                dest = staging / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.utime(tmp, (info.mtime, info.mtime))
                os.replace(tmp, dest)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            result.bytes_pulled += info.size
        pulled[rid] = sig
        if is_audio(rel):
            result.new_audio.append(rel)
        else:
            result.call_logs.append(rel)
    pending = sorted(set(state["pending"]) | {ids[rel] for rel in result.new_audio})
    result.pending = pending
    _save_state(state_path, {"version": STATE_VERSION, "seen": {ids[k]: [v.size, v.mtime] for k, v in listing.items()},
                             "pulled": {k: list(v) for k, v in pulled.items()}, "pending": pending})
    return result


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
    file, size verified, renamed into place).
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
            src.fetch(name, tmp)
            if tmp.stat().st_size < info.size:
                raise SourceError(f"{loc.describe()}: download came up short; tried again next run")
            os.utime(tmp, (info.mtime, info.mtime))
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
    finally:
        src.close()
    return dest
