"""Quarantine: keep a copy of a recording that failed, with its error, outside the source.

The source folder is never modified (a PBX export is not ours to change).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.records import Recording


def quarantine(recording: Recording, error: str, folder: Path) -> Path:
    """Copy the recording to ``folder/<call_id>/`` with ``error.txt`` beside it. Returns the copy's path."""
    target_dir = Path(folder) / recording.call_id
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / recording.path.name
    if recording.path.exists():
        shutil.copy2(recording.path, target)
    (target_dir / "error.txt").write_text(f"{recording.relpath}\n{error}\n", encoding="utf-8")
    return target
