"""Untrusted files: which ones are recordings, and opening one without following a link.

Recordings and call logs come from a PBX export: a folder we do not control. Every
layer that reads one (intake, the audio decoder, quarantine) opens it here.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

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
