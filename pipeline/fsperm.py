"""Owner-only files: the database, quarantine, exports and caches hold confidential calls."""

from __future__ import annotations

import os
from pathlib import Path

OWNER_ONLY_UMASK = 0o077  # new files 0600, new folders 0700


def owner_only_umask() -> int:
    """Make files and folders this process creates owner-only; returns the previous umask.

    Idempotent. Applies to everything created afterwards, by this code or by a
    library (DuckDB, Prefect's result storage, openpyxl).
    """
    previous = os.umask(OWNER_ONLY_UMASK)
    os.umask(previous | OWNER_ONLY_UMASK)
    return previous


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed and make it owner-only (0700). Returns it."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` as an owner-only file (0600), never through a symbolic link."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)
