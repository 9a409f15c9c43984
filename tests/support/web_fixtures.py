"""Fixtures for the web, search, report and notebook tests: a realistic warehouse and logged-in clients."""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import threading
import time

import pytest

from pipeline.warehouse import db
from pipeline.web.auth import AuthOptions, add_user
from tests.support.fixture_db import build_fixture_db

# Cheap scrypt for tests (n=2**10), and failed log-ins answered at once; the defaults (2**14, 1 s) are production's.
FAST_AUTH = AuthOptions(scrypt_n=2**10, failure_delay_s=0.0)
PASSWORDS = {"lan": ("qa", "mat-khau-qa-1"), "minh": ("manager", "mat-khau-ql-1"), "an": ("admin", "mat-khau-qt-1")}
ROLE_USER = {role: name for name, (role, _) in PASSWORDS.items()}


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("warehouse")
    ids = build_fixture_db(folder / "template.duckdb", folder / "recordings")
    con = db.connect(folder / "template.duckdb")
    for name, (role, password) in PASSWORDS.items():
        add_user(con, name, role, password, FAST_AUTH)
    con.close()
    return folder / "template.duckdb", ids


@pytest.fixture
def web_db(_template_db, tmp_path):
    """A fresh copy of the fixture warehouse (36 calls over six weeks, users lan/minh/an)."""
    template, _ = _template_db
    path = tmp_path / "hotline.duckdb"
    shutil.copyfile(template, path)
    return path


# Handling units' members (role unit) and their units, for the cases tests.
UNIT_USERS = {"tantien": ("UBND phường Tân Tiến", "mat-khau-dv-1"), "tanlap": ("UBND phường Tân Lập", "mat-khau-dv-2")}


def prepare_cases(path) -> None:
    """Open the fixture's cases and give each the unit of its ward (as routing.csv would), plus two unit users."""
    from pipeline.casework import cases

    con = db.connect(path)
    try:
        cases.build_cases(con)
        con.execute("UPDATE cases SET unit = 'UBND ' || place WHERE NOT urgent AND place IS NOT NULL")
        for name, (unit, password) in UNIT_USERS.items():
            add_user(con, name, "unit", password, FAST_AUTH)
            cases.set_user_unit(con, name, unit)
    finally:
        con.close()


@pytest.fixture(scope="session")
def _cases_template_db(_template_db, tmp_path_factory):
    path = tmp_path_factory.mktemp("cases") / "cases.duckdb"
    shutil.copyfile(_template_db[0], path)
    prepare_cases(path)
    return path


@pytest.fixture
def cases_db(_cases_template_db, tmp_path):
    """A fresh copy of the fixture warehouse with cases, each given its ward's unit, and the unit users."""
    path = tmp_path / "hotline.duckdb"
    shutil.copyfile(_cases_template_db, path)
    return path


def password_of(name: str) -> str:
    return UNIT_USERS[name][1] if name in UNIT_USERS else PASSWORDS[name][1]


@pytest.fixture
def call_ids(_template_db) -> list[str]:
    """The fixture's call ids, oldest first."""
    return list(_template_db[1])


@pytest.fixture
def app(web_db):
    from pipeline.web.app import WebOptions, create_app

    return create_app(web_db, options=WebOptions(auth=FAST_AUTH, busy_wait_s=0.5))


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def log_in(client, name: str, password: str | None = None):
    """Log ``client`` in through the real form (CSRF cookie + field); returns the POST response."""
    page = client.get("/login")
    password = password if password is not None else PASSWORDS[name][1]
    return client.post("/login", data={"username": name, "password": password, "csrf_token": csrf_of(page.text),
                                       "next": "/calls"}, follow_redirects=False)


@pytest.fixture
def client_as(app):
    """``client_as(role)``: a TestClient logged in as the fixture user with that role."""
    from fastapi.testclient import TestClient

    def make(role: str | None):
        client = TestClient(app)
        if role is not None:
            assert log_in(client, ROLE_USER[role]).status_code == 303
        return client

    return make


@pytest.fixture
def client_named(app):
    """``client_named(name)``: a TestClient logged in as that fixture user (``password_of(name)``)."""
    from fastapi.testclient import TestClient

    def make(name: str):
        client = TestClient(app)
        assert log_in(client, name, password_of(name)).status_code == 303
        return client

    return make


@contextlib.contextmanager
def serve_app(app):
    """``app`` served by a real uvicorn on a free local port in a thread; yields its base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


CITIZEN_MOODS = (("calm", 0.1), ("worried", 0.45), ("annoyed", 0.7), ("angry", 0.92))


def add_turn_moods(path, call_id: str) -> int:
    """Give every sentence of ``call_id`` a sentiment (``turn_sentiment``), as the pipeline's sentiment stage
    would: the citizen's cycle calm → angry, the operator's courteous. Returns the citizen turns given one."""
    con = db.connect(path)
    try:
        rows = con.execute("SELECT seq, role FROM segments WHERE call_id = ? ORDER BY seq", [call_id]).fetchall()
        con.execute("DELETE FROM turn_sentiment WHERE call_id = ?", [call_id])
        n = 0
        for seq, role in rows:
            if role == "operator":
                label, score = "courteous", 0.9
            else:
                label, score = CITIZEN_MOODS[n % len(CITIZEN_MOODS)]
                n += 1
            con.execute("INSERT INTO turn_sentiment BY NAME SELECT ? AS call_id, ? AS seq, ? AS role, ? AS label, ? AS score",
                        [call_id, seq, role or "unknown", label, score])
        return n
    finally:
        con.close()
