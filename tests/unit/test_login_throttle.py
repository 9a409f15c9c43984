"""Issue 25, item 8: log-in throttling by client and by account, so that an attacker cannot lock a user
out, and refused attempts that cost no password hash (a flood must not slow logged-in users).

Clients are told apart by address (``TestClient(client=...)``); behind a proxy uvicorn's
``--forwarded-allow-ips`` makes that the user's address.
"""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from pipeline.web import auth
from tests.support import tally
from tests.support.web_fixtures import FAST_AUTH, PASSWORDS, csrf_of

ATTACKER, OFFICE, ELSEWHERE = ("203.0.113.66", 40000), ("198.51.100.7", 40000), ("192.0.2.9", 40000)


@pytest.fixture
def app(web_db):
    from pipeline.web.app import WebOptions, create_app

    return create_app(web_db, options=WebOptions(auth=FAST_AUTH))


def attempt(client: TestClient, name: str, password: str):
    page = client.get("/login")
    return client.post("/login", data={"username": name, "password": password, "csrf_token": csrf_of(page.text)},
                       follow_redirects=False)


def test_five_anonymous_wrong_passwords_do_not_lock_the_user_out(app):
    attacker = TestClient(app, client=ATTACKER)
    codes = [attempt(attacker, "lan", "doan-bua-%d" % i).status_code for i in range(6)]
    assert codes == [401] * 4 + [429, 429]  # the attacker's address is refused for lan after five
    assert attempt(attacker, "lan", PASSWORDS["lan"][1]).status_code == 429  # even with the right password
    user = TestClient(app, client=OFFICE)
    r = attempt(user, "lan", PASSWORDS["lan"][1])
    tally.record("login", "anonymous failures lock the account elsewhere", survived=int(r.status_code == 303))
    assert r.status_code == 303 and "hotline_session" in r.cookies


def test_one_client_guessing_across_accounts_is_refused_for_every_account(app):
    attacker = TestClient(app, client=ATTACKER)
    limit = FAST_AUTH.max_client_failures
    codes = [attempt(attacker, f"ten-{i}", "sai-mat-khau").status_code for i in range(limit)]
    assert codes == [401] * limit
    assert attempt(attacker, "minh", "sai-mat-khau").status_code == 429
    assert attempt(attacker, "minh", PASSWORDS["minh"][1]).status_code == 429
    assert attempt(TestClient(app, client=OFFICE), "minh", PASSWORDS["minh"][1]).status_code == 303
    tally.record("login", "one client across accounts", tried=limit + 3, survived=limit + 3)


def test_an_attack_from_many_addresses_leaves_the_users_own_browser_in(app):
    # The user logged in once from the office: that browser holds a device cookie for "lan".
    office = TestClient(app, client=OFFICE)
    assert attempt(office, "lan", PASSWORDS["lan"][1]).status_code == 303
    assert office.cookies.get("hotline_device")
    office.cookies.delete("hotline_session")
    # A botnet: four wrong passwords from each of many addresses (under the per-client lock).
    n = held = 0
    for k in range(6):
        bot = TestClient(app, client=(f"100.64.0.{k}", 40000))
        for i in range(4):
            held += attempt(bot, "lan", f"doan-{k}-{i}").status_code in (401, 429)  # a wrong guess never gets in
            n += 1
    assert n > FAST_AUTH.max_account_failures
    # A browser that never logged in as lan is refused now; the user's own browser is not.
    stranger = attempt(TestClient(app, client=ELSEWHERE), "lan", PASSWORDS["lan"][1])
    assert stranger.status_code == 429 and "nhiều nơi" in stranger.text
    r = attempt(office, "lan", PASSWORDS["lan"][1])
    # Survived: every guess refused, the stranger refused, the user's own browser let in.
    tally.record("login", "distributed guessing on one account", tried=n + 2,
                 survived=held + int(stranger.status_code == 429) + int(r.status_code == 303))
    assert r.status_code == 303
    # A forged device cookie is no way in.
    forged = TestClient(app, client=ELSEWHERE, cookies={"hotline_device": "0" * 32})
    assert attempt(forged, "lan", PASSWORDS["lan"][1]).status_code == 429


def test_refused_attempts_cost_no_hash_and_no_database(app, monkeypatch):
    hashes = []
    real_check = auth.check_login
    monkeypatch.setattr(auth, "check_login", lambda *a: hashes.append(1) or real_check(*a))
    web = app.state.web
    opened = []
    real_database = web.database
    monkeypatch.setattr(web, "database", lambda: opened.append(1) or real_database())
    attacker = TestClient(app, client=ATTACKER)
    for i in range(5):
        attempt(attacker, "an", f"sai-{i}")
    assert len(hashes) == 5
    before_hash, before_db = len(hashes), len(opened)
    for i in range(50):
        assert attempt(attacker, "an", f"sai-nua-{i}").status_code == 429
    tally.record("login", "refused attempts are cheap", tried=50, survived=50 * int(len(hashes) == before_hash))
    assert len(hashes) == before_hash and len(opened) == before_db


def test_password_hashing_is_bounded_and_the_overflow_is_refused(app, monkeypatch):
    from pipeline.web.throttle import HashGate

    app.state.web.hash_gate = HashGate(max_concurrent=1, max_waiting=2)
    running, peak = [0], [0]
    lock = threading.Lock()
    release = threading.Event()  # the hashing log-in holds the gate until the overflow has been refused
    real_check = auth.check_login

    def slow_check(*a):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        release.wait(30)
        try:
            return real_check(*a)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(auth, "check_login", slow_check)
    codes = []

    def one(k: int):
        c = TestClient(app, client=(f"100.64.1.{k}", 40000))
        codes.append(attempt(c, "minh", "sai-mat-khau").status_code)

    threads = [threading.Thread(target=one, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    # One hashing and two waiting hold the gate; the other five are refused while it is held, however slowly
    # a loaded machine starts the threads.
    deadline = time.monotonic() + 30
    while len(codes) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    release.set()
    for t in threads:
        t.join(60)
    tally.record("login", "concurrent hashing bounded", tried=8, survived=int(peak[0] == 1) * 8)
    assert peak[0] == 1
    assert sorted(set(codes)) == [401, 503] and codes.count(401) >= 3  # one hashing, two waiting, the rest refused


def test_failed_and_refused_log_ins_are_answered_late_without_holding_a_thread(web_db):
    """A flooding client waits ``failure_delay_s`` per attempt (asleep in the event loop), so one after
    the other it gets a handful through a second; many at once wait together, not in a queue."""
    from dataclasses import replace

    from pipeline.web.app import WebOptions, create_app
    from tests.support.web_fixtures import serve_app

    import httpx

    delay = 0.5
    app = create_app(web_db, options=WebOptions(auth=replace(FAST_AUTH, failure_delay_s=delay)))
    with serve_app(app) as base:
        c = httpx.Client(base_url=base, timeout=30)
        token = csrf_of(c.get("/login").text)
        took = []
        for i in range(7):  # five failures, then refusals
            t0 = time.perf_counter()
            r = c.post("/login", data={"username": "lan", "password": f"sai-{i}", "csrf_token": token})
            took.append((r.status_code, time.perf_counter() - t0))
        assert [code for code, _ in took] == [401] * 4 + [429] * 3
        assert all(s >= delay for _, s in took)
        # Sixty refused attempts at once (more than the 40 worker threads): together in about one delay.
        t0 = time.perf_counter()
        codes = []

        def one():
            codes.append(c.post("/login", data={"username": "lan", "password": "x", "csrf_token": token}).status_code)

        threads = [threading.Thread(target=one) for _ in range(60)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        wall = time.perf_counter() - t0
    tally.record("login", "late answers to failed log-ins", tried=67, survived=67 * int(wall < 10 * delay))
    assert codes == [429] * 60 and wall < 10 * delay, wall


def test_made_up_names_cost_neither_the_database_nor_a_hash(app, monkeypatch):
    hashes, opened = [], []
    real_check = auth.check_login
    monkeypatch.setattr(auth, "check_login", lambda *a: hashes.append(1) or real_check(*a))
    web = app.state.web
    real_database = web.database
    monkeypatch.setattr(web, "database", lambda: opened.append(1) or real_database())
    for k in range(30):
        assert attempt(TestClient(app, client=(f"100.64.2.{k}", 40000)), f"khong-co-{k}", "x").status_code == 401
    tally.record("login", "made-up names are cheap", tried=30, survived=30 * int(not hashes and len(opened) <= 1))
    assert hashes == [] and len(opened) <= 1  # the account names, read once
    # A real account is still checked against the database.
    assert attempt(TestClient(app, client=OFFICE), "lan", PASSWORDS["lan"][1]).status_code == 303
