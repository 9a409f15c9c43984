"""Which staged recordings a retention purge deletes (:func:`pipeline.warehouse.purge.purge` deletes them).

An SFTP pull (:mod:`pipeline.intake.sources`) copies recordings to ``<database folder>/staging/<host>-<hash>/``
and the web app plays them from there, so they stay while the call's data is kept. Once the call is
past the retention period its copy is confidential audio nobody needs: it goes.

Only our own copies are touched: a file is deleted only when its run's source folder lies under the
staging root of this warehouse (a local source folder belongs to the PBX and is never written), the
file itself resolves inside that folder (no link is followed), and, when the call's content hash is
known, the file's bytes are that recording (a later recording that reused the name stays).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from pipeline.logsafe import masked_forms
from pipeline.textnorm import nfc

# Self-contained (no import of pipeline.intake.ingest): pipeline.warehouse.purge, in the storage layer, calls it.


def _sha256(path: Path, chunk: int = 1 << 20) -> str:
    """As :func:`pipeline.intake.ingest.hash_file` computes ``calls.recording_sha256``."""
    h = hashlib.sha256()
    with open(path, "rb", opener=lambda p, flags: os.open(p, flags | os.O_NOFOLLOW)) as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _files(folder: Path) -> Iterator[tuple[Path, str]]:
    """(path, relative POSIX path) of each regular file under ``folder``: hidden ones (the pull's
    watermark and ``.partial`` downloads) skipped, links never followed."""
    for top, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.startswith("."):
                path = Path(top) / name
                yield path, path.relative_to(folder).as_posix()


def staging_root(database: Path) -> Path:
    """``<database folder>/staging``: where :func:`pipeline.intake.sources.staging_dir` puts every source's copies."""
    return Path(database).parent / "staging"


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder)
    except OSError:
        return False


def staged_copies(rows: Iterable[tuple[str, str, str, str | None]], root: Path) -> list[Path]:
    """The staged files of ``rows`` (call_id, source_dir, source_path, sha256) that exist under ``root``.

    ``source_path`` is stored with caller numbers masked (``in-***456.wav``): each staging folder is
    walked once and the masked names matched, the hash telling apart two numbers that share their
    last digits (as :func:`pipeline.intake.ingest.locate` does for one call, which would walk the folder per call).
    """
    root = Path(root)
    if not root.is_dir():
        return []
    root = root.resolve()
    by_dir: dict[Path, list[tuple[str, str | None]]] = {}
    for _, source_dir, source_path, sha in rows:
        folder = Path(source_dir)
        if not folder.is_absolute():
            continue  # a run's folder is stored resolved; a relative one is not a staging folder of ours
        try:
            folder = folder.resolve()
        except OSError:
            continue
        if folder == root or not folder.is_relative_to(root) or not folder.is_dir():
            continue  # a local source folder (the PBX's) or a folder already gone
        by_dir.setdefault(folder, []).append((source_path, sha))
    found: list[Path] = []
    for folder, wanted in by_dir.items():
        index: dict[str, list[Path]] | None = None
        for rel, sha in wanted:
            parts = PurePosixPath(rel).parts
            if PurePosixPath(rel).is_absolute() or ".." in parts:
                continue
            candidates = [folder / rel] if "***" not in rel else []
            if "***" in rel:
                if index is None:
                    index = {}
                    for path, r in _files(folder):
                        for masked in masked_forms(r):  # as masked now, and as stored by earlier versions
                            index.setdefault(nfc(masked), []).append(path)
                candidates = index.get(nfc(rel), [])
            for path in candidates:
                try:
                    if not stat.S_ISREG(path.lstat().st_mode) or not _inside(path, folder):
                        continue
                    if sha is not None and _sha256(path) != sha:
                        continue
                except OSError:
                    continue
                if path not in found:
                    found.append(path)
                break
    return found


def remove(paths: Iterable[Path], root: Path) -> int:
    """Delete ``paths`` (from :func:`staged_copies`) and the folders they leave empty below their
    staging folder; returns how many files went."""
    root = Path(root).resolve()
    n = 0
    for path in paths:
        try:
            path.unlink()
            n += 1
        except FileNotFoundError:
            continue
        parent = path.parent
        # Empty date folders (2026/11/) go too, never a staging folder itself or the root.
        while parent.resolve() != root and parent.resolve().parent != root:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent
    return n
