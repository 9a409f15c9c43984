"""The one reader of evaluation manifests (ASR, diarization, operator enrolment lists).

A manifest is a UTF-8, tab-separated file with a header line; fields are taken as
written (no quoting, so a reference transcript may hold ``"``). Paths in it are relative
to the manifest's folder. Each evaluation names the columns it needs and which of them
are files; a problem is one :class:`ManifestError` naming the manifest, and for a bad
row its line (the header is line 1).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import HotlineError


class ManifestError(HotlineError):
    """An evaluation manifest is missing, unreadable, lacks a column or has a bad row."""

    exit_code = 2


@dataclass(frozen=True)
class ManifestRow:
    """One data row of a manifest."""

    source: Path  # the manifest file
    line: int  # line number in the manifest (the header is line 1)
    fields: dict[str, str]  # column → value as written ("" for a column the row leaves empty)

    def __getitem__(self, column: str) -> str:
        return self.fields[column]

    def get(self, column: str, default: str = "") -> str:
        return self.fields.get(column) or default

    def path(self, column: str = "file") -> Path:
        """The file named in ``column``, resolved against the manifest's folder."""
        return self.source.parent / self.fields[column]

    def where(self) -> str:
        """``manifest.tsv:LINE``, for messages about this row."""
        return f"{self.source}:{self.line}"


def read_manifest(path: str | Path, columns: Sequence[str], *, files: Sequence[str] = (),
                  may_be_empty: Sequence[str] = (), what: str = "manifest") -> list[ManifestRow]:
    """Rows of the manifest at ``path`` that need ``columns``.

    ``files``: the columns (among ``columns``) that name files which must exist.
    ``may_be_empty``: the columns (among ``columns``) a row may leave empty.
    ``what`` names the manifest in messages ("manifest", "enrolment list").
    Blank lines are skipped. Raises :class:`ManifestError` when the file is missing or
    not UTF-8, a column is missing from the header, or a row has more fields than the
    header, fewer than ``columns`` need, an empty required field, or names a file that
    does not exist.
    """
    path = Path(path)
    wanted = ", ".join(f"`{c}`" for c in columns)
    if not path.is_file():
        raise ManifestError(f"{what} {path} not found; give a TSV with columns {wanted}")
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
            header = next(reader, None)
            header = [h.strip() for h in header] if header else []
            missing = [c for c in columns if c not in header]
            if missing:
                raise ManifestError(f"{what} {path} lacks column(s) {', '.join(sorted(missing))}; it must be a TSV "
                                    f"with a header holding {wanted} (found {', '.join(header) or 'no header'})")
            rows = []
            for values in reader:
                line = reader.line_num
                if not any(v.strip() for v in values):
                    continue
                fields = {name: (values[i] if i < len(values) else "") for i, name in enumerate(header)}
                row = ManifestRow(path, line, fields)
                if len(values) > len(header):
                    raise ManifestError(f"{row.where()}: {len(values)} fields, the header has {len(header)} "
                                        "(a tab inside a field?)")
                short = [c for c in columns if header.index(c) >= len(values)]
                if short:
                    raise ManifestError(f"{row.where()}: {len(values)} field(s), no {', '.join(short)} "
                                        f"(the header has {len(header)}; are the columns separated by tabs?)")
                empty = [c for c in columns if c not in may_be_empty and not fields[c].strip()]
                if empty:
                    raise ManifestError(f"{row.where()}: empty {', '.join(empty)}")
                rows.append(row)
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{what} {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    for column in files:
        absent = [r for r in rows if not r.path(column).is_file()]
        if absent:
            first = absent[0]
            raise ManifestError(f"{len(absent)} file(s) named in column {column} of {path} do not exist, "
                                f"e.g. {first.path(column)} ({first.where()})")
    return rows
