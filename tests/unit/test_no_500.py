"""Issue 25, item 10: no hostile query string makes a 500, and every reply (errors included) carries the
security headers.

Every GET route of the app is found in its route table; the query parameters each one reads are
found by asking it once with a recording query string (``request.query_params`` is wrapped for the
duration), so a parameter added tomorrow is fuzzed too. Each parameter then gets each hostile
value, as the roles that may open the route and as a unit's member.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from starlette.datastructures import QueryParams
from starlette.requests import HTTPConnection
from starlette.routing import Route

from tests.support import tally
from tests.support.web_fixtures import FAST_AUTH, csrf_of, password_of

SECURITY_HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options")
# One value of each kind that broke a route somewhere (kept short: every parameter of every route gets each).
HOSTILE = [
    "9" * 5000, "-1", "99999999999999999999999", "1e309", "9999-12-31", "0001-01-01", "2026-02-30",
    "\x00\x01", "=HYPERLINK(\"http://x\")", "<script>alert(1)</script>", "x" * 20_000, "\r\nSet-Cookie: a=b", "",
]
# Already percent-encoded, sent as they are: bytes that are not UTF-8 (a lone surrogate, 0xFF, overlong dots).
RAW_HOSTILE = ["%ED%B3%BF", "%C0%AE%C0%AE%2F"]
# (from, to) pairs: reversed, far past and future, a century apart.
PERIODS = [("9999-12-31", "0001-01-01"), ("0001-01-01", "9999-12-31"), ("2199-12-31", "1970-01-01"),
           ("1970-01-01", "2199-12-31"), ("2026-11-30", "2026-10-01")]
ID_VALUES = {"fmt": ("csv", "xlsx", "html", "vtt", "srt", "json", "txt"), "lang": ("vi",), "name": ("app.js",)}


@pytest.fixture
def app(cases_db):
    from pipeline.web.app import WebOptions, create_app

    return create_app(cases_db, options=WebOptions(auth=FAST_AUTH, busy_wait_s=0.5))


def _client(app, name: str) -> TestClient:
    c = TestClient(app, raise_server_exceptions=False)
    page = c.get("/login")
    r = c.post("/login", data={"username": name, "password": password_of(name), "csrf_token": csrf_of(page.text)},
               follow_redirects=False)
    assert r.status_code == 303
    return c


def get_routes(app, call_id: str, case_id: str) -> list[str]:
    """A URL for every GET route (each format of the routes that serve several)."""
    ids = {"call_id": call_id, "case_id": case_id} | {k: v[0] for k, v in ID_VALUES.items()}
    out = []
    for route in app.routes:
        if not isinstance(route, Route) or "GET" not in route.methods or route.path == "/logout":
            continue
        names = re.findall(r"\{(\w+)", route.path)
        for fmt in (ID_VALUES["fmt"] if "fmt" in names else (None,)):
            out.append(re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: fmt if m.group(1) == "fmt" else ids[m.group(1)],
                              route.path))
    return [u for u in out if not u.endswith("/report.pdf")]  # PDF needs chromium: same code as report.html


def params_read(client: TestClient, urls: list[str], monkeypatch) -> dict[str, set[str]]:
    """The query parameters each URL's route reads, recorded while it answers once."""
    seen: set[str] = set()

    class Recording(QueryParams):
        def get(self, key, default=None):
            seen.add(key)
            return super().get(key, default)

        def __getitem__(self, key):
            seen.add(key)
            return super().__getitem__(key)

        def __contains__(self, key):
            seen.add(key)
            return super().__contains__(key)

        def getlist(self, key):
            seen.add(key)
            return super().getlist(key)

    real = HTTPConnection.query_params
    monkeypatch.setattr(HTTPConnection, "query_params", property(lambda self: Recording(real.fget(self))))
    out = {}
    for url in urls:
        seen.clear()
        client.get(url, follow_redirects=False)
        out[url] = set(seen) - {""}
    monkeypatch.setattr(HTTPConnection, "query_params", real)
    return out


def _check(r, what: str, bad: list) -> None:
    if r.status_code >= 500 and r.status_code != 503:
        bad.append((what, r.status_code))
    elif not all(h in r.headers for h in SECURITY_HEADERS):
        bad.append((what, "no security headers", r.status_code))


def test_no_query_value_makes_a_500_and_every_reply_has_the_security_headers(app, cases_db, monkeypatch):
    import duckdb

    con = duckdb.connect(str(cases_db), read_only=True)
    call_id, case_id = con.execute("SELECT call_id, case_id FROM case_calls ORDER BY call_id LIMIT 1").fetchone()
    con.close()
    # An admin opens every route (dashboard, exports and corrections included); a unit's member its own.
    admin, unit = _client(app, "an"), _client(app, "tanlap")
    urls = get_routes(app, call_id, case_id)
    assert len(urls) >= 25
    reads = params_read(admin, urls, monkeypatch)
    assert {"hour", "from", "to", "q", "page", "week", "status", "next"} <= set().union(*reads.values())
    unit_urls = {u for u in urls if unit.get(u, follow_redirects=False).status_code not in (303, 403)}
    bad, tried = [], 0
    for url, names in reads.items():
        for client in (admin, unit) if url in unit_urls else (admin,):
            for name in sorted(names):
                for value in HOSTILE:
                    r = client.get(url, params={name: value}, follow_redirects=False)
                    tried += 1
                    _check(r, f"{url}?{name}={value[:20]!r}", bad)
                for raw in RAW_HOSTILE:
                    r = client.get(f"{url}?{name}={raw}", follow_redirects=False)
                    tried += 1
                    _check(r, f"{url}?{name}={raw}", bad)
            if {"from", "to"} <= names:
                for start, end in PERIODS:
                    r = client.get(url, params={"from": start, "to": end}, follow_redirects=False)
                    tried += 1
                    _check(r, f"{url}?from={start}&to={end}", bad)
    # Hostile path parameters too.
    for url in urls:
        for value in ("9" * 5000, "..%2F..%2Fetc%2Fpasswd"):
            hostile = url.replace(call_id, value).replace(case_id, value)
            if hostile != url:
                r = admin.get(hostile, follow_redirects=False)
                tried += 1
                _check(r, hostile[:60], bad)
    tally.record("bad_request", "hostile query values on every GET route", tried=tried, survived=tried - len(bad))
    assert not bad, bad[:20]


def test_the_three_500s_of_the_attack_are_400s_or_pages(app):
    manager = _client(app, "minh")
    qa = _client(app, "lan")
    r = qa.get("/calls", params={"hour": "9" * 5000})
    assert r.status_code == 400 and "content-security-policy" in r.headers
    for path in ("/dashboard", "/report.html"):
        r = manager.get(path, params={"from": "9999-12-31", "to": "0001-01-01"})
        assert r.status_code in (200, 400) and "content-security-policy" in r.headers, (path, r.status_code)
    long = manager.get("/dashboard", params={"from": "1970-01-01", "to": "2199-12-31"})
    assert long.status_code == 400 and "mười năm" not in long.text and "3660" in long.text
    tally.record("bad_request", "the attack's three 500s", tried=4, survived=4)


def test_a_500_is_an_error_page_with_the_security_headers_and_no_detail(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail 0905123456")

    from pipeline import access

    access.UNIT_ROUTES  # noqa: B018 (the route is for logged-in staff only)
    qa = _client(app, "lan")
    r = qa.get("/boom")
    assert r.status_code == 500 and all(h in r.headers for h in SECURITY_HEADERS)
    assert "secret detail" not in r.text and "0905123456" not in r.text
    assert "Đã có lỗi trong hệ thống" in r.text
    api = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert api.status_code == 500 and all(h in api.headers for h in SECURITY_HEADERS)
    tally.record("bad_request", "500 reply headers", tried=2, survived=2)


@pytest.mark.parametrize("path,code", [("/calls/nope", 404), ("/api/calls/nope", 404), ("/no/such/page", 404),
                                       ("/dashboard", 403), ("/operators", 403)])
def test_error_replies_carry_the_security_headers(app, path, code):
    r = _client(app, "lan").get(path, follow_redirects=False)
    tally.record("bad_request", f"headers on {code}", survived=int(r.status_code == code and
                                                                     all(h in r.headers for h in SECURITY_HEADERS)))
    assert r.status_code == code and all(h in r.headers for h in SECURITY_HEADERS)
