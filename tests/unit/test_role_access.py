"""Issue 25, item 11 and the role rule: what each role sees, checked against pipeline/access.py (the table
docs/security.md puts in words).

- The caller reference (last three digits, initials, PBX call id, caller hash, masked file name) reaches
  QA and admins only: the call API, the call list API, case pages and API, the callback list and the
  call exports agree for every role. Before the fix a manager got ``caller_last3`` from
  ``/api/calls/{id}`` and initials in exports while ``/cases/callbacks`` hid both.
- A unit's member reads staff notes and results redacted as transcripts are, and only its own part of
  the case history (from the last time the case was handed to its unit). Before the fix a QA forward
  note "Gọi lại cho bà Trần Thị Mai số 0905 123 456" showed in clear on the unit's case page and API.
"""

from __future__ import annotations

import csv
import io

import pytest

from pipeline import access
from tests.support import tally
from tests.support.web_fixtures import FAST_AUTH, csrf_of

ROLE_OF = {"lan": "qa", "an": "admin", "minh": "manager", "tantien": "unit"}
NOTE = "Gọi lại cho bà Trần Thị Mai số 0905 123 456"
OTHER_UNITS_NOTE = "Không phải địa bàn Tân Lập, ông Nguyễn Văn Hùng 0912 345 678 biết rõ"


@pytest.fixture
def web_db(cases_db):
    return cases_db


@pytest.fixture
def client(client_named):
    return client_named


def _case_of_unit(qa, unit: str) -> dict:
    rows = qa.get("/api/cases?status=all").json()["cases"]
    return next(r for r in rows if r["unit"] == unit and r["kind"] == "complaint")


def _post(c, path: str, **form) -> None:
    token = csrf_of(c.get("/cases").text)
    r = c.post(path, data={**form, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, (path, r.status_code, r.text[:300])


def _handed_around(client) -> str:
    """A Tân Tiến case that QA first gave to Tân Lập, which sent it back with a note; then QA gave it to
    Tân Tiến with a note naming the citizen and her number, and Tân Tiến resolved it."""
    qa = client("lan")
    cid = _case_of_unit(qa, "UBND phường Tân Tiến")["case_id"]
    _post(qa, f"/cases/{cid}/unit", unit="UBND phường Tân Lập", note="thử Tân Lập trước")
    _post(qa, f"/cases/{cid}/status", to="forwarded", note="chuyển Tân Lập")
    _post(client("tanlap"), f"/cases/{cid}/status", to="new", note=OTHER_UNITS_NOTE)
    _post(qa, f"/cases/{cid}/unit", unit="UBND phường Tân Tiến", note="đúng địa bàn Tân Tiến")
    _post(qa, f"/cases/{cid}/status", to="forwarded", note=NOTE)
    unit = client("tantien")
    _post(unit, f"/cases/{cid}/status", to="in_progress")
    _post(unit, f"/cases/{cid}/status", to="resolved", result="Đã gọi bà Trần Thị Mai (0905 123 456), đã xử lý")
    return cid


def test_a_unit_reads_staff_notes_redacted_and_only_its_own_part_of_the_history(client):
    cid = _handed_around(client)
    unit = client("tantien")
    case = unit.get(f"/api/cases/{cid}").json()
    page = unit.get(f"/cases/{cid}").text
    leaks = [(where, s) for where, text in (("api", str(case)), ("page", page))
             for s in ("0905 123 456", "0905123456", "Trần Thị Mai", "0912 345 678", "Nguyễn Văn Hùng",
                       "Không phải địa bàn", "thử Tân Lập", "tanlap") if s in text]
    tally.record("access", "unit reads case notes", tried=2, survived=2 - len({w for w, _ in leaks}))
    assert not leaks, leaks
    notes = [e["note"] for e in case["events"]]
    assert any(n and "[SĐT]" in n for n in notes), notes  # the forward note is there, redacted
    assert case["result"] and "[SĐT]" in case["result"]
    # Its part starts at the forward to it: nothing from Tân Lập's time with the case.
    assert case["events"][0]["action"] == "status" and case["events"][0]["to_status"] == "forwarded"
    assert [e["to_status"] for e in case["events"] if e["action"] == "status"] == ["forwarded", "in_progress", "resolved"]
    # QA (raw-text role) reads the whole history as written; a manager the whole history, redacted.
    qa_case = client("lan").get(f"/api/cases/{cid}").json()
    assert any(e["note"] == NOTE for e in qa_case["events"]) and any(e["note"] == OTHER_UNITS_NOTE for e in qa_case["events"])
    manager_case = client("minh").get(f"/api/cases/{cid}").json()
    assert len(manager_case["events"]) == len(qa_case["events"])
    assert "0905 123 456" not in str(manager_case) and "0912 345 678" not in str(manager_case)


def _csv(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8").lstrip("\ufeff"))))


REFERENCE_HEADERS = ("Mã cuộc gọi tổng đài (PBX)", "Người gọi (viết tắt)")


def test_the_caller_reference_reaches_the_roles_the_table_gives_it_everywhere(client, cases_db):
    import duckdb

    con = duckdb.connect(str(cases_db), read_only=True)
    call_id, case_id = con.execute(
        "SELECT c.call_id, k.case_id FROM calls c JOIN case_calls k USING (call_id) "
        "WHERE c.caller_last3 IS NOT NULL AND c.pbx_call_id IS NOT NULL ORDER BY c.call_id LIMIT 1").fetchone()
    con.close()
    cid = _handed_around(client)
    seen = {}
    for name, role in ROLE_OF.items():
        c = client(name)
        got = {}
        if role != "unit":
            detail = c.get(f"/api/calls/{call_id}").json()
            listed = c.get("/api/calls").json()["calls"]
            got["call api"] = any(detail.get(k) for k in access.CALLER_REFERENCE_FIELDS)
            if not access.of(role).caller_reference:  # the list's initials (where a caller gave a name): none
                assert not any(r.get(k) for r in listed for k in access.CALLER_REFERENCE_FIELDS), name
            case = c.get(f"/api/cases/{case_id}").json()
            got["case api"] = any(x.get(k) for x in case["calls"] for k in access.CALLER_REFERENCE_FIELDS) \
                or bool(case.get("caller_hash"))
            got["callbacks"] = "PBX 17621" in c.get("/cases/callbacks").text
            export = c.get("/export.csv")
            if export.status_code == 200:  # QA staff do not export by default (HOTLINE_EXPORT_ROLES)
                got["export csv"] = any(h in _csv(export.content)[0] for h in REFERENCE_HEADERS)
            got["transcript"] = bool(c.get(f"/calls/{call_id}/transcript.json").json().get("pbx_call_id"))
        else:
            own = c.get(f"/api/cases/{cid}").json()
            got["case api"] = any(x.get(k) for x in own["calls"] for k in access.CALLER_REFERENCE_FIELDS) \
                or bool(own.get("caller_hash"))
            got["case page"] = "PBX" in c.get(f"/cases/{cid}").text
        seen[name] = got
    wrong = [(name, where, value) for name, got in seen.items() for where, value in got.items()
             if value != access.of(ROLE_OF[name]).caller_reference]
    n = sum(len(g) for g in seen.values())
    tally.record("access", "caller reference by role", tried=n, survived=n - len(wrong))
    assert not wrong, wrong
    assert access.of("manager").caller_reference is False and access.of("qa").caller_reference is True


def test_an_unknown_role_sees_nothing_and_settings_cannot_give_a_unit_more(cases_db):
    from pipeline.web.app import WebOptions, create_app

    assert access.of("intern") == access.NOTHING and access.of(None) == access.NOTHING
    opts = WebOptions(auth=FAST_AUTH, raw_text_roles=("qa", "unit"), export_roles=("unit", "manager"),
                      dashboard_roles=("unit",), correct_roles=("unit", "qa"))
    given = create_app(cases_db, options=opts).state.options
    assert "unit" not in given.raw_text_roles + given.export_roles + given.dashboard_roles + given.correct_roles
    assert given.raw_text_roles == ("qa",) and given.export_roles == ("manager",)
