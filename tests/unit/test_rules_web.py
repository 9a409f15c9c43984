"""Issue 30 #1: the rule editor in the web app and where hits show (call page, list filter, search,
dashboard, export, period report), on the fixture warehouse (36 calls, 6 of them about rubbish in
phường Tân Tiến), with the app's real session gate and CSRF check."""

from __future__ import annotations

import csv
import io
import re

import pytest

from pipeline.analysis.rules import DEFAULTS
from pipeline.warehouse import db
from pipeline.warehouse import rules as store
from pipeline.web import rule_form
from tests.support.web_fixtures import csrf_of

RUBBISH = {"title": "Rác ở Tân Tiến", "name": "", "join": "all", "enabled": "1",
           "kind_0": "said", "by_0": "citizen", "words_0": "rac, bốc mùi", "window_0": "",
           "kind_1": "place", "words_1": "Tân Tiến", "kind_2": ""}


def post_rule(client, action: str, fields: dict, csrf: str | None = None):
    token = csrf if csrf is not None else csrf_of(client.get("/rules").text)
    return client.post("/rules", data={**fields, "action": action, "csrf_token": token}, follow_redirects=False)


def test_every_default_round_trips_through_the_form():
    for rule in DEFAULTS:
        form = rule_form.form_of(rule)
        assert form.complex_json is None and form.rows, rule.name
        assert rule_form.condition_of(form) == rule.condition, rule.name


def test_a_condition_the_rows_cannot_show_keeps_its_json():
    from pipeline.analysis.rules import Rule

    nested = Rule("long-nhau", "Lồng nhau", {"any": [{"all": [{"urgent": True}, {"topic": ["traffic"]}]},
                                                     {"silence_over_s": 30}]})
    form = rule_form.form_of(nested)
    assert form.complex_json and not form.rows


@pytest.mark.parametrize("fields,key", [
    ({"kind_0": "silence", "number_0": "ba mươi"}, "rf_err_number"),
    ({"kind_0": "said", "words_0": " , "}, "rf_err_row"),
    ({"kind_0": "metric", "field_0": "extension", "number_0": "2"}, "rf_err_row"),
    ({"kind_0": ""}, "rf_err_empty"),
])
def test_an_incomplete_row_is_named(fields, key):
    form = rule_form.form_from_fields(fields, lambda name: [])
    with pytest.raises(rule_form.FormError) as err:
        rule_form.condition_of(form)
    assert err.value.key == key


def test_a_manager_previews_saves_and_back_applies_a_rule_and_sees_its_hits_everywhere(client_as, web_db):
    client = client_as("manager")
    page = client.get("/rules")
    assert page.status_code == 200 and "khan-cap-tu-khoa" in page.text and 'href="/rules"' in page.text

    preview = post_rule(client, "preview", RUBBISH)
    assert preview.status_code == 200
    assert "Quy tắc này khớp 6 trên 36 cuộc gọi gần nhất." in preview.text
    examples = re.findall(r'<a href="/calls/(\w+)">', preview.text.split('id="rf-trial"')[1])
    assert len(examples) == 6
    # the preview stored nothing
    con = db.connect(web_db)
    assert store.rule_history(con, "rac-o-tan-tien") == []
    con.close()

    saved = post_rule(client, "save", RUBBISH)
    assert saved.status_code == 303 and saved.headers["location"] == "/rules?name=rac-o-tan-tien&saved=1"
    again = post_rule(client, "save", {**RUBBISH, "name": "rac-o-tan-tien", "urgent": "1"})
    assert again.headers["location"].endswith("saved=2")
    con = db.connect(web_db)
    history = store.rule_history(con, "rac-o-tan-tien")
    con.close()
    assert [(h["version"], h["saved_by"], h["urgent"]) for h in history] == [(1, "minh", False), (2, "minh", True)]
    edit = client.get("/rules?name=rac-o-tan-tien&saved=2")
    assert "phiên bản 2" in edit.text and 'id="rf-history"' in edit.text and "bốc mùi" in edit.text
    assert "Sửa quy tắc «rac-o-tan-tien»" in edit.text and 'value="rac-o-tan-tien" maxlength="63"' in edit.text
    shipped = client.get("/rules?name=khan-cap-tu-khoa").text  # a default never saved opens for editing too
    assert "Sửa quy tắc «khan-cap-tu-khoa»" in shipped and 'name="meant_0" value="1" checked' in shipped

    applied = client.post("/rules/apply", data={"csrf_token": csrf_of(edit.text)}, follow_redirects=False)
    assert applied.status_code == 303
    assert "Đã áp dụng lại cho 36 cuộc gọi" in client.get(applied.headers["location"]).text

    # the call page: the category with its moment (the citizen's turn starts at 1.2 s) and a mark on the timeline
    call_id = examples[0]
    call = client.get(f"/calls/{call_id}").text
    assert re.search(r'class="cat-at chip urgent" data-s="1.2" data-rule="rac-o-tan-tien">Rác ở Tân Tiến', call)
    assert 'class="cat urgent" style="left:' in call
    # the list filter, the search term and the list's badges
    listed = client.get("/api/calls?category=rac-o-tan-tien").json()
    assert listed["total"] == 6 and call_id in {c["call_id"] for c in listed["calls"]}
    assert client.get("/api/calls?q=loai:rac-o-tan-tien").json()["total"] == 6
    assert client.get("/api/calls?q=loai:rac-o-tan-tien thủ tục").json()["total"] == 0
    assert 'data-rule="rac-o-tan-tien"' in client.get("/calls?category=rac-o-tan-tien").text
    # the dashboard's count per category, linked to the list
    dash = client.get("/dashboard?from=2026-10-01&to=2026-12-31").text
    row = dash.split('data-rule="rac-o-tan-tien"')[1].split("</tr>")[0]
    assert ">6</a>" in row and "category=rac-o-tan-tien" in row
    # the export's column
    body = client.get("/export.csv?category=rac-o-tan-tien").content.decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(body)))
    assert len(table) == 6 and all("Rác ở Tân Tiến (0:01)" in r["Phân loại theo quy tắc"] for r in table)
    # the period report's section
    report = client.get("/report.html?from=2026-10-01&to=2026-12-31").text
    assert "Cuộc gọi theo phân loại" in report and "Rác ở Tân Tiến" in report


def test_only_admins_and_managers_open_the_editor_and_forms_need_the_csrf_token(client_as, web_db):
    assert client_as("admin").get("/rules").status_code == 200
    qa = client_as("qa")
    assert qa.get("/rules").status_code == 403
    assert qa.post("/rules/apply", data={"csrf_token": "x"}).status_code == 403
    assert 'href="/rules"' not in qa.get("/calls").text
    assert client_as(None).get("/rules", follow_redirects=False).status_code == 303  # to the log-in page
    manager = client_as("manager")
    assert post_rule(manager, "save", RUBBISH, csrf="forged").status_code == 403
    assert manager.post("/rules/apply", data={}).status_code == 403
    con = db.connect(web_db)
    assert store.rule_history(con, "rac-o-tan-tien") == [] and store.n_hits(con) == 0
    con.close()


def test_a_unit_never_reaches_the_editor(cases_db):
    from fastapi.testclient import TestClient

    from pipeline.web.app import WebOptions, create_app
    from tests.support.web_fixtures import FAST_AUTH, log_in, password_of

    client = TestClient(create_app(cases_db, options=WebOptions(auth=FAST_AUTH, busy_wait_s=0.5)))
    assert log_in(client, "tantien", password_of("tantien")).status_code == 303
    assert client.get("/rules").status_code == 403
    assert client.post("/rules", data={"action": "save"}).status_code == 403


def test_a_bad_rule_is_refused_with_the_row_named_in_vietnamese(client_as):
    client = client_as("manager")
    bad = post_rule(client, "preview", {**RUBBISH, "kind_0": "silence", "number_0": "-3"})
    assert bad.status_code == 400 and "Điều kiện 1: cần nhập một số hợp lệ" in bad.text
    nameless = post_rule(client, "save", {**RUBBISH, "title": ""})
    assert nameless.status_code == 400 and "Cần đặt tên gọi" in nameless.text
    added = post_rule(client, "add", RUBBISH)
    assert added.status_code == 200 and 'id="rf-row-3"' in added.text and 'value="rac, bốc mùi"' not in added.text
    assert "rac, bốc mùi</textarea>" in added.text  # what was typed stays
