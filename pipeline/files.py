"""Untrusted files: which ones are recordings, and opening one without following a link.

Recordings and call logs come from a PBX export: a folder we do not control. Every
layer that reads one (intake, the audio decoder, quarantine) opens it here.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pipeline.errors import HotlineError
from pipeline.logsafe import safe

AUDIO_EXTENSIONS = frozenset({".wav", ".mp3", ".flac", ".ogg"})


def open_regular(path: Path):
    """Open ``path`` for reading in binary, refusing a symbolic link or anything but a regular file.

    ``O_NOFOLLOW`` closes the race where a file is swapped for a link after listing;
    ``O_NONBLOCK`` keeps a FIFO from blocking the open. Raises ``OSError``.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"not a regular file: {safe(Path(path).name)}")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class FileTooLarge(HotlineError):
    """A file passed the size cap while it was being copied."""

    exit_code = 7


def copy_capped(src, dest: Path, max_bytes: int | None, chunk: int = 1 << 20) -> int:
    """Copy the open binary file ``src`` to ``dest`` (created owner-only, never through a link), stopping
    with :class:`FileTooLarge` as soon as more than ``max_bytes`` came (None or 0: no cap). Returns bytes."""
    total = 0
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as out:
        while block := src.read(chunk):
            total += len(block)
            if max_bytes and total > max_bytes:
                raise FileTooLarge(f"more than {max_bytes / 2**20:g} MiB (HOTLINE_MAX_RECORDING_MB)")
            out.write(block)
    return total
