"""The one numerals parser (pipeline.analysis.numerals) and the spelled phone numbers it lets pii redact."""

from pathlib import Path

import pytest

from pipeline.analysis.numerals import FOLDED_DIGITS, DIGIT_WORDS, NumeralItem, digit_string, small_value_at, value_at
from pipeline.analysis.pii import find_pii, redact
from pipeline.analysis.places import extract_places
from pipeline.eval.redaction import evaluate_redaction
from pipeline.textnorm import tokenize

SPELLED = Path(__file__).resolve().parent.parent / "data" / "pii_cases_spelled.tsv"


def _items(text: str) -> list[NumeralItem]:
    out = []
    for i, t in enumerate(tokenize(text)):
        if t.fold == "muoi":
            out.append(NumeralItem(i, "tens", ""))
        elif t.fold == "tram":
            out.append(NumeralItem(i, "hundred", ""))
        elif t.is_digits:
            out.append(NumeralItem(i, "digits", t.fold))
        else:
            out.append(NumeralItem(i, "digit", FOLDED_DIGITS[t.fold][0]))
    return out


@pytest.mark.parametrize("said, digits", [
    ("không chín không năm", "0905"),
    ("năm mươi bốn", "54"),
    ("chín mươi", "90"),
    ("hai mốt", "21"),
    ("mười hai", "12"),
    ("một trăm linh năm", "105"),
    ("hai trăm ba mươi", "230"),
    ("tám tám ba bảy sáu năm mươi bốn", "8837654"),
    ("09 lẻ 5", "0905"),
])
def test_digit_by_digit(said, digits):
    assert digit_string(_items(said)) == digits


@pytest.mark.parametrize("said, n, value", [
    ("ba", 1, 3), ("mười hai", 2, 12), ("hai mươi", 2, 20), ("hai mươi mốt", 3, 21), ("bốn mươi lăm", 3, 45),
    ("một trăm linh năm", 4, 105), ("một trăm hai mươi ba", 5, 123), ("hai nghìn", 2, 2000),
    ("hai nghìn ba trăm", 4, 2300), ("bon muoi lam", 3, 45),
])
def test_as_a_value(said, n, value):
    assert value_at(tokenize(said), 0) == (n, value)


def test_value_needs_a_number_word_and_accents_that_fit():
    assert value_at(tokenize("không"), 0) is None  # no house number 0
    assert small_value_at(tokenize("mốt"), 0) is None  # "mốt" is 1 only after a ten ("hai mốt")
    assert small_value_at(tokenize("sau đó"), 0) == (1, 6)  # bare: matches on the folded form
    assert small_value_at(tokenize("sau"), 0) == small_value_at(tokenize("sáu"), 0)
    assert small_value_at(tokenize("sàu"), 0) is None  # written with other accents: not a digit


def test_pii_and_places_share_the_word_set():
    # every digit word pii reads is one places reads, and the other way round
    for word, digit in DIGIT_WORDS.items():
        assert FOLDED_DIGITS[tokenize(word)[0].fold][0] == digit
        if digit != "0" and word != "mốt":
            assert small_value_at(tokenize(word), 0) == (1, int(digit))
    places = extract_places("nhà số bốn mươi lăm đường Lê Duẩn")
    assert [p.name for p in places if p.kind == "house_number"] == ["45"]


def test_phone_read_out_in_words_without_context_is_redacted():
    text = "dạ em ở thôn ba, tám tám ba bảy sáu năm mươi bốn ạ"
    assert redact(text).text == "dạ em ở thôn ba, [SĐT] ạ"
    assert [s.kind for s in find_pii("chín một hai bốn bốn năm sáu bảy")] == ["phone"]


@pytest.mark.parametrize("text", [
    "sáu tám tám một hai hai",  # six digits: not enough without context
    "một hai ba bốn năm sáu bảy tám",  # counting (testing the line)
    "nhà em số một trăm hai mươi ba đường Lê Duẩn",
    "tiền điện tháng này là hai triệu ba trăm bốn mươi lăm nghìn đồng",
    "tháng mười hai năm hai không hai bốn em đã gửi đơn",
    "tháng 11 năm 2026 có 30 ngày",
    "từ năm một chín chín năm đến giờ vẫn vậy",
])
def test_ordinary_numbers_are_left_alone(text):
    assert find_pii(text) == ()


def test_spelled_cases_score():
    precision, recall, n = evaluate_redaction(SPELLED)
    assert n >= 30 and precision == 1.0 and recall == 1.0


def test_real_vietasr_output_with_a_spelled_phone_number_is_redacted():
    # viet-asr on samples/…082507: the caller's number read out, no "số điện thoại" before it
    import csv

    rows = csv.DictReader(open(SPELLED.parent / "vietasr_samples_output.tsv", encoding="utf-8"), delimiter="\t")
    heard = next(r["hypothesis"] for r in rows if "tám tám ba bảy sáu" in r["hypothesis"])
    out = redact(heard).text
    assert "[SĐT]" in out and "tám tám ba" not in out and "năm mươi bốn" not in out
