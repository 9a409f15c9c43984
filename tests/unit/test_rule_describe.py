"""Issue 30: a rule nested deeper than the editor's rows (typed with `hotline rules save`) is shown in
Vietnamese words, AND/OR/NOT heading their parts, not as raw JSON."""

from __future__ import annotations

import html

from pipeline.analysis.rules import Rule
from pipeline.casework import categories
from pipeline.i18n import translator
from pipeline.warehouse import db
from pipeline.web import rule_form

NESTED = {"any": [{"all": [{"urgent": True}, {"topic": ["traffic"]}]},
                  {"not": {"said": {"by": "operator", "phrases": ["xin nghe"], "first_s": 15}}},
                  {"metric": {"name": "interruptions", "by": "operator", "over": 2}}]}


def test_a_nested_condition_reads_as_indented_vietnamese_lines():
    lines = rule_form.describe(NESTED, translator("vi"), {"traffic": "Giao thông"})
    assert lines == [
        (0, "Thỏa MỘT TRONG (HOẶC):"),
        (1, "Thỏa TẤT CẢ (VÀ):"),
        (2, "máy phát hiện khẩn cấp báo khẩn"),
        (2, "Chủ đề: Giao thông"),
        (1, "KHÔNG:"),
        (2, "tổng đài viên nói «xin nghe» trong 15 giây đầu"),
        (1, "số lần ngắt lời (tổng đài viên) lớn hơn 2"),
    ]
    text = " ".join(line for _, line in rule_form.describe(NESTED, translator("vi")))
    assert "{" not in text and "traffic" in text  # a topic without a label shows its key, never JSON


def test_the_editor_shows_a_nested_rule_in_words(client_as, web_db):
    con = db.connect(web_db)
    categories.save_rule(con, Rule("long-nhau", "Lồng nhau", NESTED), "minh")
    con.close()
    page = html.unescape(client_as("manager").get("/rules?name=long-nhau").text)
    described = page[page.index('id="rf-complex"'):page.index("</div>", page.index('id="rf-complex"'))]
    assert "Thỏa MỘT TRONG (HOẶC):" in described and "tổng đài viên nói «xin nghe» trong 15 giây đầu" in described
    assert "<details>" in described  # the JSON is still there, folded away
