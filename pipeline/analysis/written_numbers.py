"""Spoken numbers → digits, where people write digits: the number part of the readable transcript.

The recogniser writes "số bốn mươi lăm hẻm một hai ba lúc chín giờ rưỡi"; a person writes
"số 45 hẻm 123 lúc 9 giờ 30". :func:`write_numbers` finds the numbers in a run of
normalised syllables and decides, from the words around them, which to write in digits
and how; the rules are the guideline of ``tests/data/readable/GUIDELINE.md`` (values of 10
and more in digits; 1..9 only in addresses, dates, times, money, measures, ages and
durations; thousands "." and decimal ","; "rưỡi"; "trên"/"xẹt" as "/" in addresses;
digit-by-digit runs; "năm nay", "ba mẹ", "một số", "thứ hai" left alone).

Each output piece keeps the range of input syllables it stands for, so word times and
redaction follow the written form. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DIGIT = {"không": 0, "một": 1, "hai": 2, "ba": 3, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7, "bẩy": 7, "tám": 8, "chín": 9}
# After a ten ("hai mươi mốt", "ba mươi lăm", "hai mươi tư"), and "tư" for four in a month's name.
UNIT_AFTER_TEN = DIGIT | {"mốt": 1, "lăm": 5, "tư": 4, "nhăm": 5}
ZERO_LINK = ("linh", "lẻ")
SCALE = {"nghìn": 1000, "ngàn": 1000, "triệu": 10**6, "tỷ": 10**9, "tỉ": 10**9}

# Words before a number that make it an address, a date or a code: digits whatever its size.
ADDRESS_BEFORE = {"số", "hẻm", "kiệt", "ngõ", "ngách", "tổ", "thôn", "khối", "lô", "phòng", "tầng", "km", "ấp", "đội",
                  "nhà", "dãy", "căn", "xóm", "lộ", "phố", "mã", "bàn", "quầy", "cổng", "tuyến", "khu", "kilômét"}
DATE_BEFORE = {"ngày", "mùng", "mồng", "tháng"}
# Words after a number that make 1..9 a time, an amount, a measure or an age.
UNIT_AFTER = {"giờ", "phút", "giây", "tiếng", "đồng", "nghìn", "ngàn", "triệu", "tỷ", "tỉ", "mét", "cây", "ki", "ký",
              "kí", "cân", "lít", "tấn", "tạ", "yến", "héc", "hécta", "sào", "tuổi", "độ", "xăng", "mi", "gam", "lạng",
              "công", "mẫu", "khối", "km", "kg", "ha", "usd", "đô", "vnđ"}
DURATION_AFTER = {"ngày", "tuần", "tháng", "năm"}
# "năm" followed by these is the year, not five.
YEAR_WORDS = {"nay", "ngoái", "trước", "sau", "tới", "qua", "xưa", "đó", "ấy", "này", "kia", "học", "mới", "ngoài",
              "rồi", "nào", "thì", "nữa", "đầu", "cuối", "sinh", "tài", "chẵn"}
APPROX_AFTER = {"mấy", "mươi", "chục"}  # "mười mấy", "hai mươi mấy": not a number to write
SLASH_WORDS = ("trên", "xẹt", "sẹt")
COUNTED = DURATION_AFTER | {"người", "lần", "cái", "con", "hộ", "chiếc", "nhà", "cây", "bữa", "hôm", "buổi"}


@dataclass(frozen=True)
class Piece:
    """One written token and the input syllables it stands for."""

    text: str  # as written: "45", "2.500.000", "9 giờ"… never empty
    start: int  # first input syllable
    end: int  # one past the last input syllable
    number: bool = False  # written in digits here


@dataclass(frozen=True)
class _Value:
    n: int  # syllables read
    value: int
    scaled: bool = False  # a nghìn/triệu/tỷ was said
    single: bool = False  # one digit word alone (1..9 or "mười")
    short: bool = False  # two digit words as a two-digit number ("bốn lăm" = 45)
    decimal: str = ""  # ",5" after triệu/tỷ ("hai triệu rưỡi")
    unit_kept: str = ""  # "triệu"/"tỷ" written as a word after the digits
    digits: str = ""  # read digit by digit


def _unit(words: Sequence[str], i: int, *, after_ten: bool) -> int | None:
    if i >= len(words):
        return None
    table = UNIT_AFTER_TEN if after_ten else DIGIT
    return table.get(words[i])


def _below_100(words: Sequence[str], i: int) -> tuple[int, int] | None:
    """(syllables, value 1..99) of "mười", "mười hai", "hai mươi", "hai mươi mốt"…, or None."""
    if i >= len(words):
        return None
    if words[i] == "mười":
        u = _unit_after_tens(words, i + 1)
        if u:
            return 2, 10 + u
        return 1, 10
    d = DIGIT.get(words[i])
    if d is None or d == 0:
        return None
    if i + 1 < len(words) and words[i + 1] == "mươi":
        u = _unit_after_tens(words, i + 2)
        if u:
            return 3, d * 10 + u
        return 2, d * 10
    return 1, d


def _unit_after_tens(words: Sequence[str], j: int) -> int | None:
    """The unit after "mười"/"mươi": five is "lăm" there, so "năm" is the year ("mười năm qua": ten years)
    unless a scale follows ("hai mươi năm nghìn")."""
    if j < len(words) and words[j] == "năm" and not (j + 1 < len(words) and words[j + 1] in SCALE):
        return None
    return _unit(words, j, after_ten=True)


def _below_1000(words: Sequence[str], i: int) -> tuple[int, int] | None:
    """(syllables, value) of 1..999 including "một trăm linh năm", "không trăm hai mươi" (0 hundreds), "trăm rưỡi"."""
    if i + 1 < len(words) and words[i] in DIGIT and words[i + 1] == "trăm":
        k, value = i + 2, DIGIT[words[i]] * 100
        if k < len(words) and words[k] in ZERO_LINK:
            u = _unit(words, k + 1, after_ten=False)
            if u:
                return k + 2 - i, value + u
            return k - i, value
        if k < len(words) and words[k] == "rưỡi":
            return k + 1 - i, value + 50
        rest = _below_100(words, k)
        # "một trăm hai" alone is 120 in speech; a lone digit after trăm is its tens
        if rest and rest[0] == 1 and rest[1] < 10 and not (k + 1 < len(words) and words[k + 1] in DIGIT):
            return k + 1 - i, value + rest[1] * 10
        return (k + rest[0] - i, value + rest[1]) if rest else (k - i, value)
    if (i + 2 < len(words) and words[i] in DIGIT and DIGIT[words[i]] and words[i + 1] in ZERO_LINK
            and words[i + 2] in DIGIT):  # "hai lẻ năm": a room or house number without its "trăm"
        return 3, DIGIT[words[i]] * 100 + DIGIT[words[i + 2]]
    return _below_100(words, i)


def _value(words: Sequence[str], i: int) -> _Value | None:
    """The number said from ``words[i]``: "hai triệu năm trăm nghìn", "ba tỷ", "hai nghìn không trăm hai mươi tư"."""
    first = _below_1000(words, i)
    if first is None:
        return None
    n, value = first
    single = n == 1
    k = i + n
    if k < len(words) and words[k] in SCALE:
        scale = SCALE[words[k]]
        total, k = value * scale, k + 1
        # "hai triệu rưỡi" = 2,5 triệu; "hai triệu tư" = 2,4 triệu (a lone digit after the scale)
        if k < len(words) and words[k] == "rưỡi":
            if scale >= 10**6:
                return _Value(k + 1 - i, total, scaled=True, decimal=",5", unit_kept=words[k - 1])
            return _Value(k + 1 - i, total + scale // 2, scaled=True)
        lone = _unit(words, k, after_ten=True)
        if lone and not (k + 1 < len(words) and (words[k + 1] in ("mươi", "trăm") or words[k + 1] in SCALE
                                                  or words[k + 1] in UNIT_AFTER_TEN)):
            if scale >= 10**6:
                return _Value(k + 1 - i, total, scaled=True, decimal="," + str(lone), unit_kept=words[k - 1])
            return _Value(k + 1 - i, total + lone * scale // 10, scaled=True)
        # the rest, smaller scales first tried in order ("hai triệu năm trăm nghìn")
        rest = _value(words, k) if k < len(words) and (words[k] in DIGIT or words[k] == "mười") else None
        if rest is not None and rest.value < scale and not rest.decimal:
            return _Value(k + rest.n - i, total + rest.value, scaled=True)
        if k + 1 < len(words) and words[k] == "không" and words[k + 1] == "trăm":  # "hai nghìn không trăm hai mươi"
            tail = _below_100(words, k + 2)
            if k + 2 < len(words) and words[k + 2] in ZERO_LINK:
                u = _unit(words, k + 3, after_ten=False)
                tail = (2, u) if u else None
            if tail:
                return _Value(k + 2 + tail[0] - i, total + tail[1], scaled=True)
        return _Value(k - i, total, scaled=True, unit_kept=words[k - 1] if scale >= 10**6 else "")
    return _Value(n, value, single=single)


def _digit_run(words: Sequence[str], i: int) -> int:
    """Length of the run of bare digit words (không..chín) from ``i``."""
    j = i
    while j < len(words) and words[j] in DIGIT:
        j += 1
    return j - i


def _group(value: int) -> str:
    """4500000 → "4.500.000"."""
    return f"{value:,}".replace(",", ".")


def _prev(words: Sequence[str], i: int, k: int = 1) -> str:
    return words[i - k] if i - k >= 0 else ""


def _next(words: Sequence[str], j: int, k: int = 0) -> str:
    return words[j + k] if j + k < len(words) else ""


def _address_context(words: Sequence[str], i: int) -> bool:
    p = _prev(words, i)
    if p == "số" and _prev(words, i, 2) == "một":  # "một số" is "some"
        return False
    return p in ADDRESS_BEFORE or (p == "đường" and _prev(words, i, 2) == "số")


def _date_context(words: Sequence[str], i: int) -> bool:
    return _prev(words, i) in DATE_BEFORE


def _time_context(words: Sequence[str], i: int) -> bool:
    """Minutes after "N giờ", or after "giờ kém"."""
    p = _prev(words, i)
    return p == "giờ" and _prev(words, i, 2) not in ("bây", "mấy", "") or (p == "kém" and _prev(words, i, 3) != "")


def _year_context(words: Sequence[str], i: int) -> bool:
    return _prev(words, i) == "năm"


def _is_year_word(words: Sequence[str], i: int) -> bool:
    """``words[i]`` is "năm" meaning year: before a year word, a 4-digit year, or after hàng/mỗi/cả."""
    if words[i] != "năm":
        return False
    return _next(words, i + 1) in YEAR_WORDS or _prev(words, i) in ("hàng", "mỗi", "cả", "những", "các", "nhiều", "mấy", "vài")


def write_numbers(words: Sequence[str]) -> list[Piece]:
    """Pieces for normalised syllables ``words``: numbers people write in digits joined into one
    piece each ("bốn mươi lăm" → "45"), every other syllable its own piece, in order."""
    words = list(words)
    out: list[Piece] = []
    i = 0
    while i < len(words):
        if _is_range(words, i):  # "hai ba ngày", "năm bảy người": said in words
            out += [Piece(words[i], i, i + 1), Piece(words[i + 1], i + 1, i + 2)]
            i += 2
            continue
        piece = _number_at(words, i, out)
        if piece is None:
            out.append(Piece(words[i], i, i + 1))
            i += 1
            continue
        out.append(piece)
        i = piece.end
    return _join_slashes(words, out)


def _number_at(words: list[str], i: int, before: list[Piece]) -> Piece | None:
    w = words[i]
    if w not in DIGIT and w != "mười" and not (w == "tư" and _prev(words, i) == "tháng"):
        return None
    if _prev(words, i) == "thứ" or _is_year_word(words, i) and not _unit_follows(words, i + 1):
        return None
    if w == "một" and before and (before[-1].number or before[-1].text in ("đồng", "nghìn", "ngàn", "triệu")):
        return None  # "2.500 một ký", "50.000 đồng một tháng": "một" is "per"
    if w == "tư":  # "tháng tư"
        return Piece("4", i, i + 1, True)
    year = _year_in_pairs(words, i)
    if year:
        return year
    # digit by digit: "năm hai không hai tư" is the year 2024, "không chín không năm…" a number read out
    run = _digit_run(words, i)
    if w == "năm" and (run >= 5 and _year_like(words[i + 1 : i + 5]) or _year_in_pairs(words, i + 1)):
        return None  # "năm" is the year; the next call reads the digits
    if run >= 3 and not _value_takes(words, i, run):
        digits = "".join(str(DIGIT[x]) for x in words[i : i + run])
        if _year_context(words, i) and len(digits) == 4 or run >= 3:
            return Piece(digits, i, i + run, True)
    v = _value(words, i)
    if v is None:
        return None
    j = i + v.n
    nxt = _next(words, j)
    if nxt in APPROX_AFTER or (nxt == "mấy"):
        return None
    # two single digits: a short two-digit number in a date, an age or an address ("hai bảy tuổi"), else a range
    if (v.single and words[i] in DIGIT and _unit_after_ten(words, j) is not None
            and not _is_year_word(words, j) and _next(words, j) not in ("không",)):
        if _date_context(words, i) or _address_context(words, i) or _next(words, j + 1) == "tuổi":
            if DIGIT[words[i]] >= 1 and not (_next(words, j + 1) in ("mươi", "trăm") or _next(words, j + 1) in SCALE):
                return Piece(f"{DIGIT[words[i]]}{UNIT_AFTER_TEN[words[j]]}", i, j + 1, True)
        if not (_next(words, j + 1) in ("mươi", "trăm") or _next(words, j + 1) in SCALE):
            return None  # "hai ba ngày", "năm bảy người": a range, said in words
    value = v.value
    if v.single and value < 10:
        if value == 0:
            return None
        after_slash = len(before) >= 2 and before[-1].text in SLASH_WORDS and before[-2].number
        if not (after_slash or _single_digit_written(words, i, j)):
            return None
    text = _format(words, i, j, v)
    # decimals: "hai phẩy năm" → "2,5"
    if nxt == "phẩy" and _next(words, j + 1) in DIGIT and not v.scaled:
        run = _digit_run(words, j + 1)
        frac = _below_1000(words, j + 1)
        whole = _group(value) if value >= 1000 else str(value)
        if frac is not None and frac[0] > 1:
            text, j = f"{whole},{frac[1]}", j + 1 + frac[0]
        else:
            text, j = f"{whole}," + "".join(str(DIGIT[x]) for x in words[j + 1 : j + 1 + run]), j + 1 + run
        if _next(words, j) in SCALE and SCALE[_next(words, j)] >= 10**6:  # "bốn trăm phẩy năm triệu"
            text, j = f"{text} {words[j]}", j + 1
    # time: "chín giờ rưỡi" → "9 giờ 30" is done when "rưỡi" comes (see _minutes)
    if _next(words, j) == "phần" and _next(words, j, 1) == "trăm":
        return Piece(text + "%", i, j + 2, True)
    return Piece(text, i, j, True)


def _is_range(words: Sequence[str], i: int) -> bool:
    """Two single digits in a row that are a rough count ("hai ba ngày"), not a short two-digit number."""
    if i + 1 >= len(words) or words[i] not in DIGIT or words[i + 1] not in DIGIT or not DIGIT[words[i]]:
        return False
    if _digit_run(words, i) != 2 or _next(words, i + 2) in ("mươi", "trăm") or _next(words, i + 2) in SCALE:
        return False
    if _date_context(words, i) or _address_context(words, i) or _next(words, i + 2) == "tuổi":
        return False
    if _prev(words, i) in ("năm",) and _is_year_word(words, i - 1):
        return False
    a, b = DIGIT[words[i]], DIGIT[words[i + 1]]
    if words[i + 1] == "năm" and not (_next(words, i + 2) in UNIT_AFTER or _next(words, i + 2) in COUNTED):
        return False  # "hai năm nay": two years
    return b == a + 1 or (a, b) == (5, 7)


def _year_in_pairs(words: Sequence[str], i: int) -> Piece | None:
    """A year read in two pairs: "hai không mười sáu" → 2016, "một chín chín lăm" → 1995 (and "hai không hai tư")."""
    if tuple(words[i : i + 2]) not in (("hai", "không"), ("một", "chín")):
        return None
    head = 20 if words[i] == "hai" else 19
    tail = _below_100(words, i + 2)
    if tail and tail[1] >= 10 and (tail[0] > 1 or words[i + 2] == "mười"):
        end, text = i + 2 + tail[0], str(head * 100 + tail[1])
    elif _next(words, i + 2) in DIGIT and _next(words, i + 3) in UNIT_AFTER_TEN and _next(words, i + 4) not in DIGIT:
        end, text = i + 4, f"{head}{DIGIT[words[i + 2]]}{UNIT_AFTER_TEN[words[i + 3]]}"
    else:
        return None
    if _next(words, end) in UNIT_AFTER or _next(words, end) in COUNTED:
        return None  # "hai không mười lần": not a year
    return Piece(text, i, end, True)


def _unit_after_ten(words: Sequence[str], j: int) -> int | None:
    return UNIT_AFTER_TEN.get(words[j]) if j < len(words) else None


def _unit_follows(words: Sequence[str], j: int) -> bool:
    return _next(words, j) in UNIT_AFTER or _next(words, j) in DURATION_AFTER


def _year_like(four: Sequence[str]) -> bool:
    if len(four) != 4 or any(x not in DIGIT for x in four):
        return False
    year = int("".join(str(DIGIT[x]) for x in four))
    return 1900 <= year <= 2099


def _value_takes(words: Sequence[str], i: int, run: int) -> bool:
    """Whether the digit words from ``i`` are part of a value ("năm trăm", "hai mươi") rather than digits read out."""
    end = i + run
    return end < len(words) and (words[end] in ("mươi", "trăm") or words[end] in SCALE) and run <= 2


def _single_digit_written(words: Sequence[str], i: int, j: int) -> bool:
    """Whether 1..9 said as one word is written in digits here (the guideline's rule 2)."""
    w, nxt = words[i], _next(words, j)
    if _address_context(words, i) or _date_context(words, i) or _time_context(words, i):
        return True
    if nxt in UNIT_AFTER:
        if nxt == "giờ" and _next(words, j, 1) == "đồng":  # "hai giờ đồng hồ": a duration, fine in digits
            return True
        if w == "một" and nxt in ("tiếng",):
            return False
        if nxt in ("khối", "công", "độ", "mẫu", "tạ", "yến", "lạng") and w == "một":
            return False
        return True
    if nxt in DURATION_AFTER:
        return w != "một"
    if nxt == "phần" and _next(words, j, 1) == "trăm":
        return True
    if nxt == "phẩy" and _next(words, j, 1) in DIGIT:
        return True
    return False


def _format(words: Sequence[str], i: int, j: int, v: _Value) -> str:
    if v.decimal:
        return f"{v.value // SCALE[v.unit_kept]}{v.decimal} {v.unit_kept}"
    if v.unit_kept:
        scale = SCALE[v.unit_kept]
        return f"{_group(v.value // scale)} {v.unit_kept}"
    if v.scaled or v.value >= 10000:
        if _next(words, j) not in UNIT_AFTER and _next(words, j) not in COUNTED and (
                (_year_context(words, i) and 1000 <= v.value <= 2100) or (1900 <= v.value <= 2100 and _said_as_year(words, i, j))):
            return str(v.value)
        if _address_context(words, i):
            return str(v.value)
        return _group(v.value)
    return str(v.value)


def _said_as_year(words: Sequence[str], i: int, j: int) -> bool:
    """A year said without "năm" before it: "hai nghìn không trăm hai mươi mốt", "một nghìn chín trăm…"
    (a year with tens and units; "hai nghìn" alone is as often an amount)."""
    return (j - i) >= 5 and words[i + 1] in ("nghìn", "ngàn") and words[i] in ("một", "hai")


def _join_slashes(words: Sequence[str], pieces: list[Piece]) -> list[Piece]:
    """Address numbers "45 trên 12" → "45/12"; time "9 giờ rưỡi" → "9 giờ 30"."""
    out: list[Piece] = []
    k = 0
    while k < len(pieces):
        p = pieces[k]
        if (p.number and k + 2 < len(pieces) and pieces[k + 1].text in SLASH_WORDS and pieces[k + 2].number
                and p.text.isdigit() and pieces[k + 2].text.isdigit() and _address_context(words, p.start)):
            out.append(Piece(f"{p.text}/{pieces[k + 2].text}", p.start, pieces[k + 2].end, True))
            k += 3
            continue
        if p.text == "rưỡi" and len(out) >= 2 and out[-1].text == "giờ" and out[-2].number:
            out.append(Piece("30", p.start, p.end, True))
            k += 1
            continue
        out.append(p)
        k += 1
    return out


def written(words: Sequence[str]) -> str:
    """The pieces of :func:`write_numbers` joined by spaces (for tests and the evaluation)."""
    return " ".join(p.text for p in write_numbers(words))
