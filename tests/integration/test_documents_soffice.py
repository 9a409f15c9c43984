"""The official documents open in LibreOffice (issue 29): the .docx converts to a PDF of A4 pages whose text
holds the decree's parts. Needs Debian's libreoffice-writer-nogui (``soffice``); skipped without it."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from pipeline.cli import main
from pipeline.report import documents

pytestmark = pytest.mark.skipif(documents.soffice() is None,
                                reason="soffice absent: apt-get install libreoffice-writer-nogui to convert .docx")


def _pdf_text(pdf) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext absent (poppler-utils) to read the converted PDF")
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_period_report_docx_converts_to_a4_pages_with_the_decree_parts(web_db, tmp_path):
    out = tmp_path / "bao-cao.docx"
    assert main(["report", "--from", "2026-10-19", "--to", "2026-11-01", "--out", str(out), "--db", str(web_db)]) == 0
    pdf = tmp_path / "bao-cao.pdf"
    pdf.write_bytes(documents.docx_to_pdf(out.read_bytes()))
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    sizes = set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data))
    assert sizes and all(abs(float(w) - 595.3) < 1.5 and abs(float(h) - 841.9) < 1.5 for w, h in sizes)  # A4 in points
    text = _pdf_text(pdf)
    for part in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "TỔNG ĐÀI 1022",
                 "/BC-TĐ1022", "Đắk Lắk, ngày", "BÁO CÁO", "Nơi nhận:", "Lưu: VT, TĐ1022", "GIÁM ĐỐC"):
        assert part in text, part
    first = text.split("\f")[0]
    assert first.index("CỘNG HÒA") < first.index("BÁO CÁO")  # the national title above the document's title
    assert text.count("\f") >= 1  # more than one page: page 2 starts


def test_case_report_pdf_through_the_cli(web_db, tmp_path):
    out = tmp_path / "phieu.pdf"
    assert main(["cases", "report", "--out", str(out), "--db", str(web_db)]) == 0
    text = _pdf_text(out)
    assert "Kết quả xử lý phản ánh, kiến nghị" in text and "Nơi nhận:" in text


def test_official_period_report_as_pdf(web_db, tmp_path):
    out = tmp_path / "bao-cao.pdf"
    assert main(["report", "--from", "2026-10-19", "--to", "2026-11-01", "--out", str(out), "--official",
                 "--db", str(web_db)]) == 0
    assert "Độc lập - Tự do - Hạnh phúc" in _pdf_text(out)
