"""Lines (đường dây nóng): the hotlines one installation serves, and which line a call came in on (issue 32).

A line has its agency, public number, the DIDs (numbers the PBX receives it on), the source
folders / SFTP sources whose recordings are its calls, routing table, working hours, report
header and QA team. The shipped lines are Đắk Lắk's (:data:`DEFAULT_LINES`); a site lists its
own in a JSON file (``HOTLINE_LINES_FILE``, docs/settings.md).

A call's line, first that applies (:func:`line_for`): the number dialled (Asterisk ``dst`` or
the FreePBX DID) is one of a line's DIDs; the source it came from is one of a line's sources;
the default line (``HOTLINE_DEFAULT_LINE``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import SetupError


@dataclass(frozen=True)
class Line:
    key: str  # ascii slug stored in calls.line ("tinh-1022")
    name: str  # Vietnamese, for people
    agency: str  # who answers the line
    number: str  # the public number, as printed ("0262.1022")
    dids: tuple[str, ...] = ()  # digits the PBX receives the line on (Asterisk dst / FreePBX DID)
    sources: tuple[str, ...] = ()  # source folders or sftp:// URLs whose recordings are this line's calls
    routing: str | None = None  # routing table file (models/data/routing.csv format); None: the shipped one
    hours: str = "07:00-17:00"  # working hours, local time
    report_header: str = ""  # first line of the line's reports
    qa_team: tuple[str, ...] = ()  # user names of the line's QA staff
    since: str | None = None  # first day of calls (ISO date), e.g. a line taken in by a merger


DEFAULT_LINES: tuple[Line, ...] = (
    Line("tinh-1022", "Đường dây nóng 0262.1022 tỉnh Đắk Lắk",
         "Trung tâm Giám sát, điều hành đô thị thông minh tỉnh Đắk Lắk", "0262.1022",
         dids=("02621022", "1022"), report_header="UBND TỈNH ĐẮK LẮK — TRUNG TÂM GIÁM SÁT, ĐIỀU HÀNH ĐÔ THỊ THÔNG MINH"),
    Line("bmt", "Đường dây nóng 1900.86.86.47 thành phố Buôn Ma Thuột", "UBND thành phố Buôn Ma Thuột",
         "1900.86.86.47", dids=("1900868647",), report_header="UBND THÀNH PHỐ BUÔN MA THUỘT"),
    Line("phu-yen", "Đường dây nóng Phú Yên (cũ)", "Trung tâm Giám sát, điều hành đô thị thông minh (Phú Yên cũ)",
         "0257.1022", dids=("02571022",), report_header="UBND TỈNH ĐẮK LẮK — KHU VỰC PHÚ YÊN (CŨ)",
         since="2025-07-01"),
)
DEFAULT_LINE = "tinh-1022"

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_FIELDS = {f for f in Line.__dataclass_fields__}


def digits(number: str | None) -> str:
    """The digits of a phone number as written ("0262.1022" → "02621022")."""
    return re.sub(r"\D", "", number or "")


def load_lines(path: Path | None) -> tuple[Line, ...]:
    """The lines of a JSON file (a list of objects with :class:`Line`'s fields), or :data:`DEFAULT_LINES`.

    Raises :class:`~pipeline.errors.SetupError` naming the file and the entry for anything wrong.
    """
    if path is None:
        return DEFAULT_LINES
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SetupError(f"{path}: cannot read the lines file ({exc})") from exc
    if not isinstance(raw, list) or not raw:
        raise SetupError(f"{path}: the lines file must be a JSON list of lines")
    lines, seen = [], set()
    for n, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            raise SetupError(f"{path}: line {n} is not an object")
        unknown = set(entry) - _FIELDS
        if unknown:
            raise SetupError(f"{path}: line {n} has unknown field(s) {', '.join(sorted(unknown))}")
        key = entry.get("key")
        if not isinstance(key, str) or not _KEY.match(key):
            raise SetupError(f"{path}: line {n} needs a key of lower-case letters, digits and '-' (got {key!r})")
        if key in seen:
            raise SetupError(f"{path}: line key {key!r} appears twice")
        seen.add(key)
        for req in ("name", "agency", "number"):
            if not isinstance(entry.get(req), str) or not entry[req].strip():
                raise SetupError(f"{path}: line {key!r} needs {req}")
        values = dict(entry)
        for tup in ("dids", "sources", "qa_team"):
            values[tup] = tuple(digits(v) if tup == "dids" else str(v) for v in entry.get(tup, ()))
        lines.append(Line(**values))
    return tuple(lines)


@dataclass(frozen=True)
class LineBook:
    """The configured lines and the default: what :func:`line_for` decides with."""

    lines: tuple[Line, ...] = DEFAULT_LINES
    default: str = DEFAULT_LINE
    _by_did: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        if self.default not in {ln.key for ln in self.lines}:
            raise SetupError(f"HOTLINE_DEFAULT_LINE {self.default!r} is not one of the lines "
                             f"({', '.join(ln.key for ln in self.lines)})")
        for ln in self.lines:
            for did in ln.dids:
                self._by_did.setdefault(did, ln.key)

    def get(self, key: str | None) -> Line | None:
        return next((ln for ln in self.lines if ln.key == key), None)

    def line_for(self, dialled: str | None, source: str | None) -> str:
        """The line key of a call: by the number dialled, else by its source, else the default."""
        d = digits(dialled)
        if d:
            if d in self._by_did:
                return self._by_did[d]
            # a DID written with the country code (84262...) or without the leading 0
            for did, key in self._by_did.items():
                if len(did) >= 4 and (d.endswith(did.lstrip("0")) and len(d) - len(did.lstrip("0")) <= 3):
                    return key
        if source:
            src = str(source).rstrip("/")
            for ln in self.lines:
                for s in ln.sources:
                    s = s.rstrip("/")
                    if src == s or src.startswith(s + "/"):
                        return ln.key
        return self.default


def line_book(settings) -> LineBook:
    """The lines of ``settings`` (``lines_file``, ``default_line``)."""
    return LineBook(load_lines(settings.lines_file), settings.default_line)
