"""Issue 29 item 12: accounts managed by admins in the web app (list, create, disable, reset password,
role/unit), audited and CSRF-protected; units checked against the routing table's; units renamed or merged;
``hotline users list`` shows a unit account's unit and ``--unit`` is checked."""

from __future__ import annotations

import duckdb
import pytest

from pipeline.casework import units
from tests.support.web_fixtures import csrf_of, log_in


@pytest.fixture
def web_db(cases_db):
    return cases_db


def _admin(client_as):
    c = client_as("admin")
    return c, csrf_of(c.get("/admin/users").text)


def test_only_admins_open_the_accounts_page(client_as, client_named):
    assert client_as("admin").get("/admin/users").status_code == 200
    for role in ("qa", "manager"):
        assert client_as(role).get("/admin/users", follow_redirects=False).status_code == 403
    unit = client_named("tantien")
    assert unit.get("/admin/users", follow_redirects=False).status_code == 403
    token = csrf_of(unit.get("/cases").text)
    r = unit.post("/admin/users", data={"name": "x", "role": "admin", "password": "abcdefgh12", "csrf_token": token},
                  follow_redirects=False)
    assert r.status_code == 403


def test_accounts_page_lists_units_and_creates_an_audited_unit_account(client_as, web_db):
    c, token = _admin(client_as)
    page = c.get("/admin/users").text
    assert 'data-user="tantien"' in page and "UBND phường Tân Tiến" in page
    # Without the CSRF token: refused, nothing created.
    assert c.post("/admin/users", data={"name": "tl2", "role": "unit", "unit": "UBND phường Tân Lập",
                                        "password": "mat-khau-tl-2"}).status_code == 403
    # A misspelt unit: refused with the closest valid names.
    r = c.post("/admin/users", data={"name": "tl2", "role": "unit", "unit": "UBND phuong Tan Lap",
                                     "password": "mat-khau-tl-2", "csrf_token": token})
    assert r.status_code == 400 and "không có trong bảng định tuyến" in r.text and "UBND phường Tân Lập" in r.text
    r = c.post("/admin/users", data={"name": "tl2", "role": "unit", "unit": "ubnd  phường tân lập",
                                     "password": "mat-khau-tl-2", "csrf_token": token}, follow_redirects=True)
    assert "Đã tạo tài khoản tl2." in r.text
    con = duckdb.connect(str(web_db))
    try:
        assert con.execute("SELECT unit FROM user_units WHERE user_name = 'tl2'").fetchone()[0] == "UBND phường Tân Lập"
        events = con.execute("SELECT actor, user_name, action FROM user_events").fetchall()
    finally:
        con.close()
    assert events == [("an", "tl2", "created")]
    from fastapi.testclient import TestClient
    new = TestClient(c.app)
    assert log_in(new, "tl2", "mat-khau-tl-2").status_code == 303
    assert new.get("/api/cases?status=all").json()["cases"]  # the unit's cases, not "Không có phiếu nào"


def test_disable_reset_password_and_role(client_as, web_db):
    from fastapi.testclient import TestClient

    c, token = _admin(client_as)
    qa = client_as("qa")
    assert c.post("/admin/users/lan/disable", data={"disabled": "1", "csrf_token": token},
                  follow_redirects=True).status_code == 200
    assert qa.get("/calls", follow_redirects=False).status_code in (303, 401)  # its session ended
    assert c.post("/admin/users/lan/disable", data={"disabled": "0", "csrf_token": token}).status_code == 200
    r = c.post("/admin/users/lan/password", data={"password": "mat-khau-moi-9", "csrf_token": token},
               follow_redirects=True)
    assert "Đã đặt lại mật khẩu của lan." in r.text
    fresh = TestClient(c.app)
    assert log_in(fresh, "lan", "mat-khau-moi-9").status_code == 303
    r = c.post("/admin/users/lan/role", data={"role": "manager", "csrf_token": token}, follow_redirects=True)
    assert "Đã lưu vai trò" in r.text
    # An admin cannot lock themselves out.
    r = c.post("/admin/users/an/disable", data={"disabled": "1", "csrf_token": token})
    assert r.status_code == 400 and "Không thể tự khóa" in r.text
    con = duckdb.connect(str(web_db))
    try:
        actions = [r[0] for r in con.execute("SELECT action FROM user_events ORDER BY acted_at").fetchall()]
        notes = " ".join(r[0] or "" for r in con.execute("SELECT note FROM user_events").fetchall())
    finally:
        con.close()
    assert actions == ["disabled", "enabled", "password", "role"]
    assert "mat-khau" not in notes


def test_rename_and_merge_units(client_as, client_named, web_db):
    c, token = _admin(client_as)
    r = c.post("/admin/units/rename", data={"old": "UBND phường Tân Tiến", "new": "UBND phường Tân Tiến mới",
                                            "csrf_token": token}, follow_redirects=True)
    assert "Đã đổi tên/gộp đơn vị" in r.text
    con = duckdb.connect(str(web_db))
    try:
        assert con.execute("SELECT count(*) FROM cases WHERE unit = 'UBND phường Tân Tiến'").fetchone()[0] == 0
        assert con.execute("SELECT unit FROM user_units WHERE user_name = 'tantien'").fetchone()[0] \
            == "UBND phường Tân Tiến mới"
        assert units.check_unit(con, "UBND phường Tân Tiến") == "UBND phường Tân Tiến mới"  # old name followed
        assert "UBND phường Tân Tiến mới" in units.known_units(con)
    finally:
        con.close()
    # The unit account still sees its cases under the new name.
    assert client_named("tantien").get("/api/cases?status=all").json()["cases"]


def test_check_unit_lists_valid_ones(web_db):
    con = duckdb.connect(str(web_db))
    try:
        with pytest.raises(units.UnknownUnit, match="UBND phường Tân Lập") as exc:
            units.check_unit(con, "UBND phuong Tan Lapp")
        assert exc.value.n_valid > 50
        assert units.check_unit(con, "Công an tỉnh Đắk Lắk") == "Công an tỉnh Đắk Lắk"
    finally:
        con.close()


def test_cli_users_list_shows_the_unit_and_add_checks_it(web_db, monkeypatch, capsys):
    import io
    import sys

    from pipeline import cli

    monkeypatch.setattr(sys, "stdin", io.StringIO("mat-khau-dv-9\n"))
    code = cli.main(["users", "add", "dv9", "--role", "unit", "--unit", "UBND phuong Tan Lap", "--password-stdin",
                     "--db", str(web_db)])
    err = capsys.readouterr()
    assert code == 2 and "UBND phường Tân Lập" in err.err + err.out
    assert cli.main(["users", "list", "--db", str(web_db)]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("tantien"))
    assert "UBND phường Tân Tiến" in line
