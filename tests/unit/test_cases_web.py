"""Cases in the web app: unit isolation (page and API, by id), the lifecycle through HTTP, QA re-routing."""

from __future__ import annotations

import pytest

from tests.support.web_fixtures import csrf_of


@pytest.fixture
def web_db(cases_db):
    return cases_db


@pytest.fixture
def client(client_named):
    return client_named


def _case_of_unit(client, unit: str) -> dict:
    rows = client("lan").get("/api/cases?status=all").json()["cases"]
    return next(r for r in rows if r["unit"] == unit and r["kind"] == "complaint")


def test_unit_user_sees_only_its_units_cases(client):
    rows = client("tantien").get("/api/cases?status=all").json()["cases"]
    assert rows and {r["unit"] for r in rows} == {"UBND phường Tân Tiến"}
    everyone = client("minh").get("/api/cases?status=all").json()["cases"]
    assert len({r["unit"] for r in everyone}) > 3  # the manager sees every unit


def test_unit_user_cannot_read_another_units_case_by_id(client):
    foreign = _case_of_unit(client, "UBND phường Tân Lập")
    c = client("tantien")
    page = c.get(f"/cases/{foreign['case_id']}")
    api = c.get(f"/api/cases/{foreign['case_id']}")
    assert page.status_code == 404 and api.status_code == 404
    for r in (page, api):
        assert foreign["summary"][:30] not in r.text
    # Nor act on it, nor find it through its call.
    r = c.post(f"/cases/{foreign['case_id']}/status", data={"to": "in_progress", "csrf_token": csrf_of(c.get("/cases").text)},
               follow_redirects=False)
    assert r.status_code == 404
    call_id = foreign["case_id"].removeprefix("PA-")
    assert c.get(f"/cases/of-call/{call_id}", follow_redirects=False).status_code == 404
    # The other unit can.
    assert client("tanlap").get(f"/api/cases/{foreign['case_id']}").status_code == 200


def test_unit_user_gets_redacted_text_no_audio_no_caller_data(client, call_ids):
    own = _case_of_unit(client, "UBND phường Tân Tiến")
    c = client("tantien")
    case = c.get(f"/api/cases/{own['case_id']}").json()
    assert case["caller_hash"] is None
    assert all(x["caller_last3"] is None and x["pbx_call_id"] is None for x in case["calls"])
    page = c.get(f"/cases/{own['case_id']}").text
    assert "PBX" not in page and "/audio/" not in page and 'href="/calls/' not in page
    assert "0905123456" not in page  # the fixture's raw phone number never reaches a unit
    # Everything outside /cases is closed to units: calls, their API, the audio, the dashboard.
    assert c.get("/calls", follow_redirects=False).headers["location"] == "/cases"
    for path in (f"/calls/{call_ids[0]}", "/api/calls", f"/api/calls/{call_ids[0]}", f"/audio/{call_ids[0]}", "/export.csv"):
        r = c.get(path, headers={"Range": "bytes=0-99"}, follow_redirects=False)
        assert r.status_code == 403, path
        assert b"RIFF" not in r.content
    assert c.get("/cases/callbacks").status_code == 403
    assert c.get("/cases/report").status_code == 403


def test_forward_then_unit_resolves_with_audit_trail(client):
    own = _case_of_unit(client, "UBND phường Tân Tiến")
    cid = own["case_id"]
    qa = client("lan")
    token = csrf_of(qa.get(f"/cases/{cid}").text)
    assert qa.post(f"/cases/{cid}/status", data={"to": "forwarded", "note": "chuyển phường", "csrf_token": token},
                   follow_redirects=False).status_code == 303
    unit = client("tantien")
    token = csrf_of(unit.get(f"/cases/{cid}").text)
    # A unit may not skip to resolved, nor resolve without a result.
    assert unit.post(f"/cases/{cid}/status", data={"to": "resolved", "result": "x", "csrf_token": token}).status_code == 403
    assert unit.post(f"/cases/{cid}/status", data={"to": "in_progress", "csrf_token": token},
                     follow_redirects=False).status_code == 303
    assert unit.post(f"/cases/{cid}/status", data={"to": "resolved", "csrf_token": token}).status_code == 400
    assert unit.post(f"/cases/{cid}/status", data={"to": "resolved", "result": "Đã thu gom rác", "csrf_token": token},
                     follow_redirects=False).status_code == 303
    # ...but it may not tell the citizen or close: that is the operators' step.
    assert unit.post(f"/cases/{cid}/status", data={"to": "informed", "csrf_token": token}).status_code == 403
    case = qa.get(f"/api/cases/{cid}").json()
    assert case["status"] == "resolved" and case["result"] == "Đã thu gom rác"
    steps = [(e["user_name"], e["from_status"], e["to_status"]) for e in case["events"] if e["action"] == "status"]
    assert steps == [("lan", "new", "forwarded"), ("tantien", "forwarded", "in_progress"),
                     ("tantien", "in_progress", "resolved")]
    # Resolved and not yet told: on the callback list, with the caller reference for QA only.
    qa_list = qa.get("/cases/callbacks").text
    assert cid[:11] in qa_list and "PBX 17621" in qa_list
    manager_list = client("minh").get("/cases/callbacks").text
    assert cid[:11] in manager_list and "PBX 17621" not in manager_list


def test_manager_reads_but_cannot_change(client):
    own = _case_of_unit(client, "UBND phường Tân Tiến")
    m = client("minh")
    token = csrf_of(m.get(f"/cases/{own['case_id']}").text)
    assert m.post(f"/cases/{own['case_id']}/status", data={"to": "forwarded", "csrf_token": token}).status_code == 403
    assert m.post(f"/cases/{own['case_id']}/unit", data={"unit": "X", "csrf_token": token}).status_code == 403
    report = m.get("/cases/report")
    assert report.status_code == 200 and "UBND phường Tân Tiến" in report.text
    csv = m.get("/cases/export.csv").text
    assert csv.splitlines()[0].lstrip("\ufeff").startswith("Đơn vị xử lý,Tuần (từ thứ Hai),Mã phiếu,Loại,Trạng thái")
    assert len(csv.splitlines()) > 10


def test_qa_topic_correction_reroutes_the_open_case(client, web_db):
    qa = client("lan")
    # A "land" call in xã Hòa Thắng: QA says it is really about the environment.
    rows = qa.get("/api/cases?status=all").json()["cases"]
    land = next(r for r in rows if r["topic"] == "land")
    call_id = land["case_id"].removeprefix("PA-")
    token = csrf_of(qa.get(f"/calls/{call_id}").text)
    for topic, action in (("land", "remove"), ("security_order", "add")):
        assert qa.post(f"/calls/{call_id}/topics", data={"topic": topic, "action": action, "csrf_token": token},
                       follow_redirects=False).status_code == 303
    case = qa.get(f"/api/cases/{land['case_id']}").json()
    assert case["topic"] == "security_order"
    assert case["unit"] == "Công an xã Hòa Thắng"  # from routing.csv: security_order + place → police of the unit
    rerouted = [e for e in case["events"] if e["action"] == "rerouted"]
    assert rerouted and rerouted[-1]["user_name"] == "lan" and "do QA sửa chủ đề cuộc gọi" in rerouted[-1]["note"]


def test_cli_unit_users_and_case_commands(web_db, monkeypatch, capsys, tmp_path):
    import io

    import duckdb

    from pipeline.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO("mat-khau-dv-3\n"))
    assert main(["users", "add", "eatam", "--role", "unit", "--db", str(web_db), "--password-stdin"]) != 0
    assert "--unit" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("mat-khau-dv-3\n"))
    assert main(["users", "add", "eatam", "--role", "unit", "--unit", "Công an phường", "--db", str(web_db),
                 "--password-stdin"]) == 0
    con = duckdb.connect(str(web_db))
    assert con.execute("SELECT u.role, x.unit FROM users u JOIN user_units x USING (user_name) "
                       "WHERE user_name = 'eatam'").fetchone() == ("unit", "Công an phường")
    con.close()
    capsys.readouterr()
    assert main(["cases", "build", "--db", str(web_db)]) == 0
    assert capsys.readouterr().out.startswith("cases: 0 opened")  # already built: nothing new
    assert main(["cases", "report", "--db", str(web_db)]) == 0
    out = capsys.readouterr().out
    assert "| UBND phường Tân Tiến |" in out and "Vụ việc (gộp các cuộc gọi cùng sự việc)" in out
    csv_path = tmp_path / "w.csv"
    assert main(["cases", "export", "--week", "2026-11-04", "--out", str(csv_path), "--db", str(web_db)]) == 0
    weeks = {line.split(",")[1] for line in csv_path.read_text(encoding="utf-8-sig").splitlines()[1:]}
    assert weeks == {"02/11/2026"}  # dd/mm/yyyy in the CSV (issue 29)


def test_qa_merges_two_cases_by_hand(client):
    qa = client("lan")
    rows = [r for r in qa.get("/api/cases?status=open").json()["cases"] if r["unit"] == "UBND phường Tân Hòa"]
    a, b = rows[0]["case_id"], rows[1]["case_id"]
    token = csrf_of(qa.get(f"/cases/{a}").text)
    assert qa.post(f"/cases/{a}/merge", data={"into": b.removeprefix("PA-"), "csrf_token": token},
                   follow_redirects=False).status_code == 303
    merged, into = qa.get(f"/api/cases/{a}").json(), qa.get(f"/api/cases/{b}").json()
    assert merged["status"] == "merged" and merged["merged_into"] == b
    assert len(into["calls"]) == 2 and any(e["action"] == "merged" and e["user_name"] == "lan" for e in into["events"])
    assert qa.post(f"/cases/{b}/merge", data={"into": "PA-nope", "csrf_token": token}).status_code == 400
    unit = client("tantien")  # a unit never merges (403 for any case id, so a foreign case's existence does not show)
    assert unit.post(f"/cases/{b}/merge", data={"into": a, "csrf_token": csrf_of(unit.get("/cases").text)}).status_code == 403
