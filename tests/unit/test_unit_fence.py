"""Issue 25, item 1: the unit fence fails closed, covers every route the app has, and its refusals carry
the security headers.

The concurrency test serves the app with a real uvicorn and has a unit's member poll every route a
unit may not use (and the unit routes with another unit's ids) while another real process holds
the warehouse for longer than the busy wait, three times over. Before the fix a 503 during the
fence's session lookup let the request through, and the route, reading the session again once
the file was free, answered with the data.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time

import httpx
import pytest
from starlette.routing import Route

from pipeline import access
from tests.support import tally
from tests.support.web_fixtures import FAST_AUTH, UNIT_USERS, csrf_of, serve_app

BUSY_WAIT_S = 0.6  # the app's busy wait; the holder keeps the file three times as long
HOLD_S = 3 * BUSY_WAIT_S
SECURITY_HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options")


@pytest.fixture
def app(cases_db):
    from pipeline.web.app import WebOptions, create_app

    return create_app(cases_db, options=WebOptions(auth=FAST_AUTH, busy_wait_s=BUSY_WAIT_S))


def _foreign_ids(db_path) -> dict[str, str]:
    """Ids of the other unit's case and call (tantien's member must never see them)."""
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        case_id = con.execute("SELECT case_id FROM cases WHERE unit = ? AND kind = 'complaint' ORDER BY case_id LIMIT 1",
                              [UNIT_USERS["tanlap"][0]]).fetchone()[0]
        call_id = con.execute("SELECT call_id FROM case_calls WHERE case_id = ?", [case_id]).fetchone()[0]
    finally:
        con.close()
    return {"case_id": case_id, "call_id": call_id, "fmt": "csv", "lang": "vi", "name": "app.js",
            "extension": "101", "seq": "1"}


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: ids[m.group(1)], path)


def restricted_requests(app, ids: dict[str, str]) -> list[tuple[str, str]]:
    """(method, path) of every route a unit may not use, from the app's own route table, and of the
    unit routes that take an id, given the other unit's."""
    out = []
    for route in app.routes:
        if not isinstance(route, Route):
            continue
        allowed = access.unit_may_open(route.path)
        if allowed and not re.search(r"\{(case_id|call_id)", route.path):
            continue  # the unit's own list pages: its own data
        for method in sorted(route.methods - {"HEAD"}):
            paths = [_fill(route.path, ids)]
            if "{fmt}" in route.path:  # each format a route serves
                paths = [_fill(route.path, ids | {"fmt": f}) for f in ("csv", "xlsx", "pdf", "html", "vtt", "json")]
            out += [(method, p) for p in paths]
    return out


def _unit_client(base: str) -> httpx.Client:
    c = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    page = c.get("/login")
    r = c.post("/login", data={"username": "tantien", "password": UNIT_USERS["tantien"][1],
                               "csrf_token": csrf_of(page.text), "next": "/cases"})
    assert r.status_code == 303, r.text
    return c


HOLDER = """
import sys, time
import duckdb
deadline = time.monotonic() + 60
while True:  # the app opens the file for each request: take it between two of them
    try:
        con = duckdb.connect(sys.argv[1])
        break
    except duckdb.IOException:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.002)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def _hold(db_path, seconds: float) -> subprocess.Popen:
    """Another process that takes the warehouse for writing and keeps it ``seconds`` (as a pipeline run does)."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db_path), str(seconds)], stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_unit_polling_every_restricted_route_while_the_warehouse_is_held_gets_no_data(app, cases_db):
    ids = _foreign_ids(cases_db)
    wanted = restricted_requests(app, ids)
    assert len(wanted) >= 30  # the app has that many routes closed to units (all of them, from its table)
    assert any(p.startswith("/audio/") for _, p in wanted) and ("GET", "/api/calls") in wanted
    replies: list[tuple[str, str, int, str, dict]] = []
    stop = threading.Event()
    with serve_app(app) as base:
        clients = [_unit_client(base) for _ in range(4)]
        token = csrf_of(clients[0].get(f"/cases/{_own_case(clients[0])}").text)

        def poll(client: httpx.Client, offset: int) -> None:
            i = offset
            while not stop.is_set():
                method, path = wanted[i % len(wanted)]
                i += 1
                r = client.request(method, path, data={"csrf_token": token, "to": "in_progress"} if method == "POST" else None,
                                   headers={"Range": "bytes=0-99"})
                replies.append((method, path, r.status_code, r.headers.get("location", ""), dict(r.headers),
                                r.content[:4000]))

        threads = [threading.Thread(target=poll, args=(c, k * 7)) for k, c in enumerate(clients)]
        for t in threads:
            t.start()
        try:
            for _ in range(3):  # hold, let go, hold again: requests straddle each release
                _hold(cases_db, HOLD_S).wait(timeout=60)
                time.sleep(BUSY_WAIT_S)
        finally:
            stop.set()
            for t in threads:
                t.join(60)
    codes = [r[2] for r in replies]
    # A redirect to the unit's own list is no data either (/, /calls, /dashboard send units there).
    leaks = [(m, p, c) for m, p, c, loc, _, _ in replies
             if c not in (403, 404, 503) and not (c == 303 and loc == "/cases")]
    bare = [(m, p, c) for m, p, c, _, h, _ in replies if not all(k in {x.lower() for x in h} for k in SECURITY_HEADERS)]
    wav = [(m, p) for m, p, _, _, _, body in replies if body.startswith(b"RIFF")]
    tally.record("access", "unit polls restricted routes while the warehouse is held", tried=len(replies),
                 survived=len(replies) - len({*leaks, *bare}))
    assert not leaks, f"data or a wrong answer to a unit: {leaks[:10]}"
    assert not bare, f"replies without the security headers: {bare[:10]}"
    assert not wav
    assert 503 in codes and 403 in codes, "the test must see both the busy file and the fence"


def _own_case(client: httpx.Client) -> str:
    rows = client.get("/api/cases?status=all").json()["cases"]
    return rows[0]["case_id"]


def test_a_route_added_later_is_closed_to_units_and_the_403_has_the_security_headers(app):
    """The fence is the app's, not a route module's: a route declared after create_app (a new module
    tomorrow) under /cases is refused to a unit, since it is not in pipeline.access.UNIT_ROUTES."""
    from fastapi.testclient import TestClient

    @app.get("/cases/{case_id}/recording")
    def new_route(case_id: str):
        return {"secret": "every recording of " + case_id}

    c = TestClient(app)
    page = c.get("/login")
    assert c.post("/login", data={"username": "tantien", "password": UNIT_USERS["tantien"][1],
                                  "csrf_token": csrf_of(page.text)}, follow_redirects=False).status_code == 303
    tried = 0
    for path in ("/cases/PA-x/recording", "/api/calls", "/operators", "/no/such/page"):
        r = c.get(path, follow_redirects=False)
        tried += 1
        assert r.status_code == 403, (path, r.status_code)
        assert "secret" not in r.text
        assert all(k in r.headers for k in SECURITY_HEADERS), path
    page = c.get("/calls/x", follow_redirects=False)  # a page: the error page, in Vietnamese
    assert page.status_code == 403 and "Vai trò của bạn không được phép" in page.text
    tally.record("access", "unit fence on later routes", tried=tried + 1, survived=tried + 1)


def test_a_route_cannot_serve_a_request_the_session_gate_did_not_see(cases_db):
    """Fail closed by construction: with the gate taken out, routes refuse (500), never answer."""
    from fastapi.testclient import TestClient

    from pipeline.web.app import WebOptions, create_app
    from pipeline.web.security import SessionGate

    app = create_app(cases_db, options=WebOptions(auth=FAST_AUTH))
    app.user_middleware = [m for m in app.user_middleware if m.cls is not SessionGate]
    c = TestClient(app, raise_server_exceptions=False)
    page = c.get("/login")
    assert c.post("/login", data={"username": "tantien", "password": UNIT_USERS["tantien"][1],
                                  "csrf_token": csrf_of(page.text)}, follow_redirects=False).status_code == 303
    r = c.get("/api/calls")
    assert r.status_code == 500 and "calls" not in r.text
    assert all(k in r.headers for k in SECURITY_HEADERS)
