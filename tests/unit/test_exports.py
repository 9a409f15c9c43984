"""Exports read back: Vietnamese headers, Có/Không, m:ss, file names with the period and filters,
the formatted Excel sheet and its summary; transcripts in WebVTT/SRT/JSON/TXT, redacted by default."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta

import duckdb
from openpyxl import load_workbook

from pipeline.cli import main
from pipeline.report.exports import export_filename, slug


def _csv(body: bytes) -> list[dict]:
    assert body[:3] == b"\xef\xbb\xbf"  # BOM: Excel reads UTF-8
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def _filename(response) -> str:
    return re.search(r'filename="([^"]+)"', response.headers["content-disposition"]).group(1)


def test_helpers():
    assert slug("Đắk Lắk / Tân Tiến") == "dak-lak-tan-tien"
    from datetime import date
    assert export_filename(date(2026, 10, 19), date(2026, 11, 1), "csv", filters={"place": "Tân Tiến", "urgent": True}
                           ) == "cuoc-goi_2026-10-19_2026-11-01_dia-ban-tan-tien_khan-cap.csv"


def test_csv_export_vietnamese(client_as, web_db):
    client = client_as("manager")
    r = client.get("/export.csv?from=2026-10-19&to=2026-11-01&topic=security_order")
    assert r.status_code == 200
    assert _filename(r) == "cuoc-goi_2026-10-19_2026-11-01_chu-de-security-order.csv"
    rows = _csv(r.content)
    con = duckdb.connect(str(web_db), read_only=True)
    expected = con.execute("""SELECT c.call_id, c.pbx_call_id FROM calls c JOIN call_topics t USING (call_id)
        WHERE t.topic = 'security_order' AND t.assigned AND CAST(c.started_at AS DATE) BETWEEN '2026-10-19' AND '2026-11-01'
        """).fetchall()
    con.close()
    assert expected and len(rows) == len(expected)
    assert {r["Mã cuộc gọi"] for r in rows} == {cid for cid, _ in expected}
    # A manager's export carries no caller reference (pipeline.access); an admin's has the PBX call id.
    assert "Mã cuộc gọi tổng đài (PBX)" not in rows[0] and "Người gọi (viết tắt)" not in rows[0]
    admin_rows = _csv(client_as("admin").get("/export.csv?from=2026-10-19&to=2026-11-01&topic=security_order").content)
    assert {r["Mã cuộc gọi"]: r["Mã cuộc gọi tổng đài (PBX)"] for r in admin_rows} == dict(expected)
    first = rows[0]
    assert first["Khẩn cấp"] == "Có" and first["Đã duyệt"] == "Không" and first["Lý do khẩn cấp"] == "Bạo lực"
    assert first["Chủ đề"] == "An ninh trật tự" and first["Đơn vị xử lý"] == "Công an phường"
    assert first["Thời lượng (phút:giây)"] == "0:05"
    assert re.fullmatch(r"\d\d/\d\d/2026 \d\d:\d\d", first["Thời gian"])
    assert re.fullmatch(r"0,\d{1,2}", first["Độ tin cậy nhận dạng"])  # the decimal comma, as on screen (issue 29)
    assert "0905123456" not in r.text


def test_csv_export_english_switch(client_as):
    client = client_as("manager")
    client.get("/lang/en?next=/dashboard")
    r = client.get("/export.csv?from=2026-10-01&to=2026-12-31&urgent=1")
    assert _filename(r) == "calls_2026-10-01_2026-12-31_urgent.csv"
    rows = _csv(r.content)
    assert rows and set(r["Urgent"] for r in rows) == {"Yes"}
    assert "Routing unit" in rows[0] and rows[0]["Topics"] == "Security and public order"


def test_xlsx_export_is_formatted_with_summary(client_as):
    client = client_as("admin")
    r = client.get("/export.xlsx?from=2026-10-12&to=2026-11-22")
    assert r.status_code == 200 and _filename(r) == "cuoc-goi_2026-10-12_2026-11-22.xlsx"
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb["Cuộc gọi"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["Mã cuộc gọi", "Mã cuộc gọi tổng đài (PBX)", "Thời gian"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    assert ws.column_dimensions["A"].width == 18 and ws.max_row == 37  # 36 calls + header
    col = {h: i + 1 for i, h in enumerate(header)}
    started = ws.cell(2, col["Thời gian"])
    assert isinstance(started.value, datetime) and started.number_format == "dd/mm/yyyy hh:mm"
    dur = ws.cell(2, col["Thời lượng (phút:giây)"])
    assert dur.number_format == "[m]:ss"
    assert (dur.value if isinstance(dur.value, timedelta) else timedelta(days=dur.value)).total_seconds() == 5
    assert {ws.cell(i, col["Khẩn cấp"]).value for i in range(2, 38)} == {"Có", "Không"}
    summary = wb["Tổng hợp"]
    cells = [[c.value for c in row] for row in summary.iter_rows()]
    assert cells[0] == ["Kỳ báo cáo", "12/10/2026 – 22/11/2026"] + [None] * (summary.max_column - 2)
    week_head = next(row for row in cells if row[0] == "Chủ đề" and str(row[1]).startswith("Tuần"))
    assert week_head[1] == "Tuần 12/10/2026"
    totals = [row for row in cells if row[0] == "Tổng"]
    assert len(totals) == 2 and all(row[[v for v in row if v is not None].__len__() - 1] == 36 for row in totals)


def test_cli_export_calls(web_db, tmp_path, capsys):
    out = tmp_path / "exports"
    assert main(["export", "calls", "--from", "2026-11-02", "--to", "2026-11-08", "--format", "xlsx", "--out", str(out),
                 "--db", str(web_db)]) == 0
    path = out / "cuoc-goi_2026-11-02_2026-11-08.xlsx"
    assert path.is_file()
    n = int(capsys.readouterr().out.split()[0])
    assert load_workbook(path)["Cuộc gọi"].max_row == n + 1
    assert main(["export", "calls", "--from", "2026-11-08", "--to", "2026-11-02", "--out", str(out), "--db", str(web_db)]) != 0


def test_transcript_download_vtt_redacted(client_as, call_ids):
    cid = call_ids[0]
    client = client_as("manager")
    r = client.get(f"/calls/{cid}/transcript.vtt")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/vtt")
    body = r.text
    assert body.startswith("WEBVTT\n")
    assert re.search(r"\n00:00:00\.000 --> 00:00:01\.200\n<v Tổng đài viên>Tổng đài 1022 xin nghe\.</v>", body)
    assert "<v Người dân>" in body
    assert client.get(f"/calls/{cid}/transcript.vtt?raw=1").status_code == 403  # managers never get raw text


def test_transcript_raw_only_for_allowed_roles(client_as, web_db):
    con = duckdb.connect(str(web_db), read_only=True)
    cid = con.execute("SELECT call_id FROM segments_raw WHERE text LIKE '%0905123456%' LIMIT 1").fetchone()[0]
    con.close()
    qa = client_as("qa")
    assert "[SĐT]" in qa.get(f"/calls/{cid}/transcript.txt").text
    raw = qa.get(f"/calls/{cid}/transcript.json?raw=1")
    doc = json.loads(raw.text)
    assert doc["redacted"] is False and "0905123456" in " ".join(s["text"] for s in doc["segments"])
    assert [s["role"] for s in doc["segments"]] == ["operator", "citizen", "operator"]
    srt = qa.get(f"/calls/{cid}/transcript.srt").text
    assert srt.startswith("1\n00:00:00,000 --> 00:00:01,200\n[Tổng đài viên] ")
    assert qa.get(f"/calls/{cid}/transcript.doc").status_code == 404


def test_cli_export_transcripts(web_db, tmp_path):
    out = tmp_path / "tr"
    assert main(["export", "transcripts", "--from", "2026-10-12", "--to", "2026-10-18", "--format", "vtt",
                 "--out", str(out), "--db", str(web_db)]) == 0
    files = sorted(out.glob("*.vtt"))
    assert files and all(f.read_text(encoding="utf-8").startswith("WEBVTT") for f in files)
    assert not any("0905123456" in f.read_text(encoding="utf-8") for f in files)
    # As a manager sees them (the default --role): named by the call id, not the PBX call id.
    assert all(re.fullmatch(r"2026-10-1\d_\d{4}_[0-9a-f]{16}\.vtt", f.name) for f in files)
    admin = tmp_path / "tr-admin"
    assert main(["export", "transcripts", "--from", "2026-10-12", "--to", "2026-10-18", "--format", "vtt",
                 "--out", str(admin), "--db", str(web_db), "--role", "admin"]) == 0
    assert all(re.fullmatch(r"2026-10-1\d_\d{4}_17621\d{5}\.1\.vtt", f.name) for f in admin.glob("*.vtt"))
