"""Written Vietnamese → the recogniser's form: lower case, no punctuation, numbers said in words.

:func:`spoken_text` is how the readable transcript's normalised twin is derived (a QA
correction typed as "số 45, hẻm 12/3 lúc 9h30" is stored for search, topics, PII and places as
"số bốn mươi lăm hẻm mười hai trên ba lúc chín giờ ba mươi"), and how the case and
punctuation model's training input is made from written text. Numbers are said as a speaker
reads them (:func:`pipeline.analysis.numerals.say_number`): dates "6/2/2017" as "sáu tháng hai
năm hai nghìn không trăm mười bảy", times "9h30" as "chín giờ ba mươi", amounts "2.500.000"
as "hai triệu năm trăm nghìn", decimals "2,5" as "hai phẩy năm", "5%" as "năm phần trăm",
phone-like digit strings (a leading 0, or five digits and more) digit by digit. Redaction
tags ("[SĐT]") pass through unchanged. Pure: no I/O.
"""

from __future__ import annotations

import re

from pipeline.analysis.numerals import say_digits, say_number
from pipeline.textnorm import nfc, normalize_text

# A redaction tag of pipeline.analysis.pii.TAGS: kept as one token.
TAG_RE = re.compile(r"\[[A-ZĐÀ-Ỹ ]{2,12}\]")
_ADDRESS_BEFORE = re.compile(r"(?:số|hẻm|kiệt|ngõ|ngách|nhà)\s*$", re.IGNORECASE)
# Units said after a number, as the recogniser writes them.
_UNITS = {"km": "ki lô mét", "kg": "ki lô gam", "m": "mét", "m2": "mét vuông", "m²": "mét vuông", "cm": "xăng ti mét",
          "mm": "mi li mét", "ha": "héc ta", "đ": "đồng", "vnđ": "đồng", "vnd": "đồng", "usd": "đô la", "l": "lít"}
_NUMBER = r"\d+(?:[.,]\d+)*"
_PATTERN = re.compile(
    r"(?P<date3>\b(?P<d>\d{1,2})(?P<sep>[/.-])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4})\b)"
    r"|(?P<time>\b(?P<hh>\d{1,2})\s?(?:h|g|:)\s?(?P<mm>\d{2})?(?:'|p|ph)?(?![\w]))"
    r"|(?P<slash>\b(?P<a>\d{1,4})/(?P<b>\d{1,4})\b)"
    r"|(?P<pct>(?P<pv>" + _NUMBER + r")\s?%)"
    r"|(?P<unit>(?P<uv>" + _NUMBER + r")\s?(?P<u>km|kg|m2|m²|cm|mm|ha|m|vnđ|vnd|usd|đ|l)(?![\w]))"
    r"|(?P<num>" + _NUMBER + r")",
    re.IGNORECASE,
)


def _say_value(text: str) -> str:
    """A written number: "45", "2.500.000" (thousands dots), "2,5" (decimal comma), "0905…" digit by digit."""
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", text):  # 2.500.000
        return say_number(int(text.replace(".", "")))
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})*,\d+", text):  # 2,5 and 1.228,18
        whole, frac = text.split(",")
        whole = whole.replace(".", "")
        return f"{_say_value(whole)} phẩy {say_digits(frac) if frac.startswith('0') else say_number(int(frac))}"
    if re.fullmatch(r"\d+\.\d{1,2}", text):  # 2.5 (a decimal point)
        whole, frac = text.split(".")
        return f"{_say_value(whole)} chấm {say_number(int(frac))}"
    digits = re.sub(r"\D", "", text)
    if not digits:
        return text
    if (digits.startswith("0") and len(digits) > 1) or len(digits) >= 5 and not re.fullmatch(r"\d{1,3}(?:\.\d{3})+", text):
        return say_digits(digits)
    return say_number(int(digits))


def _say_match(m: re.Match, before: str) -> str:
    if m.group("date3"):
        return f"{say_number(int(m['d']))} tháng {say_number(int(m['m']))} năm {say_number(int(m['y']))}"
    if m.group("time"):
        hh = int(m["hh"])
        if hh > 24:
            return _say_value(m["hh"]) + " " + m.group("time")[len(m["hh"]):]
        out = f"{say_number(hh)} giờ"
        return out + (f" {say_number(int(m['mm']))}" if m["mm"] and int(m["mm"]) else "")
    if m.group("slash"):
        a, b = int(m["a"]), int(m["b"])
        if not _ADDRESS_BEFORE.search(before) and 1 <= a <= 31 and 1 <= b <= 12:
            return f"{say_number(a)} tháng {say_number(b)}"
        return f"{_say_value(m['a'])} trên {_say_value(m['b'])}"
    if m.group("pct"):
        return f"{_say_value(m['pv'])} phần trăm"
    if m.group("unit"):
        return f"{_say_value(m['uv'])} {_UNITS[m['u'].lower()]}"
    return _say_value(m.group("num"))


def say_numbers(text: str) -> str:
    """``text`` with each written number replaced by its words (case and punctuation otherwise kept)."""
    out, pos = [], 0
    for m in _PATTERN.finditer(text):
        out.append(text[pos : m.start()])
        out.append(" " + _say_match(m, text[max(0, m.start() - 12) : m.start()]) + " ")
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def spoken_text(written: str) -> str:
    """The recogniser's form of written text: numbers in words, then :func:`pipeline.textnorm.normalize_text`.

    Redaction tags stay as they are ("gọi [SĐT] nhé" → "gọi [SĐT] nhé").
    """
    written = nfc(written or "")
    parts, pos = [], 0
    for m in TAG_RE.finditer(written):
        parts.append(normalize_text(say_numbers(written[pos : m.start()])))
        parts.append(m.group())
        pos = m.end()
    parts.append(normalize_text(say_numbers(written[pos:])))
    return " ".join(p for p in parts if p)
