"""The period report: figures for the period only, compared with the previous one, a narrative summary,
urgent calls and QA; printed on A4 with page numbers and no heading stranded at a page bottom.

The stranded-heading check reads the PDF's text with positions (poppler's ``pdftotext -bbox-layout``):
on every page, the lowest line of the body (between the running header and the page-number footer)
must not be one of the report's headings.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import duckdb
import pytest

from pipeline.cli import main
from pipeline.report import reports

needs_pdf = pytest.mark.skipif(not (shutil.which("chromium") and shutil.which("pdftotext")),
                               reason="PDF needs Debian chromium and poppler-utils (pdftotext)")


class _Headings(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inside, self.found = None, []

    def handle_starttag(self, tag, attrs):
        if tag in ("h1", "h2", "h3"):
            self.inside = tag
            self.found.append("")

    def handle_endtag(self, tag):
        if tag == self.inside:
            self.inside = None

    def handle_data(self, data):
        if self.inside:
            self.found[-1] += data


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _pages(pdf) -> list[tuple[float, float, list[tuple[float, float, str]]]]:
    """Per page: width, height, lines as (yMin, yMax, text), from pdftotext -bbox-layout."""
    xhtml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    root = ET.fromstring(xhtml)
    ns = {"x": "http://www.w3.org/1999/xhtml"}
    out = []
    for page in root.iter("{http://www.w3.org/1999/xhtml}page"):
        lines = [(float(line.get("yMin")), float(line.get("yMax")),
                  _norm(" ".join(w.text or "" for w in line.findall("x:word", ns))))
                 for line in page.iter("{http://www.w3.org/1999/xhtml}line")]
        out.append((float(page.get("width")), float(page.get("height")), lines))
    return out


def _figures(con, start, end) -> dict:
    return dict(zip(("n", "urgent"), con.execute(
        "SELECT count(*), count(*) FILTER (WHERE urgent) FROM calls WHERE status = 'done' AND "
        "CAST(started_at AS DATE) BETWEEN ? AND ?", [start, end]).fetchone()))


def test_report_compares_with_previous_period(web_db):
    con = duckdb.connect(str(web_db))
    now, before = _figures(con, "2026-11-02", "2026-11-15"), _figures(con, "2026-10-19", "2026-11-01")
    html = reports.render_report(con, "2026-11-02", "2026-11-15", agency="UBND tỉnh Đắk Lắk — Tổng đài 1022",
                                 caller_reference=True)  # as QA and admins get it (pipeline.access)
    for_manager = reports.render_report(con, "2026-11-02", "2026-11-15")
    summary = reports.narrative(con, "2026-11-02", "2026-11-15")
    con.close()
    assert '<meta name="viewport"' in html and "size:A4" in html and "counter(page)" in html
    assert "UBND tỉnh Đắk Lắk — Tổng đài 1022" in html
    pct = round(100 * (now["n"] - before["n"]) / before["n"])
    word = "tăng" if pct > 0 else "giảm"
    expected = f"Trong kỳ có {now['n']} cuộc gọi, {word} {abs(pct)} % so với kỳ trước ({before['n']} cuộc)" if pct else \
        f"Trong kỳ có {now['n']} cuộc gọi, bằng kỳ trước"
    assert summary.startswith(expected) and "Nhiều nhất là " in summary
    assert summary in html.replace("&#x27;", "'")
    # Key figures: this period and the previous one side by side.
    assert re.search(rf"<td>Cuộc gọi</td><td class=\"num\">{now['n']}</td><td class=\"num\">{before['n']}</td>", html)
    assert re.search(rf"<td>Khẩn cấp</td><td class=\"num\">{now['urgent']}</td><td class=\"num\">{before['urgent']}</td>", html)
    assert html.count("1762100") >= now["urgent"]  # urgent calls listed with their PBX id
    assert "1762100" not in for_manager  # a manager's report names them by call id (no caller reference)
    assert "Kiểm tra chất lượng (QA)" in html and "Tổng hàng chờ QA hiện nay (mọi kỳ)" in html


def test_reversed_period_is_an_error(web_db, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", "--from", "2026-11-15", "--to", "2026-11-02", "--out", str(out), "--db", str(web_db)]) != 0
    assert "is before --from" in capsys.readouterr().err and not out.exists()


def test_report_download_from_dashboard(client_as):
    client = client_as("manager")
    assert 'href="/report.pdf?from=2026-10-19&amp;to=2026-11-01"' in client.get("/dashboard?from=2026-10-19&to=2026-11-01").text
    r = client.get("/report.html?from=2026-10-19&to=2026-11-01")
    assert r.status_code == 200 and 'filename="bao-cao_2026-10-19_2026-11-01.html"' in r.headers["content-disposition"]
    assert "19/10/2026 – 01/11/2026" in r.text
    assert client.get("/report.html?from=2026-11-01&to=2026-10-19").status_code == 400
    assert client_as("qa").get("/report.html").status_code == 403


@needs_pdf
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_pdf_is_a4_numbered_with_no_stranded_heading(web_db, tmp_path, lang):
    out = tmp_path / "report.pdf"
    assert main(["report", "--from", "2026-10-12", "--to", "2026-11-22", "--out", str(out), "--db", str(web_db),
                 "--lang", lang]) == 0
    con = duckdb.connect(str(web_db))
    headings = {_norm(h) for h in _HeadingsOf(reports.render_report(con, "2026-10-12", "2026-11-22", lang=lang))}
    con.close()
    pages = _pages(out)
    assert len(pages) >= 2
    word = "Trang" if lang == "vi" else "Page"
    for number, (width, height, lines) in enumerate(pages, start=1):
        assert abs(width - 595.28) < 1.5 and abs(height - 841.89) < 1.5  # A4 in points (210 × 297 mm)
        texts = [t for _, _, t in lines]
        assert f"{word} {number} / {len(pages)}" in texts
        body = [ln for ln in lines if 20 * 2.835 - 2 < ln[0] and ln[1] < height - 18 * 2.835 + 2]
        last = max(body, key=lambda ln: ln[1])
        assert last[2] not in headings, f"page {number} ends with the heading {last[2]!r}"
    assert sum(t in headings for _, _, lines in pages for _, _, t in lines) >= 8  # the headings are found at all


def _HeadingsOf(html: str) -> list[str]:
    parser = _Headings()
    parser.feed(html)
    return parser.found


@needs_pdf
def test_pdf_download(client_as):
    r = client_as("manager").get("/report.pdf?from=2026-11-02&to=2026-11-08")
    assert r.status_code == 200 and r.content[:5] == b"%PDF-"
    assert 'filename="bao-cao_2026-11-02_2026-11-08.pdf"' in r.headers["content-disposition"]


def test_report_lists_qa_corrections_of_the_period(web_db, call_ids):
    from pipeline.web import data

    con = duckdb.connect(str(web_db))
    has_land = {r[0] for r in con.execute("SELECT call_id FROM stg_call_topics WHERE topic = 'land'").fetchall()}
    first, second = [c for c in call_ids if c not in has_land][:2]  # adding a topic a call has is no correction
    assert data.correct_topic(con, first, "land", "add", "lan")
    assert data.correct_topic(con, second, "land", "add", "an")
    today = __import__("datetime").date.today()
    html = reports.render_report(con, today, today)
    con.close()
    assert re.search(r"<td>Đất đai</td><td class=\"num\">2</td><td class=\"num\">0</td><td class=\"num\">2</td>", html)
