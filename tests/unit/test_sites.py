"""Several sites, one picture (issue 32 item 4): the province's copy of each site (pipeline/warehouse/sites.py),
``hotline sites``, and the /province page with its access checks (failing closed).

The site warehouses are built by the demo-data library (small N); the two-writer test with real processes is
tests/integration/test_sites_two_writers.py."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from pipeline.cli import main
from pipeline.commands.demo_data import LINE_SHARES, demo_pools
from pipeline.lines import DEFAULT_LINES
from pipeline.warehouse import db, sites
from pipeline.warehouse.demo_data import build_demo_calls
from pipeline.warehouse.lines import set_user_lines
from pipeline.web.auth import add_user
from tests.support.web_fixtures import FAST_AUTH, log_in

LINES = [(ln.key, LINE_SHARES.get(ln.key, 0.0), ln.since) for ln in DEFAULT_LINES]


def _site(path, n, seed):
    con = db.connect(path)
    build_demo_calls(con, n, end=datetime(2026, 12, 1), lines=LINES, seed=seed, **_POOLS())
    con.close()
    return path


_CACHE: dict = {}


def _POOLS():
    if "pools" not in _CACHE:
        _CACHE["pools"] = demo_pools()
    return _CACHE["pools"]


@pytest.fixture
def two_sites(tmp_path):
    return _site(tmp_path / "tinh.duckdb", 60, 1), _site(tmp_path / "bmt.duckdb", 40, 2)


def _province(path, site_paths):
    con = db.connect(path)
    for key, p in zip(("tinh", "bmt"), site_paths):
        sites.add_site(con, key, f"Trung tâm {key}", p)
    return con


def test_refresh_copies_every_call_once_and_follows_the_site(two_sites, tmp_path):
    con = _province(tmp_path / "province.duckdb", two_sites)
    assert sites.refresh_site(con, "tinh") == 60 and sites.refresh_site(con, "bmt") == 40
    assert sites.refresh_site(con, "tinh") == 60  # again: replaced, not added
    n, distinct = con.execute("SELECT count(*), count(DISTINCT (site, call_id)) FROM site_calls").fetchone()
    assert (n, distinct) == (100, 100)
    totals = sites.province_totals(con, date(2020, 1, 1), date(2026, 12, 31))
    assert sum(r["n_calls"] for r in totals) == 100
    assert {r["site"] for r in totals} == {"tinh", "bmt"}
    only = sites.province_totals(con, date(2020, 1, 1), date(2026, 12, 31), sites=["bmt"], lines=["bmt"])
    assert {(r["site"], r["line"]) for r in only} <= {("bmt", "bmt")}
    # A call purged at the site leaves the picture at the next refresh; a new one comes in.
    site = db.connect(two_sites[1])
    build_demo_calls(site, 5, end=datetime(2026, 12, 1), lines=LINES, seed=2, **_POOLS())
    gone = site.execute("SELECT call_id FROM calls ORDER BY call_id LIMIT 1").fetchone()[0]
    site.execute("DELETE FROM calls WHERE call_id = ?", [gone])
    site.close()
    assert sites.refresh_site(con, "bmt") == 44
    assert con.execute("SELECT count(*) FROM site_calls WHERE call_id = ?", [gone]).fetchone()[0] == 0
    opened = sites.province_open_cases(con, today=date(2026, 12, 1))
    assert opened and all(r["n_open"] >= r["n_overdue"] for r in opened)
    con.close()


def test_no_caller_data_crosses_to_the_province(two_sites, tmp_path):
    con = _province(tmp_path / "province.duckdb", two_sites)
    for key in ("tinh", "bmt"):
        sites.refresh_site(con, key)
    site = duckdb.connect(str(two_sites[0]), read_only=True)
    secrets = {v for row in site.execute("SELECT caller_hash, caller_last3, source_path, pbx_call_id, transcript "
                                         "FROM calls").fetchall() for v in row if v}
    site.close()
    assert secrets
    found = set()
    for table in ("site_calls", "site_call_topics", "site_call_places", "site_cases", "sites"):
        for row in con.execute(f"SELECT * FROM {table}").fetchall():
            found |= {str(v) for v in row if v is not None} & secrets
    assert not found
    con.close()


def test_an_extract_carries_the_same_picture(two_sites, tmp_path):
    extract = tmp_path / "bmt.extract.duckdb"
    assert sites.export_site(two_sites[1], extract) == 40
    a = _province(tmp_path / "a.duckdb", two_sites)
    b = db.connect(tmp_path / "b.duckdb")
    sites.add_site(b, "bmt", "Trung tâm bmt", extract)
    assert sites.refresh_site(a, "bmt") == sites.refresh_site(b, "bmt") == 40
    q = "SELECT * FROM site_cases ORDER BY case_id"
    assert a.execute(q).fetchall() == b.execute(q).fetchall()
    cols = {r[0] for r in duckdb.connect(str(extract), read_only=True).execute(
        "SELECT column_name FROM information_schema.columns").fetchall()}
    assert not cols & {"caller_hash", "caller_last3", "caller_initials", "transcript", "source_path", "pbx_call_id"}
    a.close()
    b.close()


def test_a_failed_refresh_keeps_the_last_copy_and_says_why(two_sites, tmp_path):
    con = _province(tmp_path / "province.duckdb", two_sites)
    sites.refresh_site(con, "tinh")
    two_sites[0].unlink()
    with pytest.raises(sites.SiteError, match="tinh"):
        sites.refresh_site(con, "tinh")
    row = [r for r in sites.list_sites(con) if r["site"] == "tinh"][0]
    assert row["copied"] == 60 and row["last_error"]
    with pytest.raises(sites.SiteError, match="site key"):
        sites.add_site(con, "../x", "x", two_sites[1])
    con.close()


def test_the_sites_command(two_sites, tmp_path, capsys):
    prov = tmp_path / "p.duckdb"
    assert main(["sites", "add", "tinh", str(two_sites[0]), "--name", "Tỉnh", "--db", str(prov)]) == 0
    assert main(["sites", "add", "bmt", str(two_sites[1]), "--db", str(prov)]) == 0
    assert main(["sites", "refresh", "--db", str(prov)]) == 0
    assert main(["sites", "list", "--db", str(prov)]) == 0
    out = capsys.readouterr().out
    assert "tinh\t60\t" in out and "bmt\t40\t" in out
    assert main(["sites", "refresh", "nowhere", "--db", str(prov)]) == 1
    assert main(["sites", "remove", "bmt", "--db", str(prov)]) == 0
    assert main(["sites", "export", "--db", str(two_sites[0]), "--out", str(tmp_path / "e.duckdb")]) == 0


@pytest.fixture
def web_db(cases_db, tmp_path):
    """The fixture installation (its users) as the province, with two sites copied in, and a line-scoped admin."""
    a, b = _site(tmp_path / "tinh.duckdb", 60, 1), _site(tmp_path / "bmt.duckdb", 40, 2)
    con = _province(cases_db, (a, b))
    for key in ("tinh", "bmt"):
        sites.refresh_site(con, key)
    add_user(con, "thanhpho", "admin", "mat-khau-tp-1", FAST_AUTH)
    set_user_lines(con, "thanhpho", ["bmt"])
    con.close()
    return cases_db


def test_the_province_page_reads_every_site_and_filters(client_named, app):
    minh = client_named("minh")  # manager
    page = minh.get("/province")
    assert page.status_code == 200
    assert 'id="pv-n-calls">100<' in page.text
    assert "Trung tâm tinh" in page.text and "Trung tâm bmt" in page.text
    one = minh.get("/province?site=bmt&from=2020-01-01&to=2026-12-31")
    assert 'id="pv-n-calls">40<' in one.text
    line = minh.get("/province?site=bmt&line=bmt&from=2020-01-01&to=2026-12-31").text
    assert 'data-line="tinh-1022"' not in line and 'data-line="bmt"' in line
    hostile = minh.get("/province?site=%3Cscript%3E&line=x'--")
    assert hostile.status_code == 200 and "<script>" not in hostile.text
    assert 'id="pv-n-calls">100<' in hostile.text  # unknown keys are no filter, never an error


def test_units_and_line_scoped_users_never_open_the_province_page(client_named, app):
    from fastapi.testclient import TestClient

    unit = client_named("tantien")
    r = unit.get("/province", follow_redirects=False)
    assert r.status_code == 403 and "pv-n-calls" not in r.text
    scoped = TestClient(app)
    assert log_in(scoped, "thanhpho", "mat-khau-tp-1").status_code == 303
    r = scoped.get("/province", follow_redirects=False)
    assert r.status_code == 403 and "pv-n-calls" not in r.text
    anonymous = TestClient(app).get("/province", follow_redirects=False)
    assert anonymous.status_code in (303, 401) and "pv-n-calls" not in anonymous.text
