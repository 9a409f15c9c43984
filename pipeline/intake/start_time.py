"""When a call started, for a recording that has no call-log row (or a row without a start time).

Three places are tried, best first, and the one used is recorded with the call (``calls.started_at_source``,
migration 017) so that pages say the time is an estimate ("ước tính"):

``metadata``   the recording's own date tag (WAV ``LIST/INFO ICRD``, FLAC/Ogg ``DATE``), as libsndfile reads it;
``file_name``  a FreePBX/Asterisk recording name (``in-<to>-<from>-YYYYMMDD-HHMMSS-<uniqueid>.wav``);
``file_time``  the file's modification time (local time): when the PBX finished writing it.

``call_log`` is the source of a start time the call log gave (not an estimate).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from pipeline.intake.calllog_asterisk import parse_recording_name

CALL_LOG = "call_log"
ESTIMATED = ("metadata", "file_name", "file_time")  # sources whose time is an estimate, best first
_EARLIEST = datetime(2000, 1, 1)  # a tag or clock before this is a recorder's unset clock, not a call
_STAMP = re.compile(r"(\d{4})[-/.:]?(\d{2})[-/.:]?(\d{2})(?:[ T_]?(\d{2})[:.h]?(\d{2})(?:[:.m]?(\d{2}))?)?")


def parse_tag_date(text: str | None) -> datetime | None:
    """A date tag as recorders write it ("2026-11-30 08:15:00", "2026-11-30T08:15", "20261130", "2026:11:30"), or None."""
    m = _STAMP.search((text or "").strip())
    if not m:
        return None
    parts = [int(p) if p else 0 for p in m.groups()]
    try:
        return datetime(*parts[:3], parts[3], parts[4], parts[5])
    except ValueError:
        return None


def metadata_date(path: Path) -> datetime | None:
    """The recording's date tag as libsndfile reads it (WAV INFO ICRD, Vorbis DATE), or None."""
    try:
        import soundfile as sf

        with sf.SoundFile(str(path)) as f:
            return parse_tag_date(f.date)
    except Exception:  # not a container libsndfile reads (mp3 on an old libsndfile), unreadable: next source
        return None


def recording_start(path: Path, relpath: str, *, now: datetime | None = None) -> tuple[datetime | None, str | None]:
    """(estimated start, source) of a recording without a call-log time; (None, None) when nothing gives one."""
    latest = now or datetime.now()

    def plausible(t: datetime | None) -> bool:
        return t is not None and _EARLIEST <= t <= latest

    tagged = metadata_date(path)
    if plausible(tagged):
        return tagged, "metadata"
    name = parse_recording_name(relpath)
    if name is not None and plausible(name.started_at):
        return name.started_at, "file_name"
    try:
        mtime = datetime.fromtimestamp(path.stat().st_mtime).replace(microsecond=0)
    except OSError:
        return None, None
    return (mtime, "file_time") if plausible(mtime) else (None, None)
