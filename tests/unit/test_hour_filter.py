"""The call list's hour-of-day filter, which the dashboard's calls-by-hour bars open: each bar's count is
the list's total for that hour, the API and the exports honour it, and a bad hour is a 400 (never ignored:
a link that silently dropped the hour would show the whole period as if it were one hour)."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from html import unescape

import duckdb
import pytest
from openpyxl import load_workbook

PERIOD = {"from": "2026-10-12", "to": "2026-11-22"}
SVG = "{http://www.w3.org/2000/svg}"


def _hour_bars(html: str) -> dict[int, tuple[int, str]]:
    """hour → (count written in the bar's title, link) of the dashboard's calls-by-hour chart."""
    figure = re.search(r'<figure class="panel" id="hours">(.*?)</figure>', html, re.S).group(1)
    svg = ET.fromstring(figure)
    bars = {}
    for a in svg.iter(f"{SVG}a"):
        rect = a.find(f"{SVG}rect")
        label, value = rect.find(f"{SVG}title").text.split(": ")
        bars[int(label)] = (int(value), a.get("href"))
        assert a.get("tabindex") == "0" and a.find(f"{SVG}title").text == a.get("aria-label")
        assert a.get("aria-label").startswith(f"{int(label):02d}:00–{int(label):02d}:59: {value} cuộc gọi")
    return bars


def test_each_hour_bar_links_to_a_list_of_that_many_calls(client_as, web_db):
    client = client_as("manager")
    bars = _hour_bars(client.get("/dashboard", params=PERIOD).text)
    con = duckdb.connect(str(web_db))
    by_hour = dict(con.execute("SELECT hour(started_at), count(*) FROM calls WHERE status = 'done' AND "
                               "CAST(started_at AS DATE) BETWEEN ? AND ? GROUP BY 1",
                               [PERIOD["from"], PERIOD["to"]]).fetchall())
    con.close()
    assert len(by_hour) > 3 and set(bars) == set(by_hour)  # every non-empty hour has a linked bar, no other
    for hour, (count, href) in bars.items():
        assert count == by_hour[hour]
        assert href == f"/calls?from={PERIOD['from']}&to={PERIOD['to']}&hour={hour}"
        api = client.get("/api/calls" + href[len("/calls"):]).json()
        assert api["total"] == count
        assert {int(c["started_at"][11:13]) for c in api["calls"]} == {hour}
        page = client.get(unescape(href)).text
        assert f'<span id="n-results">{count} cuộc gọi' in page


def test_hour_combines_with_other_filters_and_shows_a_removable_chip(client_as, web_db):
    client = client_as("manager")
    con = duckdb.connect(str(web_db))
    hour, operator, n = con.execute("SELECT hour(started_at), operator_ext, count(*) FROM calls "
                                    "GROUP BY ALL ORDER BY 3 DESC, 1, 2 LIMIT 1").fetchone()
    total_hour = con.execute("SELECT count(*) FROM calls WHERE hour(started_at) = ?", [hour]).fetchone()[0]
    con.close()
    assert 0 < n < total_hour  # the operator narrows the hour's calls
    assert client.get("/api/calls", params={"hour": hour, "operator": operator}).json()["total"] == n
    page = client.get("/calls", params={"hour": hour, "operator": operator, "page": 1}).text
    chip = re.search(r'<span class="chip" id="chip-hour">(.*?)</span>', page, re.S).group(1)
    assert f"Giờ {hour:02d}:00–{hour:02d}:59" in chip
    remove = unescape(re.search(r'href="([^"]+)" class="chip-remove"', chip).group(1))
    assert remove == f"/calls?operator={operator}"  # the hour (and the page) dropped, the operator kept
    assert f'<option value="{hour}" selected>' in page  # the form keeps the hour, so "Lọc" keeps it too
    assert 'id="chip-hour"' not in client.get(remove).text


def test_hour_zero_is_a_filter(client_as):
    client = client_as("manager")
    r = client.get("/api/calls", params={"hour": "0"}).json()
    assert all(c["started_at"][11:13] == "00" for c in r["calls"])
    assert r["total"] < client.get("/api/calls").json()["total"]


@pytest.mark.parametrize("bad", ["25", "24", "-1", "x", "1.5", "٣"])
def test_bad_hour_is_a_400(client_as, bad):
    client = client_as("manager")
    r = client.get("/api/calls", params={"hour": bad})
    assert r.status_code == 400 and "0 đến 23" in r.json()["detail"]
    page = client.get("/calls", params={"hour": bad})
    assert page.status_code == 400 and "0 đến 23" in page.text
    assert client.get("/export.csv", params={"hour": bad}).status_code == 400


def test_exports_honour_the_hour(client_as, web_db):
    client = client_as("manager")
    con = duckdb.connect(str(web_db))
    hour, n = con.execute("SELECT hour(started_at), count(*) FROM calls GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1").fetchone()
    con.close()
    r = client.get("/export.csv", params={**PERIOD, "hour": hour})
    assert r.status_code == 200
    name = re.search(r'filename="([^"]+)"', r.headers["content-disposition"]).group(1)
    assert name == f"cuoc-goi_{PERIOD['from']}_{PERIOD['to']}_gio-{hour:02d}.csv"
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == n and n > 1
    r = client.get("/export.xlsx", params={**PERIOD, "hour": hour})
    name = re.search(r'filename="([^"]+)"', r.headers["content-disposition"]).group(1)
    assert name.endswith(f"_gio-{hour:02d}.xlsx")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb["Cuộc gọi"].max_row == n + 1
    filters = next(row for row in wb["Tổng hợp"].iter_rows(values_only=True) if row[0] == "Bộ lọc")
    assert filters[1] == f"hour={hour:02d}"


def test_cli_export_calls_by_hour(web_db, tmp_path, capsys):
    from pipeline.cli import main

    con = duckdb.connect(str(web_db))
    hour, n = con.execute("SELECT hour(started_at), count(*) FROM calls GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1").fetchone()
    con.close()
    out = tmp_path / "exports"
    assert main(["export", "calls", "--hour", str(hour), "--format", "csv", "--out", str(out), "--db", str(web_db)]) == 0
    assert capsys.readouterr().out.startswith(f"{n} calls written to ")
    (path,) = out.iterdir()
    assert path.name == f"cuoc-goi_dau_nay_gio-{hour:02d}.csv"
    assert len(list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))) == n
    with pytest.raises(SystemExit):
        main(["export", "calls", "--hour", "24", "--out", str(out), "--db", str(web_db)])
    assert "0 to 23" in capsys.readouterr().err
