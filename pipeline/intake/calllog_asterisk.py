"""Asterisk / FreePBX call logs: ``cdr-csv`` ``Master.csv`` rows paired with FreePBX recording names.

``Master.csv`` has no header row; its columns are in Asterisk's documented order
(``cdr_csv``): accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp,
lastdata, start, answer, end, duration, billsec, disposition, amaflags, and, with
``loguniqueid``/``loguserfield`` on, uniqueid and userfield. Later columns (some
versions add more) are ignored.

FreePBX names a call recording ``<kind>-<to>-<from>-<YYYYMMDD>-<HHMMSS>-<uniqueid>.<ext>``
under ``YYYY/MM/DD/``, kind being ``in`` (inbound to a DID or extension), ``out``
(outbound trunk call), ``exten`` (extension to extension), ``q`` (through a queue).
Recordings and rows are paired by ``uniqueid``. The caller number is hashed here,
as :func:`pipeline.intake.ingest.read_call_log` does; it never leaves this module in clear.
"""

from __future__ import annotations

import csv
import os
import re
import stat
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipeline.errors import CallLogError
from pipeline.files import open_regular
from pipeline.logsafe import safe
from pipeline.records import CallLogEntry
from pipeline.salt import hash_caller
from pipeline.textnorm import nfc

FORMATS = ("auto", "hotline", "asterisk")
COLUMNS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata", "start",
           "answer", "end", "duration", "billsec", "disposition", "amaflags", "uniqueid", "userfield")
_REQUIRED = 16  # uniqueid (column 17) is needed to pair; rows without it are reported

_NAME = re.compile(r"^(?P<kind>in|out|exten|q|external|internal|rg|conf|ondemand|force)-(?P<middle>.*)-"
                   r"(?P<date>\d{8})-(?P<time>\d{6})-(?P<uniqueid>\d+(?:\.\d+)?)\.(?P<ext>[A-Za-z0-9]+)$")
_DIRECTION = {"in": "inbound", "q": "inbound", "rg": "inbound", "external": "inbound", "out": "outbound",
              "exten": "internal", "internal": "internal", "conf": "internal", "ondemand": None, "force": None}
# A phone channel: "PJSIP/101-0000002a", "SIP/102-00000001", "IAX2/103-1234" → "101" …
_CHANNEL_EXT = re.compile(r"^(?:PJSIP|SIP|IAX2|DAHDI|Local)/(?P<ext>\d{2,6})(?:[-@;/]|$)")
_HOTLINE_HEADERS = {"file_name", "recording", "recordingfile", "file", "filename", "call_id", "start_time"}


@dataclass(frozen=True)
class RecordingName:
    kind: str  # in | out | exten | q | …
    to: str  # number or extension called
    frm: str  # number or extension calling
    started_at: datetime
    uniqueid: str

    @property
    def direction(self) -> str | None:
        return _DIRECTION.get(self.kind)


def parse_recording_name(name: str) -> RecordingName | None:
    """A FreePBX recording file name's parts, or None when it is not one."""
    m = _NAME.match(name.rsplit("/", 1)[-1])
    if not m:
        return None
    to, _, frm = m["middle"].partition("-")
    try:
        started = datetime.strptime(m["date"] + m["time"], "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return RecordingName(m["kind"], to, frm, started, m["uniqueid"])


def freepbx_parties(name: str) -> tuple[tuple[int, int], str, str] | None:
    """((start, end) of the ``<to>-<from>`` part in ``name``, to, from) of a FreePBX recording file name
    (no folder), or None when it is not one."""
    m = _NAME.match(name)
    if not m:
        return None
    to, _, frm = m["middle"].partition("-")
    return (m.start("middle"), m.end("middle")), to, frm


@dataclass(frozen=True)
class CdrRow:
    line_no: int
    cells: dict  # column name → stripped text

    def __getitem__(self, key: str) -> str:
        return self.cells.get(key, "")


def _parse_start(raw: str) -> datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    return datetime.strptime(raw, "%Y-%m-%d %H:%M:%S")


def looks_like_cdr(cells: list[str]) -> bool:
    if len(cells) < _REQUIRED:
        return False
    try:
        return _parse_start(cells[9]) is not None
    except ValueError:
        return False


def _read_text(csv_path: Path) -> str:
    """The call log's text, read without following a link (CallLogError naming the file otherwise)."""
    try:
        with open_regular(Path(csv_path)) as fh:
            return fh.read().decode("utf-8-sig", errors="replace")
    except OSError as exc:
        raise CallLogError(f"{safe(csv_path)}: cannot read call log ({safe(exc.strerror or exc)})") from exc


_NULS = re.compile("\x00+")


def _rows(text: str):
    """(line number, cells, or the csv module's error for a damaged row) of each row.

    Asterisk writes one row per line and only appends, so each line is read on its own: a
    damaged line (a cell over the csv module's 128 KiB field limit, a stray quote) costs that
    line only. A run of NUL bytes (what a PBX crash leaves where the end of the file was
    being written) ends a row: the rows Asterisk appended after a restart are read, the
    cut-off row before them is reported by the checks it fails. Lines holding NULs are
    reported too (cells ``None``).
    """
    for line_no, line in enumerate(text.split("\n"), start=1):
        pieces = _NULS.split(line.rstrip("\r"))
        if len(pieces) > 1:
            yield line_no, None
        for piece in pieces:
            if not piece.strip():
                continue
            try:
                cells = next(csv.reader([piece]))
            except csv.Error as exc:  # e.g. "field larger than field limit (131072)"
                yield line_no, exc
                continue
            yield line_no, cells


def detect_format(csv_path: Path) -> str:
    """``asterisk`` when the first readable row is a cdr-csv row (no header; a start time in column 10),
    else ``hotline``."""
    for _, cells in _rows(_read_text(csv_path)):
        if not isinstance(cells, list) or not any(c.strip() for c in cells):
            continue
        if {c.strip().lower() for c in cells} & _HOTLINE_HEADERS:
            return "hotline"
        return "asterisk" if looks_like_cdr(cells) else "hotline"
    return "hotline"


def read_master_csv(csv_path: Path) -> tuple[dict[str, list[CdrRow]], list[str]]:
    """Rows of a ``Master.csv`` by uniqueid, and the problems (line number and reason, no numbers).

    Asterisk only appends to the file: a damaged row (a crash's NUL bytes, a cell over the csv
    field limit, a stray quote) is skipped and reported, like a bad ``calls.csv`` row, and the
    rows after it are read (:func:`_rows`). The file is read without following a link.
    """
    csv_path = Path(csv_path)
    text = _read_text(csv_path)
    name = safe(csv_path.name)
    rows: dict[str, list[CdrRow]] = defaultdict(list)
    problems: list[str] = []
    for line_no, cells in _rows(text):
        if cells is None:
            problems.append(f"{name} line {line_no}: NUL bytes (what a PBX crash leaves); the rows around them "
                            f"are read on their own")
            continue
        if isinstance(cells, csv.Error):
            problems.append(f"{name} line {line_no}: unreadable row ({safe(cells)}); skipped")
            continue
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < _REQUIRED:
            problems.append(f"{name} line {line_no}: {len(cells)} columns, cdr-csv has at least {_REQUIRED}")
            continue
        row = CdrRow(line_no, {name: c.strip() for name, c in zip(COLUMNS, cells)})
        try:
            _parse_start(row["start"])
        except ValueError:
            problems.append(f"{name} line {line_no}: unreadable start time")
            continue
        if not row["uniqueid"]:
            problems.append(f"{name} line {line_no}: no uniqueid (turn on loguniqueid in cdr.conf)")
            continue
        rows[row["uniqueid"]].append(row)
    return dict(rows), problems


def _best(rows: list[CdrRow]) -> CdrRow:
    """Of a call's rows (ring groups, transfers write several), the answered one that lasted longest."""
    def billsec(r: CdrRow) -> int:
        try:
            return int(r["billsec"] or 0)
        except ValueError:
            return 0
    return max(rows, key=lambda r: (r["disposition"].upper() == "ANSWERED", billsec(r), -r.line_no))


def _channel_ext(channel: str) -> str | None:
    m = _CHANNEL_EXT.match(channel or "")
    return m["ext"] if m else None


def _short(number: str) -> str | None:
    """An extension (2–6 digits), not a phone number."""
    return number if re.fullmatch(r"\d{2,6}", number or "") else None


def entry_for(relpath: str, name: RecordingName, row: CdrRow | None, *, salt: str):
    """The :class:`CallLogEntry` of one recording: direction, operator extension and caller (hashed)."""
    direction = name.direction
    r = row or CdrRow(0, {})
    dialled = None
    if direction == "outbound":
        operator = _channel_ext(r["channel"]) or _short(r["src"]) or _short(name.frm)
        citizen = r["dst"] or name.to
    elif direction == "internal":
        operator = _channel_ext(r["channel"]) or _short(r["src"]) or _short(name.frm)
        citizen = ""
    else:
        operator = _channel_ext(r["dstchannel"]) or _short(r["dst"]) or _short(name.to)
        citizen = r["src"] or name.frm
        # The DID the call came in on: the line (pipeline.lines). Asterisk's dst holds it when the
        # inbound route answered on it, FreePBX's "in-<DID>-…" name always; an extension is not one.
        dialled = next((n for n in (r["dst"], name.to) if n and n.isdigit() and not _short(n)), None)
    started = (_parse_start(r["start"]) if r["start"] else None) or name.started_at
    caller_hash, last3 = hash_caller(citizen, salt)
    return CallLogEntry(pbx_call_id=name.uniqueid, file_name=relpath, started_at=started, caller_hash=caller_hash,
                        caller_last3=last3, operator_ext=operator, direction=direction,
                         dialled=dialled)


@dataclass(frozen=True)
class Pairing:
    entries: dict  # relpath → CallLogEntry, every FreePBX-named recording (paired or not)
    problems: list  # rows skipped, recordings with no row, answered rows with no recording
    unpaired_recordings: list  # relpaths of recordings no row names
    unpaired_answered: list  # uniqueids of answered calls with no recording
    unanswered: int  # rows of calls not answered (no recording expected)


def pair(csv_path: Path | None, relpaths: list[str], *, salt: str) -> Pairing:
    """Pair recordings (relative paths) with ``Master.csv`` rows by uniqueid."""
    rows, problems = read_master_csv(Path(csv_path)) if csv_path else ({}, [])
    entries = {}
    unpaired_recordings = []
    used = set()
    for rel in sorted(relpaths):
        name = parse_recording_name(rel)
        if name is None and csv_path is None:  # no call log: nothing to pair, nothing to report
            continue
        if name is None:
            problems.append(f"{safe(rel)}: not a FreePBX recording name; processed with no call-log row")
            unpaired_recordings.append(rel)
            continue
        group = rows.get(name.uniqueid)
        if not group and csv_path is not None:
            # The name holds the caller's number: the problem names the call by kind, time and uniqueid.
            problems.append(f"recording {name.kind} {name.started_at:%Y-%m-%d %H:%M:%S}: no Master.csv row for "
                            f"uniqueid {safe(name.uniqueid)}; direction, extension and caller taken from the file name")
            unpaired_recordings.append(rel)
        elif group:
            used.add(name.uniqueid)
        entries[nfc(rel)] = entry_for(nfc(rel), name, _best(group) if group else None, salt=salt)
    unpaired_answered, unanswered = [], 0
    for uid, group in sorted(rows.items()):
        if uid in used:
            continue
        if any(r["disposition"].upper() == "ANSWERED" for r in group):
            unpaired_answered.append(uid)
            problems.append(f"{safe(Path(csv_path).name)} line {group[0].line_no}: answered call {safe(uid)} "
                            f"has no recording")
        else:
            unanswered += 1
    return Pairing(entries, problems, unpaired_recordings, unpaired_answered, unanswered)


CALL_LOG_NAMES = ("calls.csv", "Master.csv", "cdr-csv/Master.csv")


def find_call_log(source_dir: Path, problems: list[str] | None = None) -> Path | None:
    """The call log a source folder carries: ``calls.csv``, else ``Master.csv`` (also under ``cdr-csv/``).

    Only a regular file counts: a symbolic link (the folder is untrusted; it may point anywhere) is
    not followed, and is reported in ``problems``.
    """
    for rel in CALL_LOG_NAMES:
        path = Path(source_dir) / rel
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            continue
        if stat.S_ISLNK(mode) or (path.parent != Path(source_dir) and Path(path.parent).is_symlink()):
            if problems is not None:
                problems.append(f"{rel}: symbolic link, not followed (only a regular file in the source folder is "
                                f"read; give the real file with --calls-csv); recordings processed without it")
            continue
        if stat.S_ISREG(mode):
            return path
    return None


def choose(source_dir: Path, calls_csv: Path | None, fmt: str,
           problems: list[str] | None = None) -> tuple[Path | None, str]:
    """(call log to read, its format) for a source folder; ``fmt`` is auto | hotline | asterisk.
    A linked call log in the folder is not used (reported in ``problems``, :func:`find_call_log`)."""
    if fmt not in FORMATS:
        raise CallLogError(f"unknown call-log format {fmt!r} (one of {', '.join(FORMATS)})")
    if calls_csv is None:
        calls_csv = find_call_log(source_dir, problems)
    if fmt == "auto":
        # No call log at all: FreePBX names still give direction, extension, caller and time.
        fmt = detect_format(Path(calls_csv)) if calls_csv else "asterisk"
    return (Path(calls_csv) if calls_csv else None), fmt


def read_for_source(csv_path: Path | None, relpaths: list[str], *, salt: str) -> tuple[dict, list[str]]:
    """(entries by relative path, problems) for ingest, like :func:`pipeline.intake.ingest.read_call_log`.
    ``relpaths``: the recordings of the source folder, as ingest lists them (no link followed)."""
    pairing = pair(csv_path, relpaths, salt=salt)
    return pairing.entries, pairing.problems
