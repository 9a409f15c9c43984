"""RTTM, the NIST "who spoke when" format that diarization tools exchange.

One line per turn: ``SPEAKER <file> 1 <start s> <duration s> <NA> <NA> <speaker> <NA> <NA>``.
Fields are space-separated, so spaces in file ids and labels become underscores.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from pipeline.errors import HotlineError
from pipeline.records import Segment, SpeakerTurn
from pipeline.warehouse.eval_data import speaker_turns

_SPACE_RE = re.compile(r"\s+")


def _token(value: str) -> str:
    return _SPACE_RE.sub("_", value.strip()) or "unknown"


def to_rttm(items: Iterable[SpeakerTurn | Segment], file_id: str) -> str:
    """RTTM text for turns or speaker-labelled segments of one recording.

    Items with no duration are skipped; segments without a speaker are written as
    speaker ``unknown``. Times in seconds with millisecond precision; lines sorted by
    start. Returns "" when nothing remains.
    """
    rows = sorted(
        ((float(it.start), float(it.end), _token(it.speaker or "unknown")) for it in items if it.end > it.start),
    )
    fid = _token(file_id)
    return "".join(
        f"SPEAKER {fid} 1 {start:.3f} {end - start:.3f} <NA> <NA> {speaker} <NA> <NA>\n"
        for start, end, speaker in rows
    )


def parse_rttm(text: str, *, source: str = "<text>") -> dict[str, list[SpeakerTurn]]:
    """Turns per file id from RTTM text (only ``SPEAKER`` lines; ``#`` comments and
    blank lines ignored). Raises ValueError naming the line when a line is malformed."""
    out: dict[str, list[SpeakerTurn]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith("#") or fields[0] != "SPEAKER":
            continue
        try:
            file_id, start, duration, speaker = fields[1], float(fields[3]), float(fields[4]), fields[7]
        except (IndexError, ValueError) as exc:
            raise ValueError(f"{source}:{number}: not an RTTM SPEAKER line ({exc}): {line.strip()!r}") from exc
        if duration < 0:
            raise ValueError(f"{source}:{number}: negative duration {duration}")
        out.setdefault(file_id, []).append(SpeakerTurn(start=start, end=round(start + duration, 6), speaker=speaker))
    for turns in out.values():
        turns.sort(key=lambda t: (t.start, t.end))
    return out


def read_rttm(path: str | Path) -> dict[str, list[SpeakerTurn]]:
    """Turns per file id from an RTTM file; see :func:`parse_rttm`."""
    path = Path(path)
    return parse_rttm(path.read_text(encoding="utf-8"), source=str(path))


def export_rttm(con, out_dir: str | Path, call_ids: list[str] | None = None) -> list[Path]:
    """Write ``<call_id>.rttm`` per call from the warehouse's ``segments`` table (``hotline export rttm``).

    ``call_ids``: the calls to export, or None for every call with segments.
    Raises HotlineError when a requested call has no segments.
    """
    by_call = speaker_turns(con, call_ids)
    missing = sorted(set(call_ids or ()) - set(by_call))
    if missing:
        raise HotlineError(f"no segments in the warehouse for call(s) {', '.join(missing)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for call_id, turns in by_call.items():
        path = out_dir / f"{call_id}.rttm"
        path.write_text(to_rttm(turns, call_id), encoding="utf-8")
        written.append(path)
    return written
