"""Written Vietnamese into the recogniser's form for its language model: case, punctuation, numbers, placeholders."""

from __future__ import annotations

import pytest

from models.lm_text import read_number, spoken_form, spoken_sentences


@pytest.mark.parametrize("n,words", [
    (0, "không"), (5, "năm"), (10, "mười"), (15, "mười lăm"), (21, "hai mươi mốt"), (24, "hai mươi tư"),
    (45, "bốn mươi lăm"), (100, "một trăm"), (105, "một trăm linh năm"), (110, "một trăm mười"),
    (1005, "một nghìn không trăm linh năm"), (2015, "hai nghìn không trăm mười lăm"),
    (12345, "mười hai nghìn ba trăm bốn mươi lăm"), (2005000, "hai triệu không trăm linh năm nghìn"),
    (1_000_000_000, "một tỷ"),
])
def test_numbers_are_read_the_standard_way(n, words):
    assert " ".join(read_number(n)) == words


def test_sentences_are_split_lower_cased_and_numbers_spelt_out():
    assert list(spoken_sentences("Hà Nội, ngày 24 tháng 11 năm 2015. Quốc hội ban hành Bộ luật dân sự!")) == [
        "hà nội ngày hai mươi tư tháng mười một năm hai nghìn không trăm mười lăm",
        "quốc hội ban hành bộ luật dân sự",
    ]
    assert spoken_form("Giá tăng 3,5% trong 2 năm") == "giá tăng ba phẩy năm phần trăm trong hai năm"
    assert spoken_form("nhà số 7/3/2020") == "nhà số ngày bảy tháng ba năm hai nghìn không trăm hai mươi"
    assert spoken_form("1.000.000 đồng") == "một triệu đồng"
    assert spoken_form("gọi 0905") == "gọi không chín không năm"  # a leading zero: digit by digit


def test_tone_marks_take_one_placement():
    assert spoken_form("Hoà bình ở Khánh Hoà") == spoken_form("hòa bình ở khánh hòa") == "hòa bình ở khánh hòa"


def test_what_cannot_be_read_without_guessing_is_left_out():
    assert spoken_form("giấy A4 và covid-19b") == ""
    # a redaction placeholder cuts the sentence: what was removed is not guessed
    assert list(spoken_sentences("số của tôi là [SĐT] anh gọi lại giùm em")) == ["số của tôi là", "anh gọi lại giùm em"]
    assert list(spoken_sentences("[TÊN]")) == []
    assert list(spoken_sentences("Dạ.")) == []  # one word: no n-gram context
