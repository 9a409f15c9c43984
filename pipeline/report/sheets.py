"""The one writer of the tables the product hands out: every CSV, TSV and XLSX file goes through here.

Spreadsheets run what looks like a formula, and exports carry text that callers, QA staff and
handling units typed (a place, a unit's result, a transcript). So every text cell is guarded
the same way, whatever the format (issue 25):

- a cell whose first character (after any spaces) is ``=`` ``+`` ``-`` ``@`` (or their full-width
  forms), or that starts with a tab, CR or line feed, is written as text with a leading
  apostrophe (OWASP's advice on CSV injection): ``'=HYPERLINK(…)``;
- control characters (which XML, hence XLSX, cannot hold, and which a spreadsheet shows as
  garbage) and lone surrogates (which UTF-8 cannot hold) become U+FFFD; tabs and line breaks
  inside a cell stay;
- a text longer than Excel's cell limit (32,767 characters) is cut, ending in
  :data:`CUT_MARK`.

Numbers, dates, times and booleans are written as they are; None is an empty cell. In an XLSX
file no cell is ever a formula: :meth:`Workbook.to_bytes` checks every cell of every sheet.
``tests/unit/test_export_writer.py`` fails when a module outside this one writes CSV or XLSX itself.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

MAX_CELL_CHARS = 32_767  # Excel's limit for one cell; longer text makes Excel "repair" the file
CUT_MARK = "… [cắt bớt]"  # ends a text cut to MAX_CELL_CHARS ("cut")
_FORMULA_FIRST = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")  # and full-width = + - @
_LEADING_BREAKS = ("\t", "\r", "\n")
# C0 controls but tab and line breaks, DEL, C1 controls, and lone surrogates.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_PLAIN = (int, float, Decimal, date, datetime, time, timedelta, bool)


def cell_text(value: str) -> str:
    """One text cell, guarded as the module docstring says."""
    value = _CONTROL.sub("\ufffd", value)
    if len(value) > MAX_CELL_CHARS:
        value = value[: MAX_CELL_CHARS - len(CUT_MARK) - 1] + CUT_MARK
    if value.startswith(_LEADING_BREAKS) or value.lstrip(" ")[:1] in _FORMULA_FIRST:
        value = "'" + value
    return value


def cell(value):
    """A cell value ready for any of the formats: text guarded, numbers and dates as they are."""
    if value is None or isinstance(value, _PLAIN):
        return value
    return cell_text(value if isinstance(value, str) else str(value))


def guarded_rows(rows: Iterable[Sequence]) -> Iterable[list]:
    for row in rows:
        yield [cell(v) for v in row]


def csv_text(header: Sequence[str], rows: Iterable[Sequence], *, bom: bool = True) -> str:
    """CSV of ``header`` and ``rows`` (every cell guarded), with a BOM so that Excel reads UTF-8 Vietnamese."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([cell(h) for h in header])
    writer.writerows([("" if v is None else v) for v in row] for row in guarded_rows(rows))
    return ("\ufeff" if bom else "") + buf.getvalue()


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence], *, bom: bool = True) -> bytes:
    """:func:`csv_text` as UTF-8 bytes."""
    return csv_text(header, rows, bom=bom).encode("utf-8")


def write_tsv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    """A tab-separated file (no BOM, ``\\n`` line ends) for tools and spreadsheets alike, every cell guarded.
    A CR inside a cell becomes a line feed: with ``\\n`` line ends the writer would not quote it, and a
    reader would start a new row there."""

    def unix(v):
        return v.replace("\r\n", "\n").replace("\r", "\n") if isinstance(v, str) else ("" if v is None else v)

    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow([unix(cell(h)) for h in header])
        writer.writerows([unix(v) for v in row] for row in guarded_rows(rows))


class Sheet:
    """One worksheet: rows go in through :meth:`append` only (guarded); ``ws`` is the openpyxl
    worksheet, for formatting (widths, fonts, number formats, frozen panes)."""

    def __init__(self, ws):
        self.ws = ws

    def append(self, values: Sequence = ()) -> None:
        self.ws.append([cell(v) for v in values])


class Workbook:
    """An XLSX workbook whose cells are written through :class:`Sheet` and checked again when saved."""

    def __init__(self, first_title: str):
        from openpyxl import Workbook as _Workbook

        self._wb = _Workbook()
        self._wb.active.title = cell_text(first_title)[:31]
        self.first = Sheet(self._wb.active)

    def add_sheet(self, title: str) -> Sheet:
        return Sheet(self._wb.create_sheet(cell_text(title)[:31]))

    def to_bytes(self) -> bytes:
        """The file. Any text cell that would be a formula (set by a caller around :meth:`Sheet.append`)
        is stored as text first: no export carries a formula."""
        for ws in self._wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if isinstance(c.value, str) and (c.data_type == "f" or c.value != cell_text(c.value)):
                        c.value = cell_text(c.value)
                    if isinstance(c.value, str):
                        c.data_type = "s"
        buf = io.BytesIO()
        self._wb.save(buf)
        return buf.getvalue()
