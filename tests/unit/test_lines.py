"""Lines (issue 32): the line of each call (two DIDs on one PBX), the lines file, ``hotline lines``,
and users scoped to lines on every route kind (pages, API, audio, exports, cases)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from pipeline.cli import main
from pipeline.errors import SetupError
from pipeline.intake import calllog_asterisk as ast
from pipeline.lines import DEFAULT_LINES, LineBook, load_lines
from pipeline.warehouse import db
from pipeline.warehouse.lines import assign_lines, line_counts, set_user_lines
from pipeline.web.auth import add_user
from tests.support.web_fixtures import FAST_AUTH, log_in

SALT = "test-salt"
PROVINCE_DID, CITY_DID = "02621022", "1900868647"


def _cdr(src, dst, dstchannel, start, uniqueid):
    return ["", src, dst, "from-trunk", f'"Citizen" <{src}>', "PJSIP/viettel-0001", dstchannel, "Dial",
            "PJSIP/101,30", start, start, start, 35, 30, "ANSWERED", "DOCUMENTATION", uniqueid, ""]


def _master(path, rows):
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue())


def test_two_dids_on_one_pbx_give_each_call_its_line(tmp_path):
    master = tmp_path / "Master.csv"
    _master(master, [
        _cdr("0905123456", PROVINCE_DID, "PJSIP/101-0002", "2026-11-30 08:15:02", "200.1"),
        _cdr("0987654321", CITY_DID, "PJSIP/102-0004", "2026-11-30 09:00:00", "200.2"),
        # the route answered on an extension: the DID is only in the FreePBX file name
        _cdr("0977000222", "103", "PJSIP/103-0010", "2026-11-30 11:05:00", "200.3"),
        _cdr("101", "0912345678", "PJSIP/viettel-0007", "2026-11-30 10:00:00", "200.4"),  # outbound
    ])
    recs = [f"2026/11/30/in-{PROVINCE_DID}-0905123456-20261130-081502-200.1.wav",
            f"2026/11/30/in-{CITY_DID}-0987654321-20261130-090000-200.2.wav",
            f"2026/11/30/in-{CITY_DID}-0977000222-20261130-110500-200.3.wav",
            "2026/11/30/out-0912345678-101-20261130-100000-200.4.wav"]
    entries = ast.pair(master, recs, salt=SALT).entries
    dialled = [entries[r].dialled for r in recs]
    assert dialled == [PROVINCE_DID, CITY_DID, CITY_DID, None]  # an outbound call's number is the citizen's: never kept
    assert [entries[r].operator_ext for r in recs[:3]] == ["101", "102", "103"]
    book = LineBook()
    assert [book.line_for(d, "/srv/pbx") for d in dialled] == ["tinh-1022", "bmt", "bmt", "tinh-1022"]
    assert book.line_for("842621022", None) == "tinh-1022"  # with the country code
    assert book.line_for("0999999999", None) == "tinh-1022"  # unknown DID: the default


def test_the_source_decides_when_the_number_does_not_and_the_file_is_checked(tmp_path):
    path = tmp_path / "lines.json"
    path.write_text(json.dumps([
        {"key": "tinh", "name": "Tỉnh", "agency": "Trung tâm", "number": "0262.1022", "dids": ["0262.1022"]},
        {"key": "tuy-hoa", "name": "Tuy Hòa", "agency": "UBND phường", "number": "0257.1022",
         "sources": ["sftp://rec@pbx-tuyhoa/var/spool/asterisk/monitor"], "qa_team": ["hoa"]},
    ]), encoding="utf-8")
    book = LineBook(load_lines(path), "tinh")
    assert book.line_for(None, "sftp://rec@pbx-tuyhoa/var/spool/asterisk/monitor/2026") == "tuy-hoa"
    assert book.line_for("02621022", "sftp://rec@pbx-tuyhoa/var/spool/asterisk/monitor") == "tinh"  # number first
    assert book.line_for(None, "/srv/other") == "tinh"
    assert book.get("tuy-hoa").qa_team == ("hoa",)
    path.write_text(json.dumps([{"key": "Bad Key", "name": "x", "agency": "y", "number": "1"}]))
    with pytest.raises(SetupError, match="lines.json: line 1 needs a key"):
        load_lines(path)
    path.write_text(json.dumps([{"key": "a", "name": "x", "agency": "y", "number": "1", "colour": "red"}]))
    with pytest.raises(SetupError, match="unknown field"):
        load_lines(path)
    with pytest.raises(SetupError, match="HOTLINE_DEFAULT_LINE"):
        LineBook(DEFAULT_LINES, "nowhere")


def _lined_warehouse(path):
    """The fixture warehouse's calls split over the two lines: newest half the city's (by DID), the rest
    the province's (no number: the default)."""
    con = db.connect(path)
    ids = [r[0] for r in con.execute("SELECT call_id FROM calls WHERE status = 'done' ORDER BY started_at").fetchall()]
    city = ids[len(ids) // 2:]
    con.execute("UPDATE calls SET dialled = ? WHERE call_id IN (SELECT unnest(?))", [CITY_DID, city])
    con.execute("UPDATE calls SET line = NULL")
    n = assign_lines(con, LineBook())
    counts = line_counts(con)
    con.close()
    return ids, set(city), n, counts


def test_assign_and_list_lines(cases_db, capsys):
    ids, city, n, counts = _lined_warehouse(cases_db)
    assert n >= len(ids)
    assert counts["bmt"][0] == len(city) and counts["tinh-1022"][0] == len(ids) - len(city)
    assert main(["lines", "list", "--db", str(cases_db)]) == 0
    out = capsys.readouterr().out
    assert f"bmt\t1900.86.86.47\t{len(city)}\t" in out
    assert "tinh-1022 (default)\t0262.1022" in out and "phu-yen\t0257.1022\t0\t" in out


@pytest.fixture
def web_db(cases_db):
    return cases_db  # the app fixture serves web_db: here the warehouse with cases


@pytest.fixture
def scoped(cases_db):
    """The warehouse split over two lines; "thanhpho" (admin) sees the city's line only, "tinh" (admin) both."""
    ids, city, _, _ = _lined_warehouse(cases_db)
    con = db.connect(cases_db)
    add_user(con, "thanhpho", "admin", "mat-khau-tp-1", FAST_AUTH)
    add_user(con, "tinh", "admin", "mat-khau-tinh-1", FAST_AUTH)
    set_user_lines(con, "thanhpho", ["bmt"])
    case_of = dict(con.execute("SELECT call_id, case_id FROM case_calls").fetchall())
    con.close()
    return ids, city, case_of


@pytest.fixture
def as_user(app):
    from fastapi.testclient import TestClient

    def make(name, password):
        c = TestClient(app)
        assert log_in(c, name, password).status_code == 303
        return c

    return make


def test_a_line_scoped_user_sees_only_its_line_on_every_route_kind(scoped, as_user):
    ids, city, case_of = scoped
    province = [i for i in ids if i not in city]
    tp, tinh = as_user("thanhpho", "mat-khau-tp-1"), as_user("tinh", "mat-khau-tinh-1")
    mine, other = sorted(city)[0], province[0]
    # API and pages: lists
    listed = {r["call_id"] for r in tp.get("/api/calls?page=1").json()["calls"]}
    assert listed and listed <= city
    assert tp.get("/api/calls").json()["total"] == len(city)
    assert tinh.get("/api/calls").json()["total"] == len(ids)
    assert tinh.get("/api/calls?line=bmt").json()["total"] == len(city)  # the line filter, across lines
    assert tp.get("/api/calls?line=tinh-1022").json()["total"] == 0  # a filter never widens the scope
    page = tp.get("/calls")
    assert page.status_code == 200 and mine in page.text and other not in page.text
    assert "<option>tinh-1022</option>" not in page.text  # the line filter offers the user's lines only
    assert "<option>tinh-1022</option>" in tinh.get("/calls").text
    # one call: page, API, audio, corrections
    assert tp.get(f"/calls/{mine}").status_code == 200
    for url in (f"/calls/{other}", f"/api/calls/{other}", f"/audio/{other}", f"/cases/of-call/{other}",
                "/calls/0000000000000000"):
        assert tp.get(url).status_code == 404, url
    assert tinh.get(f"/api/calls/{other}").status_code == 200
    assert tp.get(f"/audio/{mine}").status_code != 404 or tinh.get(f"/audio/{mine}").status_code == 404
    r = tp.post(f"/calls/{other}/reviewed", data={"reviewed": "1", "csrf_token": "x"}, follow_redirects=False)
    assert r.status_code == 404
    # exports
    csv_text = tp.get("/export.csv").content.decode("utf-8-sig")
    assert mine in csv_text and not any(i in csv_text for i in province)
    assert tinh.get("/export.csv").content.decode("utf-8-sig").count("\n") > csv_text.count("\n")
    # cases
    seen = {r["case_id"] for r in tp.get("/api/cases?status=all").json()["cases"]}
    assert seen and seen <= {case_of[i] for i in city if i in case_of}
    assert len({r["case_id"] for r in tinh.get("/api/cases?status=all").json()["cases"]}) > len(seen)
    other_case = case_of[other]
    for url in (f"/cases/{other_case}", f"/api/cases/{other_case}"):
        assert tp.get(url).status_code == 404, url
    assert tp.get(f"/api/cases/{case_of[mine]}").status_code == 200
    # what reads every line (dashboard, report, QA work lists) is closed to a scoped user
    for url in ("/dashboard", "/report.html", "/cases/callbacks"):
        assert tp.get(url).status_code == 403, url
        assert tinh.get(url).status_code != 403, url
