"""Official documents (issue 29): the period and case reports as .docx in the form of Nghị định 30/2020/NĐ-CP,
the CLI refusing a report under a name it is not written in, topic filters by label, one number format."""

from __future__ import annotations

import csv
import io
import re

import pytest
from docx import Document
from docx.shared import Mm, Pt

from pipeline.cli import main
from pipeline.report import case_reports, documents, formats
from tests.support.web_fixtures import prepare_cases


def _text(cell) -> str:
    return "\n".join(p.text for p in cell.paragraphs)


def _runs(paragraphs):
    return [r for p in paragraphs for r in p.runs if r.text.strip()]


def _para(cell, needle: str):
    return next(p for p in cell.paragraphs if needle in p.text)


def check_decree_layout(data: bytes, *, symbol: str, place: str, agency: str) -> Document:
    """The parts and form Nghị định 30/2020/NĐ-CP asks for; returns the opened document."""
    doc = Document(io.BytesIO(data))
    s = doc.sections[0]
    assert (round(s.page_width.mm), round(s.page_height.mm)) == (210, 297)  # A4 portrait
    assert 20 <= round(s.top_margin.mm) <= 25 and 20 <= round(s.bottom_margin.mm) <= 25
    assert 30 <= round(s.left_margin.mm) <= 35 and 15 <= round(s.right_margin.mm) <= 20
    head, foot = doc.tables[0], doc.tables[-1]
    issuing, national = head.cell(0, 0), head.cell(0, 1)
    # Top left: governing body, issuing body (upper case, bold), number and symbol.
    assert agency.upper() in _text(issuing) and _para(issuing, agency.upper()).runs[0].bold
    assert re.search(rf"Số:\s+/BC-{re.escape(symbol)}$", _text(issuing), re.M)
    # Top right: Quốc hiệu (bold), Tiêu ngữ (bold, underlined), place and date in italics.
    q = _para(national, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    assert q.runs[0].bold and q.alignment == 1
    motto = _para(national, "Độc lập - Tự do - Hạnh phúc")
    assert motto.runs[0].bold and motto.runs[0].underline
    date_line = _para(national, "ngày")
    assert re.fullmatch(rf"{re.escape(place)}, ngày \d\d tháng \d{{1,2}} năm \d{{4}}", date_line.text)
    assert date_line.runs[0].italic
    # Title: kind and trích yếu, centred and bold.
    body = doc.paragraphs
    kind = next(p for p in body if p.text == "BÁO CÁO")
    summary = body[body.index(kind) + 1]
    assert kind.alignment == summary.alignment == 1 and kind.runs[0].bold and summary.runs[0].bold and summary.text
    # Bottom: "Nơi nhận:" (bold italic) with "Lưu: VT" last, signer's title bold on the right.
    recipients, signer = foot.cell(0, 0), foot.cell(0, 1)
    label = recipients.paragraphs[0]
    assert label.text == "Nơi nhận:" and label.runs[0].bold and label.runs[0].italic
    assert recipients.paragraphs[-1].text == f"- Lưu: VT, {symbol}."
    assert all(p.text.startswith("- ") and p.text.endswith(";") for p in recipients.paragraphs[1:-1])
    assert "GIÁM ĐỐC" in _text(signer) and _para(signer, "GIÁM ĐỐC").runs[0].bold
    # Times New Roman everywhere; body text 13–14 pt, the header 12–14, tables 12, recipients 11–12.
    every = _runs(body) + [r for t in doc.tables for row in t.rows for c in row.cells for r in _runs(c.paragraphs)]
    assert every and {r.font.name for r in every} == {"Times New Roman"}
    assert all(Pt(13) <= r.font.size <= Pt(14) for r in _runs(body))
    assert all(Pt(11) <= r.font.size <= Pt(14) for r in every)
    assert doc.styles["Normal"].font.name == "Times New Roman"
    # Page numbers at the top from page 2 (a PAGE field in the header, none on the first page).
    assert s.different_first_page_header_footer and "PAGE" in s.header._element.xml
    return doc


def test_report_docx_follows_the_decree_with_the_agency_from_settings(web_db, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOTLINE_AGENCY_NAME", "Trung tâm Phục vụ hành chính công")
    monkeypatch.setenv("HOTLINE_AGENCY_SYMBOL", "TTPVHCC")
    monkeypatch.setenv("HOTLINE_AGENCY_PLACE", "Buôn Ma Thuột")
    monkeypatch.setenv("HOTLINE_SIGNER_AUTHORITY", "KT. Giám đốc")
    monkeypatch.setenv("HOTLINE_SIGNER_TITLE", "Phó Giám đốc")
    monkeypatch.setenv("HOTLINE_SIGNER_NAME", "Nguyễn Văn A")
    monkeypatch.setenv("HOTLINE_REPORT_RECIPIENTS", "UBND tỉnh (để báo cáo),Sở Khoa học và Công nghệ")
    out = tmp_path / "bao-cao.docx"
    assert main(["report", "--from", "2026-10-19", "--to", "2026-11-01", "--out", str(out), "--db", str(web_db)]) == 0
    doc = check_decree_layout(out.read_bytes(), symbol="TTPVHCC", place="Buôn Ma Thuột",
                              agency="Trung tâm Phục vụ hành chính công")
    foot = doc.tables[-1]
    assert [p.text for p in foot.cell(0, 0).paragraphs][1:] == [
        "- UBND tỉnh (để báo cáo);", "- Sở Khoa học và Công nghệ;", "- Lưu: VT, TTPVHCC."]
    signer = [p.text for p in foot.cell(0, 1).paragraphs if p.text]
    assert signer == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Văn A"]
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "từ ngày 19/10/2026 đến ngày 01/11/2026" in text and "I. TÓM TẮT" in text
    cells = [c.text for t in doc.tables[1:-1] for row in t.rows for c in row.cells]
    assert "Cuộc gọi" in cells and not [c for c in cells if re.search(r"\d \%|\d\.\d|_", c)]


@pytest.mark.parametrize("name", ["x.xlsx", "x.csv", "report"])
def test_report_refuses_a_name_it_does_not_write(web_db, tmp_path, capsys, name):
    out = tmp_path / name
    assert main(["report", "--from", "2026-10-19", "--to", "2026-11-01", "--out", str(out), "--db", str(web_db)]) == 2
    assert not out.exists()
    assert ".docx" in capsys.readouterr().err


def test_case_report_docx_for_one_unit(web_db, tmp_path):
    prepare_cases(web_db)
    out = tmp_path / "phieu.docx"
    assert main(["cases", "report", "--unit", "UBND phường Tân Tiến", "--out", str(out), "--db", str(web_db)]) == 0
    doc = check_decree_layout(out.read_bytes(), symbol="TĐ1022", place="Đắk Lắk", agency="Tổng đài 1022 tỉnh Đắk Lắk")
    assert doc.tables[-1].cell(0, 0).paragraphs[1].text == "- UBND phường Tân Tiến;"  # the unit receives it
    listed = doc.tables[-2]
    assert [c.text for c in listed.rows[0].cells][:3] == ["Mã phiếu", "Trạng thái", "Lĩnh vực"]
    values = [c.text for row in listed.rows[1:] for c in row.cells]
    assert values and not {"new", "complaint", "environment", "False", "True"} & set(values)
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", row.cells[4].text) for row in listed.rows[1:])


def test_web_offers_the_documents(client_as, web_db):
    prepare_cases(web_db)
    m = client_as("manager")
    page = m.get("/dashboard?from=2026-10-19&to=2026-11-01").text
    assert 'href="/report.docx?from=2026-10-19&amp;to=2026-11-01"' in page
    r = m.get("/report.docx?from=2026-10-19&to=2026-11-01")
    assert r.status_code == 200 and r.headers["content-type"] == documents.DOCX_TYPE
    assert 'filename="bao-cao_2026-10-19_2026-11-01.docx"' in r.headers["content-disposition"]
    check_decree_layout(r.content, symbol="TĐ1022", place="Đắk Lắk", agency="Tổng đài 1022 tỉnh Đắk Lắk")
    assert 'id="case-report-docx"' in m.get("/cases/report").text
    r = m.get("/cases/report.docx?unit=UBND+phường+Tân+Lập")
    assert r.status_code == 200
    check_decree_layout(r.content, symbol="TĐ1022", place="Đắk Lắk", agency="Tổng đài 1022 tỉnh Đắk Lắk")
    assert client_as("qa").get("/report.docx").status_code in (303, 403)  # the dashboard's roles only


def test_cases_csv_for_ward_committees_reads_vietnamese(client_as, web_db):
    prepare_cases(web_db)
    r = client_as("manager").get("/cases/export.csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8").lstrip("\ufeff"))))
    assert rows and list(rows[0])[:5] == ["Đơn vị xử lý", "Tuần (từ thứ Hai)", "Mã phiếu", "Loại", "Trạng thái"]
    assert {r["Loại"] for r in rows} <= {"Phản ánh", "Hỏi đáp"}
    assert {r["Khẩn cấp"] for r in rows} | {r["Quá hạn"] for r in rows} <= {"Có", "Không"}
    assert not {r["Trạng thái"] for r in rows} & {"new", "closed", "answered", "forwarded"}
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", r["Ngày tiếp nhận"]) for r in rows)
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4}", r["Tuần (từ thứ Hai)"]) for r in rows)
    text = r.content.decode("utf-8")
    assert not re.search(r"\d{4}-\d\d-\d\d|False|True|complaint|inquiry", text)
    assert "'?'" not in text and ",?," not in text  # a case without a unit says so in words


def test_export_topic_by_label_and_unknown_topic(web_db, tmp_path, capsys):
    by_label, by_key = tmp_path / "a.csv", tmp_path / "b.csv"
    assert main(["export", "calls", "--topic", "Môi trường, vệ sinh", "--out", str(by_label), "--db", str(web_db)]) == 0
    assert main(["export", "calls", "--topic", "environment", "--out", str(by_key), "--db", str(web_db)]) == 0
    a, b = by_label.read_text("utf-8").splitlines(), by_key.read_text("utf-8").splitlines()
    assert len(a) > 1 and a == b
    capsys.readouterr()
    assert main(["export", "calls", "--topic", "moi truong", "--out", str(tmp_path / "c.csv"), "--db", str(web_db)]) == 2
    err = capsys.readouterr().err
    assert "moi truong" in err and "Môi trường, vệ sinh (environment)" in err and "Đất đai (land)" in err
    assert not (tmp_path / "c.csv").exists()


def test_one_number_and_date_format():
    assert formats.decimal(0.5234, 2) == "0,52" and formats.decimal(1234.5, 1) == "1.234,5"
    assert formats.decimal(0.5234, 2, "en") == "0.52" and formats.decimal(None) == "—"
    assert formats.percent(0) == "0%" and formats.percent(0.425) == "42%" and formats.percent(0.4251, 1) == "42,5%"
    from datetime import date, datetime

    assert formats.day(date(2026, 3, 5)) == "05/03/2026" and formats.day_time(datetime(2026, 3, 5, 7, 4)) == "05/03/2026 07:04"
    assert documents.date_line("Đắk Lắk", date(2026, 2, 3)) == "Đắk Lắk, ngày 03 tháng 02 năm 2026"
    assert documents.date_line("Đắk Lắk", date(2026, 12, 17)) == "Đắk Lắk, ngày 17 tháng 12 năm 2026"
    t = case_reports.units_table([{"unit": "?", "n_cases": 1, "n_calls": 2, "n_open": 1, "n_overdue": 0,
                                   "median_hours_to_resolve": 12.3, "reopened_share": 0.0}])
    assert t.rows == [["(chưa xác định đơn vị)", 1, 2, 1, 0, "12,3", "0%"]]


def test_date_fields_take_dd_mm_yyyy(client_as):
    from pipeline.web.context import parse_date

    assert parse_date("05/03/2026").isoformat() == "2026-03-05" and parse_date("2026-03-05").isoformat() == "2026-03-05"
    assert parse_date("31/02/2026") is None and parse_date("5/3/26") is None
    page = client_as("manager").get("/dashboard?from=19/10/2026&to=01/11/2026").text
    assert 'name="from" value="19/10/2026"' in page and 'placeholder="dd/mm/yyyy"' in page
    assert 'type="date"' not in page


def test_html_report_writes_numbers_and_dates_as_the_screen_does(web_db):
    from pipeline.report import reports
    from pipeline.warehouse import db

    con = db.connect(web_db)
    try:
        html = reports.render_report(con, "2026-10-01", "2026-12-31")
    finally:
        con.close()
    assert re.search(r'<td class="num">0,\d\d</td>', html)  # mean recognition confidence, decimal comma
    assert not re.search(r'<td class="num">\d+\.\d+</td>', html) and not re.search(r"\d %", html)
    assert re.search(r"<td>\d\d/\d\d/2026 \d\d:\d\d</td>", html)
