"""Server-side SVG charts: well-formed, labels escaped, values drawn to scale."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pipeline.report import charts

NS = "{http://www.w3.org/2000/svg}"


def test_bar_chart_escapes_labels_and_scales_bars():
    svg = ET.fromstring(charts.bar_chart([("Tân <Tiến>", 6), ("Ea Tam & co", 3)], title="Điểm nóng"))
    rects = svg.findall(f"{NS}rect")
    assert [float(r.get("width")) for r in rects][0] == 2 * float(rects[1].get("width"))
    assert "Tân <Tiến>" in "".join(svg.itertext())


def test_line_chart_one_polyline_per_series_and_empty_input():
    svg = ET.fromstring(charts.line_chart(["12/10", "19/10"], {"Đất đai": [1, 3], "Khác": [0, 2]}, title="Tuần"))
    assert len(svg.findall(f"{NS}polyline")) == 2
    ET.fromstring(charts.line_chart([], {}, title="—"))
    ET.fromstring(charts.bar_chart([], title="—"))
    ET.fromstring(charts.column_chart([], title="—"))


def test_column_chart_heights_follow_values():
    svg = ET.fromstring(charts.column_chart([("7", 2), ("8", 4), ("9", 0)], title="Giờ"))
    heights = [float(r.get("height")) for r in svg.findall(f"{NS}rect")]
    assert heights[1] == 2 * heights[0] and heights[2] == 0
