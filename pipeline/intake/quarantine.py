"""Quarantine: keep a copy of a recording that failed, with its error, outside the source.

The source folder is never modified (a PBX export is not ours to change). Only the
recording itself is copied, and only when it is a regular file: a symbolic link is
never followed (it could point at ``/proc/self/environ`` or ``/etc/passwd``). The
copy's name and ``error.txt`` hold no caller number (PBX file names often do), and
the folder and its files are readable by their owner only.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.files import FileTooLarge, copy_capped, open_regular
from pipeline.logsafe import safe
from pipeline.records import Recording


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o600)


def quarantine(recording: Recording, error: str, folder: Path, max_bytes: int | None = None) -> Path:
    """Copy the recording to ``folder/<call_id>/`` with ``error.txt`` beside it. Returns the copy's path.

    The copy is named ``recording<ext>`` (never the PBX's file name); ``error.txt``
    holds the masked relative path and the masked error. When the recording cannot
    be copied (gone, unreadable, not a regular file, more than ``max_bytes``: the
    recording size cap) only ``error.txt`` is written, saying why.
    """
    folder = Path(folder)
    _private_dir(folder)
    target_dir = folder / recording.call_id
    _private_dir(target_dir)
    target = target_dir / f"recording{recording.path.suffix.lower()}"
    note = ""
    try:
        with open_regular(recording.path) as src:
            copy_capped(src, target, max_bytes)
        os.chmod(target, 0o600)
    except OSError as exc:
        note = f"not copied: {safe(exc.strerror or exc)}\n"
    except FileTooLarge as exc:  # a copy of a huge file would only fill the disk a second time
        target.unlink(missing_ok=True)
        note = f"not copied: {exc}\n"
    _write_private(target_dir / "error.txt", f"{safe(recording.relpath)}\n{safe(error)}\n{note}")
    return target
