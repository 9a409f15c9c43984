"""The dashboard's panels and figures: heat table counts and partial weeks, readable colours,
change against the previous period, the needs-review count the call list agrees with."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import duckdb

from pipeline.report import charts
from pipeline.report import reports


def _hex(c: str) -> tuple[int, int, int]:
    return tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))


def test_heat_colours_always_readable():
    for value in range(0, 201):
        bg, fg = charts.heat_colours(value, 200)
        assert charts.contrast(_hex(bg), _hex(fg)) >= 4.5, (value, bg, fg)
    assert charts.heat_colours(0, 10)[0] != charts.heat_colours(10, 10)[0]


def test_format_change_and_duration():
    assert reports.format_change(12, 10) == "+20%" and reports.format_change(8, 10) == "−20%"
    assert reports.format_change(5, 5) == "±0%" and reports.format_change(3, 0) == "mới"
    assert reports.format_change(0, 0) == "" and reports.format_change(3, 0, "en") == "new"
    assert reports.format_duration(150) == "3 phút" and reports.format_duration(3 * 3600 + 300) == "3 giờ 05 phút"
    assert reports.previous_period(date(2026, 11, 2), date(2026, 11, 15)) == (date(2026, 10, 19), date(2026, 11, 1))


def test_topic_week_table_counts_and_partial_weeks(web_db):
    con = duckdb.connect(str(web_db))
    # Wednesday 14/10 .. Sunday 22/11 (data ends 21/11 or earlier): first week cut, last week past the data.
    table = reports.topic_week_table(con, "2026-10-14", "2026-11-22")
    weeks = table["weeks"]
    assert weeks[0]["start"] == date(2026, 10, 12) and weeks[0]["from"] == date(2026, 10, 14) and weeks[0]["partial"]
    assert not weeks[1]["partial"]
    _, last = reports.data_period(con)
    assert weeks[-1]["partial"] == (weeks[-1]["start"].toordinal() + 6 > last.toordinal())
    for row in table["rows"]:
        for w, n in zip(weeks, row["counts"]):
            expected = con.execute("""SELECT count(*) FROM calls c JOIN call_topics t USING (call_id)
                WHERE t.topic = ? AND t.assigned AND t.source = 'model' AND CAST(c.started_at AS DATE) BETWEEN ? AND ?""",
                                   [row["key"], w["from"], w["to"]]).fetchone()[0]
            assert n == expected
    html = charts.heat_table(table, title="T", cell_link=lambda k, w: reports.calls_url(from_=w["from"], to=w["to"], topic=k))
    ET.fromstring(html)  # well-formed
    assert html.count("*</th>") == sum(w["partial"] for w in weeks) and "Tuần chưa trọn" in html
    assert "/calls?from=2026-10-14&amp;to=2026-10-18&amp;topic=" in html
    con.close()


def test_kpi_needs_review_matches_the_call_list(client_as):
    client = client_as("manager")
    con_totals = client.get("/api/calls", params={"from": "2026-10-12", "to": "2026-11-22", "needs_review": "1"}).json()
    page = client.get("/dashboard?from=2026-10-12&to=2026-11-22").text
    assert f'data-kpi="n_needs_review"><b>{con_totals["total"]}</b>' in page
    queue = client.get("/api/calls", params={"from": "2026-10-12", "to": "2026-11-22", "queue": "1"}).json()["total"]
    assert f'data-kpi="n_queue"><b>{queue}</b>' in page
    assert "Độ tin cậy nhận dạng giọng nói" in page and "0.04" not in page


def test_empty_hotspot_panel_says_why():
    html = charts.bar_table([], title="Điểm nóng", empty="Không có cuộc gọi nào trong kỳ này.")
    assert "Không có cuộc gọi nào trong kỳ này." in html


def test_period_presets():
    presets = {label: (a, b) for label, a, b in reports.period_presets(date(2026, 12, 2))}  # a Wednesday
    assert presets["Tuần trước"] == (date(2026, 11, 23), date(2026, 11, 29))
    assert presets["Tháng trước"] == (date(2026, 11, 1), date(2026, 11, 30))
    assert presets["Tháng này"] == (date(2026, 12, 1), date(2026, 12, 2))


def test_dashboard_tables_write_decimals_with_a_comma(client_as):
    """The QA queue and operator tables show ASR confidence as 0,xx in Vietnamese, 0.xx in English."""
    import re
    client = client_as("manager")
    page = client.get("/dashboard?from=2026-10-12&to=2026-11-22").text
    operators = page[page.index('class="operators"'):]
    operators = operators[:operators.index("</table>")]
    assert re.search(r"<td>0,\d\d</td>", operators), operators[:400]
    assert not re.search(r"<td>0\.\d\d</td>", operators)
    client.cookies.set("hotline_lang", "en")
    english = client.get("/dashboard?from=2026-10-12&to=2026-11-22").text
    operators_en = english[english.index('class="operators"'):]
    assert re.search(r"<td>0\.\d\d</td>", operators_en[:operators_en.index("</table>")])
