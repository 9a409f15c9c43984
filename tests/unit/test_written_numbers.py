"""Numbers of the readable transcript: saying a number (numerals.say_number), the recogniser's form of
written text (spoken.spoken_text) and writing spoken numbers in digits (written_numbers)."""

import random
from pathlib import Path

import pytest

from pipeline.analysis.numerals import say_digits, say_number, value_at
from pipeline.analysis.spoken import spoken_text
from pipeline.analysis.written_numbers import write_numbers, written
from pipeline.textnorm import tokenize

DATA = Path(__file__).resolve().parent.parent / "data" / "readable"


@pytest.mark.parametrize("value, words", [
    (0, "không"), (5, "năm"), (10, "mười"), (15, "mười lăm"), (21, "hai mươi mốt"), (24, "hai mươi tư"),
    (105, "một trăm linh năm"), (110, "một trăm mười"), (1005, "một nghìn không trăm linh năm"),
    (2024, "hai nghìn không trăm hai mươi tư"), (2500000, "hai triệu năm trăm nghìn"), (3 * 10**9, "ba tỷ"),
])
def test_say_number(value, words):
    assert say_number(value) == words


def test_say_number_reads_back_with_the_numerals_parser():
    rng = random.Random(3)
    for value in [1, 9, 10, 11, 19, 20, 99, 100, 101, 999, 1000, 9999] + rng.sample(range(1, 10000), 300):
        if value >= 1000 and value % 1000 and value % 1000 < 100:
            continue  # "sáu nghìn không trăm sáu mươi hai": value_at (places' reader) stops at "không trăm"
        assert value_at(tokenize(say_number(value)), 0) == (len(say_number(value).split()), value)
    with pytest.raises(ValueError):
        say_number(-1)


def test_written_numbers_invert_said_numbers():
    """Every value said in full comes back in digits: as is below 1000, with thousands dots above
    (an amount or a count), without them after "năm" (a year) or "số" (a house number)."""
    rng = random.Random(5)
    for value in list(range(10, 200)) + list(range(1890, 2110)) + rng.sample(range(200, 10**7), 400):
        said = say_number(value).split()
        grouped = f"{value:,}".replace(",", ".") if value >= 1000 else str(value)
        if value >= 10**6 and value % 10**6 == 0:
            grouped = f"{value // 10**6} triệu"
        if 1900 <= value <= 2100 and len(said) >= 5:  # said as a year is ("hai nghìn không trăm mười")
            grouped = str(value)
        assert written(said) == grouped, (value, said)
        if 1000 <= value <= 2099:
            assert written(["năm"] + said) == f"năm {value}"
        if value < 10000:
            assert written(["số"] + said) == f"số {value}"


@pytest.mark.parametrize("spoken, want", [
    ("số bốn mươi lăm đường quang trung", "số 45 đường quang trung"),
    ("hẻm một trăm hai mươi ba", "hẻm 123"),
    ("ngày hai mươi tháng mười một", "ngày 20 tháng 11"),
    ("chín giờ rưỡi", "9 giờ 30"),
    ("hai triệu rưỡi đồng", "2,5 triệu đồng"),
    ("hẻm bốn mươi lăm trên mười hai", "hẻm 45/12"),
    ("năm nay ba mẹ em không có nhà", "năm nay ba mẹ em không có nhà"),
    ("hai ba ngày nay", "hai ba ngày nay"),
    ("gần hai năm nay", "gần 2 năm nay"),
])
def test_issue_examples(spoken, want):
    assert written(spoken.split()) == want


def test_pieces_keep_the_syllables_they_stand_for():
    words = "em ở số bốn mươi lăm hẻm một hai ba".split()
    pieces = write_numbers(words)
    assert [p.text for p in pieces] == ["em", "ở", "số", "45", "hẻm", "123"]
    assert [(p.start, p.end) for p in pieces] == [(0, 1), (1, 2), (2, 3), (3, 6), (6, 7), (7, 10)]
    assert [p.number for p in pieces] == [False, False, False, True, False, True]


@pytest.mark.parametrize("name", ["numbers_dev.tsv", "numbers_test.tsv"])
def test_number_files_are_written_as_the_guideline_says(name):
    """The hand-written number files (tests/data/readable): the parser alone, without case or punctuation."""
    rows = [line.split("\t") for line in (DATA / name).read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
    assert len(rows) >= 60
    misses = [(spoken, written(spoken.split()), want) for spoken, want, _ in rows if written(spoken.split()) != want]
    assert len(misses) <= 0.05 * len(rows), misses


@pytest.mark.parametrize("text, said", [
    ("Hà Nội, ngày 24 tháng 11 năm 2015", "hà nội ngày hai mươi tư tháng mười một năm hai nghìn không trăm mười lăm"),
    ("số 45/12 đường Quang Trung lúc 9h30", "số bốn mươi lăm trên mười hai đường quang trung lúc chín giờ ba mươi"),
    ("phí 2.500.000đ, tăng 5%", "phí hai triệu năm trăm nghìn đồng tăng năm phần trăm"),
    ("gọi 0905123456 nhé", "gọi không chín không năm một hai ba bốn năm sáu nhé"),
    ("ngày 6/2/2017", "ngày sáu tháng hai năm hai nghìn không trăm mười bảy"),
    ("dài 2,5 km", "dài hai phẩy năm ki lô mét"),
    ("gọi [SĐT] nhé, tên [TÊN]", "gọi [SĐT] nhé tên [TÊN]"),
    ("Hòa, hoà", "hòa hòa"),
])
def test_spoken_text(text, said):
    assert spoken_text(text) == said


def test_spoken_then_written_round_trip_on_the_guideline_forms():
    for text in ["số 45 đường quang trung", "hẻm 123", "ngày 20 tháng 11 năm 2024", "500.000 đồng", "2 triệu đồng",
                 "tăng 5%", "9 giờ 30", "hẻm 45/12"]:
        assert written(spoken_text(text).split()) == text
    assert say_digits("0905") == "không chín không năm"
