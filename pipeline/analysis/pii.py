"""Personal data in transcript text: find it and redact it (measuring how well: :mod:`pipeline.eval.redaction`).

Kinds: ``phone``, ``national_id`` (CCCD 12 digits, CMND 9), ``plate`` (licence
plates), ``email``, ``bank_account``, ``person_name`` (people's names, not the
streets and schools named after people: :mod:`pipeline.analysis.names`). Numbers may be written as digits, read out
in words ("không chín không năm…", "chín mươi", "hai mốt", "linh", "lẻ") or both.

How a number is classified:

1. The nearest context phrase before it (a few words back) decides the kind:
   "số điện thoại/sđt/zalo…" → phone, "căn cước/cccd/cmnd/chứng minh…" → national
   id, "số tài khoản/stk/<bank name>…" → bank account; then the length must fit.
2. Without context: 10–11 digits starting with 0, or 84 + 9–10 digits, is a phone;
   12 digits starting with 0 is a CCCD; 7–12 digits read out in words ("tám tám ba
   bảy sáu năm mươi bốn") is a phone. Anything else is left alone.
3. Money ("năm trăm nghìn", "2 triệu đồng"), measurements, dates, house numbers
   and public numbers (the 1022 hotline, 113/114/115) are never redacted.

All matching is on accent-folded text (:func:`pipeline.textnorm.fold_accents`);
spans are offsets into the original text.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pipeline.analysis.names import find_names, initials, initials as name_initials
from pipeline.analysis.numerals import (FOLDED_DIGITS, FOLDED_HUNDRED, FOLDED_TENS, UNAMBIGUOUS_FOLDED, NumeralItem,
                                digit_string, spelled)
from pipeline.textnorm import Token, fold_accents, normalize_text, tokenize

KINDS = ("phone", "national_id", "plate", "email", "bank_account", "person_name")
TAGS = {
    "phone": "[SĐT]",
    "national_id": "[CCCD]",
    "plate": "[BIỂN SỐ]",
    "email": "[EMAIL]",
    "bank_account": "[TÀI KHOẢN]",
    "person_name": "[TÊN]",
}


@dataclass(frozen=True)
class PiiSpan:
    kind: str  # one of KINDS
    start: int  # char offset in the text
    end: int  # char offset just past the span
    text: str = field(repr=False)  # the personal data as written; kept out of repr so it never reaches logs
    cue: str = field(default="", compare=False)  # person_name only: strong | self | kin | staff | none (pipeline.analysis.names)


@dataclass(frozen=True)
class Redaction:
    text: str  # input with each span replaced by its tag from TAGS
    spans: tuple[PiiSpan, ...]  # spans in the input, in order


# ---------------------------------------------------------------------------
# Spoken numbers

# Folded word -> (digit, accented forms): the one word set of pipeline.analysis.numerals. Forms
# that are also common words ("tư" vs "từ", "sáu" vs "sau", "lăm" vs "làm") count only
# with their accents, or between two digits; ASR mishearings ("sao") only between two.
_DIGIT_WORDS = FOLDED_DIGITS
_TENS = FOLDED_TENS  # mười (ten) / mươi (tens)
_HUNDRED = FOLDED_HUNDRED
# Words after a number that make it an amount, a measure, a time or a count. Their
# folded forms often collide ("ngàn"/"ngân", "con"/"còn", "đô"/"là"), so a word
# must match with its accents; only the folded forms listed as safe also count
# when ASR dropped the accents.
_UNIT_WORDS = set(
    """
    nghìn ngàn triệu tỷ tỉ đồng vnd k usd đô xu phần mét m km cm mm kg g gam tấn lít m2
    giờ phút giây ngày tháng tuổi người cái chiếc con lần tầng phòng ha sào hộ
    """.split()
)
_UNIT_FOLDED_SAFE = {"nghin", "trieu", "dong", "vnd", "usd", "met", "km", "kg", "gio", "phut", "giay", "ngay", "thang", "tuoi", "nguoi", "m2"}
_FILLERS = {"a", "o", "u", "ah", "uh", "um", "ha", "e"}
_SEPARATORS = {".", "-", ",", "–", "/"}
# Inside a written number, brackets around an area code join too: "(0262)3812345" (issue 25).
_JOINERS = _SEPARATORS | {"(", ")"}
_PUBLIC_NUMBERS = {"1022", "02621022", "113", "114", "115", "116", "111", "1900", "18001022"}


_Item = NumeralItem  # one element of a spoken or written number (pipeline.analysis.numerals)


def _neighbour(tokens: Sequence[Token], i: int, step: int) -> int:
    """Index of the nearest token from ``i`` in direction ``step`` that is not a separator or filler."""
    j = i + step
    while 0 <= j < len(tokens) and (tokens[j].fold in _SEPARATORS or tokens[j].fold in _FILLERS):
        j += step
    return j


def _is_number_word(tokens: Sequence[Token], j: int) -> bool:
    return 0 <= j < len(tokens) and (tokens[j].is_digits or tokens[j].fold in _DIGIT_WORDS or tokens[j].fold == _TENS)


def _digit_value(tokens: Sequence[Token], i: int) -> tuple[str, bool] | None:
    """``(digit, weak)`` for a digit word at ``i``, or None.

    ``weak`` marks a digit that may be an ordinary word instead (a bare "sau"
    after a number, a final "không"): a run may drop it when that gives a number
    of a regular length.
    """
    t = tokens[i]
    entry = _DIGIT_WORDS.get(t.fold)
    if entry is None:
        return None
    digit, accented = entry
    if t.norm in accented:
        return digit, t.fold == "khong"
    if t.fold in UNAMBIGUOUS_FOLDED:
        return digit, t.fold == "khong"
    # An ambiguous bare form ("sau" after / "sáu" six, "tu" from / "tư" four) is a
    # digit between two number words, or right after one; or after "cộng" (+84).
    if not accented:
        # a mishearing: only straight between two number words ("không sao, một…" is "no problem")
        return (digit, False) if _is_number_word(tokens, i - 1) and _is_number_word(tokens, i + 1) else None
    left, right = _neighbour(tokens, i, -1), _neighbour(tokens, i, +1)
    if _is_number_word(tokens, left) and _is_number_word(tokens, right):
        return digit, False
    if left >= 0 and tokens[left].fold == "cong" and _is_number_word(tokens, right):
        return digit, False
    if _is_number_word(tokens, left):
        return digit, True
    return None


def _item_at(tokens: Sequence[Token], i: int) -> _Item | None:
    t = tokens[i]
    if t.is_digits:
        return _Item(i, "digits", t.fold)
    if t.fold == _TENS:
        return _Item(i, "tens", "")
    if t.fold == _HUNDRED:
        return _Item(i, "hundred", "")
    d = _digit_value(tokens, i)
    return _Item(i, "digit", d[0], d[1]) if d is not None else None


def _spoken_digits(items: Sequence[_Item]) -> str:
    """Digits a run of items stands for (:func:`pipeline.analysis.numerals.digit_string`)."""
    return digit_string(items)


@dataclass(frozen=True)
class _Run:
    items: tuple[_Item, ...]
    digits: str

    @property
    def first(self) -> int:
        return self.items[0].tok

    @property
    def last(self) -> int:
        return self.items[-1].tok

    @property
    def spoken(self) -> bool:
        return spelled(self.items)


def _number_runs(tokens: Sequence[Token], taken: set[int]) -> list[_Run]:
    """Maximal runs of number items, allowing separators and one filler between items."""
    runs = []
    i = 0
    n = len(tokens)
    while i < n:
        it = None if i in taken else _item_at(tokens, i)
        if it is None:
            i += 1
            continue
        items = [it]
        j = i + 1
        while j < n:
            k = j
            gap = 0
            while k < n and (tokens[k].fold in _JOINERS or (tokens[k].fold in _FILLERS and gap < 1)) and k not in taken:
                gap += tokens[k].fold in _FILLERS
                k += 1
            if k >= n or k in taken:
                break
            nxt = _item_at(tokens, k)
            if nxt is None:
                break
            # "45/3" is a house number, "12/3/2025" a date: "/" only joins plain digits there
            if any(tokens[m].fold == "/" for m in range(j, k)):
                break
            items.append(nxt)
            j = k + 1
        runs.append(_Run(tuple(items), _spoken_digits(items)))
        i = items[-1].tok + 1
    return runs


# ---------------------------------------------------------------------------
# Context

_CONTEXT = {
    "phone": [
        "so dien thoai", "dien thoai", "sdt", "so dt", "dt", "di dong", "so may", "goi", "goi lai", "lien he",
        "lien lac", "zalo", "nhan tin", "so cua", "so phone", "phone", "so thue bao", "thue bao",
    ],
    "national_id": [
        "can cuoc", "cccd", "cmnd", "cmt", "chung minh", "chung minh nhan dan", "dinh danh", "ma dinh danh",
        "so can cuoc", "the can cuoc", "ho chieu",
    ],
    "bank_account": [
        "tai khoan", "stk", "so tk", "tk", "ngan hang", "chuyen khoan", "vietcombank", "vcb", "agribank", "bidv",
        "vietinbank", "techcombank", "mbbank", "mb bank", "acb", "sacombank", "tpbank", "vpbank", "shb", "hdbank",
        "vib", "ocb", "seabank", "lienvietpostbank", "lpbank", "eximbank", "msb", "abbank", "dong a bank",
    ],
    "public": ["duong day nong", "hotline", "tong dai", "cap cuu", "cong an", "cuu hoa", "bao chay"],
    "plate": ["bien so", "bien so xe", "bien kiem soat", "bks", "bien xe"],
}
_BANKS = {w for w in _CONTEXT["bank_account"] if w not in ("tai khoan", "stk", "so tk", "tk", "ngan hang", "chuyen khoan")}
_LOOKBACK = 8  # words
_LOOKAHEAD = 3  # words, for a bank name said after the account number


def _context_kind(tokens: Sequence[Token], first: int, last: int) -> str | None:
    """Kind named by the nearest context phrase before token ``first`` (or a bank right after)."""
    words = [j for j in range(max(0, first - _LOOKBACK * 2), first) if tokens[j].is_word]
    words = words[-_LOOKBACK:]
    best = None  # (distance in words, -phrase length, kind)
    for kind, phrases in _CONTEXT.items():
        for phrase in phrases:
            parts = phrase.split()
            L = len(parts)
            for pos in range(len(words) - L + 1):
                if [tokens[j].fold for j in words[pos : pos + L]] == parts:
                    dist = len(words) - (pos + L)
                    cand = (dist, -L, kind)
                    if best is None or cand < best:
                        best = cand
    if best is not None:
        return best[2]
    after = [j for j in range(last + 1, min(len(tokens), last + 1 + _LOOKAHEAD * 2)) if tokens[j].is_word][:_LOOKAHEAD]
    for j in after:
        if tokens[j].fold in _BANKS or (tokens[j].fold == "ngan" and j + 1 < len(tokens) and tokens[j + 1].fold == "hang"):
            return "bank_account"
    return None


# A number of this many digits or more, said digit word by digit word with no context
# phrase ("tám tám ba bảy sáu năm mươi bốn"), is a phone number: amounts, dates and
# house numbers read out are shorter, or followed by a unit word (_is_amount).
MIN_SPELLED_DIGITS = 7
# Words before a number that make it a date ("tháng mười hai năm hai không hai bốn"),
# matched with their accents (or bare, when ASR dropped them all).
_DATE_BEFORE = ("tháng", "ngày", "mùng", "mồng")


def _classify(digits: str, context: str | None, spelled_only: bool = False) -> str | None:
    """The kind of a number (None: not personal data). ``spelled_only``: said wholly in words, not after a date word."""
    n = len(digits)
    if context == "public" or digits in _PUBLIC_NUMBERS:
        return None
    if context == "bank_account":
        return "bank_account" if 6 <= n <= 19 else None
    if context == "national_id":
        return "national_id" if 8 <= n <= 13 else None
    if context == "phone":
        return "phone" if 8 <= n <= 12 else None
    if digits.startswith("0") and digits[1:2] != "0" and n in (10, 11):
        return "phone"
    if digits.startswith("84") and n in (11, 12):
        return "phone"
    if digits.startswith("0") and n == 12:
        return "national_id"
    if digits.startswith("0") and digits[1:2] in ("3", "5", "7", "8", "9") and n == 9:
        return "phone"  # a mobile number with one digit lost by ASR
    if spelled_only and context is None and MIN_SPELLED_DIGITS <= n <= 12 and not _counting(digits):
        return "phone"  # read out in words without saying what it is (_spelled_only)
    return None


# Words after which a short number is a house, hamlet or group number ("thôn ba, …").
_NUMBERED_BEFORE = ("thôn", "tổ", "xóm", "khối", "nhà", "hẻm", "kiệt", "ngõ", "phòng", "lô", "khu", "buôn", "ấp")


def _without_leading_address(tokens: Sequence[Token], run: _Run) -> _Run:
    """The run without its first group when that group is a hamlet or house number
    said just before a phone number ("thôn ba, tám tám ba bảy…")."""
    before = next((tokens[j] for j in range(run.first - 1, max(-1, run.first - 3), -1) if tokens[j].is_word), None)
    if before is None or not any(before.says(w) for w in _NUMBERED_BEFORE) or _classify(run.digits, None) is not None:
        return run  # no address word before it, or a phone number as it stands ("số nhà không chín…")
    for k in range(1, len(run.items)):
        between = range(run.items[k - 1].tok + 1, run.items[k].tok)
        if any(tokens[m].fold in _SEPARATORS for m in between):
            rest = run.items[k:]
            return _Run(rest, digit_string(rest))
    return run


def _counting(digits: str) -> bool:
    """"một hai ba bốn năm sáu bảy…": someone counting (testing the line), not a number."""
    return all(int(b) == int(a) + 1 for a, b in zip(digits, digits[1:]))


def _spelled_only(tokens: Sequence[Token], run: _Run) -> bool:
    """Whether the whole run is said in words (no written digits) and is not a date."""
    if any(it.kind == "digits" for it in run.items):
        return False
    before = next((tokens[j] for j in range(run.first - 1, max(-1, run.first - 3), -1) if tokens[j].is_word), None)
    return not (before is not None and any(before.says(w) for w in _DATE_BEFORE))


def _regular(digits: str, kind: str | None) -> bool:
    """Whether ``digits`` has the usual length for ``kind`` (10-digit mobile, 11-digit landline, 12/9-digit id)."""
    n = len(digits)
    if kind == "phone":
        return (n == 10 and digits[:2] != "02") or (n == 11 and digits[:2] == "02") or (digits[:2] == "84" and n in (11, 12))
    if kind == "national_id":
        return n in (9, 12)
    return kind is not None


def _best_ending(run: _Run, context: str | None, spelled_only: bool = False) -> _Run:
    """The run, or the run without up to two weak final words ("... sau đó", "... không ạ").

    Prefers a number of regular length, then a classifiable one, then the longest.
    """
    options = [run]
    items = run.items
    while len(items) > 1 and items[-1].weak and len(options) < 3:
        items = items[:-1]
        options.append(_Run(items, _spoken_digits(items)))
    def kind(r: _Run) -> str | None:
        return _classify(r.digits, context, spelled_only)

    ranked = sorted(enumerate(options), key=lambda io: (not _regular(io[1].digits, kind(io[1])), kind(io[1]) is None, io[0]))
    return ranked[0][1]


def _is_amount(tokens: Sequence[Token], run: _Run) -> bool:
    """True for money, measures, times and counts: the number is followed by a unit word.

    A long number starting with 0 is never an amount, whatever follows it.
    """
    if run.digits.startswith("0") and len(run.digits) >= 9:
        return False
    after = next((t for t in tokens[run.last + 1 : run.last + 3] if t.is_word), None)
    if after is None:
        return False
    return normalize_text(after.text) in _UNIT_WORDS or (after.fold in _UNIT_FOLDED_SAFE and after.fold == normalize_text(after.text))


def _split_phones(run: _Run) -> list[_Run]:
    """Two or three phone numbers read one after the other: cut the run at item boundaries."""
    items = run.items
    best: dict[int, list[_Run]] = {0: []}
    for a in range(len(items)):
        if a not in best:
            continue
        for b in range(a + 1, len(items) + 1):
            digits = _spoken_digits(items[a:b])
            if len(digits) > 11:
                break
            if _classify(digits, None) == "phone" and len(digits) >= 10 and b not in best:
                best[b] = best[a] + [_Run(items[a:b], digits)]
    return best.get(len(items), [])


# ---------------------------------------------------------------------------
# Plates and e-mail

_LETTER_NAMES = {
    "a": "a", "b": "b", "be": "b", "bo": "b", "c": "c", "xe": "c", "ce": "c", "co": "c", "d": "d", "de": "d",
    "e": "e", "f": "f", "ep": "f", "g": "g", "go": "g", "h": "h", "hat": "h", "k": "k", "ca": "k", "ka": "k",
    "l": "l", "lo": "l", "m": "m", "mo": "m", "n": "n", "no": "n", "p": "p", "pe": "p", "s": "s", "et": "s",
    "t": "t", "te": "t", "u": "u", "v": "v", "ve": "v", "x": "x", "ich": "x", "y": "y", "z": "z",
}
# 47A-123.45, 47A12345, 47 B1 234 56, 47-H1 567.89, 47LD-012.34
_PLATE_RE = re.compile(
    r"(?<![\w.])(\d{2})[ \t]*[-.]?[ \t]*([a-z][ \t]?\d|[a-z]{1,2})[ \t]*[-.]?[ \t]*"
    r"(\d{3}[ \t]*[.,]?[ \t]*\d{2}|\d{4})(?![\w])"
)
_EMAIL_RE = re.compile(r"[a-z0-9][a-z0-9._+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)+", re.IGNORECASE)
_TLDS = {"com", "vn", "net", "org", "edu", "gov", "info", "io"}
_AT = (("a", "cong"), ("a", "moc"), ("acong",), ("amoc",), ("@",))
_EMAIL_STOP = set(
    "la email mail imeo meo gmail dia chi cua toi em anh chi minh thu hop ten gui vao qua so".split()
)


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if unicodedata.category(ch).startswith("M"):
        return ""
    folded = fold_accents(ch)
    return folded if folded else ch.lower()


def _fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """Accent-folded lower-case text with punctuation kept, and each char's offset in ``text``."""
    out, where = [], []
    for i, ch in enumerate(text):
        f = _fold_char(ch)
        out.append(f)
        where.extend([i] * len(f))
    return "".join(out), where


def _plate_spans(text: str, folded: str, where: list[int]) -> list[PiiSpan]:
    spans = []
    for m in _PLATE_RE.finditer(folded):
        series = m.group(2).replace(" ", "")
        # two letters only when written solid ("47LD"), so "12 ba 3456" stays a number
        if len(series) == 2 and series.isalpha() and (m.start(2) != m.end(1)):
            continue
        code = int(m.group(1))
        if not 11 <= code <= 99:
            continue
        s, e = where[m.start()], where[m.end() - 1] + 1
        spans.append(PiiSpan("plate", s, e, text[s:e]))
    return spans


def _spoken_plates(text: str, tokens: Sequence[Token], taken: set[int]) -> list[PiiSpan]:
    """Plates read out after "biển số": "bốn bảy a một hai ba bốn năm", "47 bê một 234 56"."""
    spans = []
    for i in range(len(tokens)):
        if not (tokens[i].fold == "bien" and i + 1 < len(tokens) and tokens[i + 1].fold in ("so", "kiem")) and tokens[i].fold != "bks":
            continue
        j = i + 1 if tokens[i].fold == "bks" else i + 2
        if j < len(tokens) and tokens[j - 1].fold == "kiem" and tokens[j].fold == "soat":
            j += 1
        # skip a few words up to the province code: "biển số xe tải là 47…"
        while j < len(tokens) and j < i + 7 and _item_at(tokens, j) is None:
            j += 1
        # province code: two digits or two digit words
        code_items, k = [], j
        while k < len(tokens) and len("".join(x.value for x in code_items)) < 2:
            it = _item_at(tokens, k)
            if it is None or it.kind not in ("digits", "digit"):
                break
            code_items.append(it)
            k += 1
        code = "".join(x.value for x in code_items)
        if len(code) == 2 and k < len(tokens):
            letter = tokens[k].fold
            if letter in _LETTER_NAMES or re.fullmatch(r"[a-z]\d?", letter):
                k += 1
                if k < len(tokens) and tokens[k].fold == "-":
                    k += 1
                digits, last = "", None
                while k < len(tokens):
                    if tokens[k].fold in _SEPARATORS:
                        k += 1
                        continue
                    it = _item_at(tokens, k)
                    if it is None or it.kind not in ("digits", "digit") or len(digits) >= 6:
                        break
                    digits += it.value
                    last = k
                    k += 1
                if last is not None and 4 <= len(digits) <= 6:
                    s, e = tokens[j].start, tokens[last].end
                    spans.append(PiiSpan("plate", s, e, text[s:e]))
                    taken.update(range(j, last + 1))
    return spans


def _email_spans(text: str, folded: str, where: list[int], tokens: Sequence[Token]) -> list[PiiSpan]:
    spans = []
    for m in _EMAIL_RE.finditer(folded):
        s, e = where[m.start()], where[m.end() - 1] + 1
        spans.append(PiiSpan("email", s, e, text[s:e]))
    # spoken: "nguyenvana a còng gmail chấm com"
    folds = [t.fold for t in tokens]
    i = 0
    while i < len(tokens):
        at = next((a for a in _AT if tuple(folds[i : i + len(a)]) == a), None)
        if at is None or i == 0:
            i += 1
            continue
        # domain: word ("chấm"|".") word … ending on a known top-level domain
        k, last = i + len(at), None
        while k < len(tokens) and tokens[k].is_word:
            if k + 2 < len(tokens) and folds[k + 1] in ("cham", ".") and tokens[k + 2].is_word:
                k += 2
                if folds[k] in _TLDS:
                    last = k
                    if not (k + 2 < len(tokens) and folds[k + 1] in ("cham", ".") and folds[k + 2] in _TLDS):
                        break
                continue
            break
        if last is None:
            i += 1
            continue
        # local part: up to four words back, not crossing a stop word or punctuation
        b = i - 1
        first = None
        while b >= 0 and i - b <= 4 and (tokens[b].is_word or folds[b] in (".", "_")) and folds[b] not in _EMAIL_STOP:
            first = b
            b -= 1
        if first is None:
            i += 1
            continue
        s, e = tokens[first].start, tokens[last].end
        spans.append(PiiSpan("email", s, e, text[s:e]))
        i = last + 1
    return spans


# ---------------------------------------------------------------------------
# Public API


def _overlaps(span: PiiSpan, spans: Iterable[PiiSpan]) -> bool:
    return any(span.start < o.end and o.start < span.end for o in spans)


def find_pii(text: str, *, names: bool = True) -> tuple[PiiSpan, ...]:
    """Personal data in ``text``, as non-overlapping spans in order.

    Order of precedence where detectors overlap: e-mail, plate, numbers, then
    people's names (left out with ``names=False``).
    """
    tokens = tokenize(text)
    folded, where = _fold_with_offsets(text)
    found: list[PiiSpan] = []
    for span in _email_spans(text, folded, where, tokens):
        if not _overlaps(span, found):
            found.append(span)
    for span in _plate_spans(text, folded, where):
        if not _overlaps(span, found):
            found.append(span)
    taken = {i for i, t in enumerate(tokens) if _overlaps(PiiSpan("", t.start, t.end, ""), found)}
    for span in _spoken_plates(text, tokens, taken):
        if not _overlaps(span, found):
            found.append(span)
    taken = {i for i, t in enumerate(tokens) if _overlaps(PiiSpan("", t.start, t.end, ""), found)}
    for run in _number_runs(tokens, taken):
        if _is_amount(tokens, run):
            continue
        context = _context_kind(tokens, run.first, run.last)
        spelled_only = _spelled_only(tokens, run)
        if spelled_only and context is None:
            run = _without_leading_address(tokens, run)
        pieces = [_best_ending(run, context, spelled_only)]
        if len(run.digits) > 12 and context in (None, "phone"):
            pieces = _split_phones(run) or pieces
        for piece in pieces:
            kind = _classify(piece.digits, context, spelled_only)
            if kind is None:
                continue
            s, e = tokens[piece.first].start, tokens[piece.last].end
            # keep the "+" of "+84"
            if piece.first > 0 and tokens[piece.first - 1].fold == "+" and tokens[piece.first - 1].end == s:
                s -= 1
            found.append(PiiSpan(kind, s, e, text[s:e]))
    if names:
        numbers = list(found)
        for n in find_names(text, tokens):
            span = PiiSpan("person_name", n.start, n.end, text[n.start : n.end], n.cue)
            if not _overlaps(span, numbers):
                found.append(span)
    return tuple(sorted(found, key=lambda sp: sp.start))


def redact(text: str) -> Redaction:
    """``text`` with each personal-data span replaced by its tag (``[SĐT]``, ``[CCCD]``…)."""
    spans = find_pii(text)
    return Redaction(_tagged(text, spans), spans)


def redact_spans(text: str, spans: Sequence[PiiSpan]) -> str:
    """``text`` with each of ``spans`` (sorted, not overlapping, found in ``text``) replaced by its tag."""
    return _tagged(text, spans)


def redacted(text: str | None) -> str | None:
    """Free text staff or units wrote (a case note, a result), redacted as transcripts are; None stays None."""
    return redact(text).text if text else text


def _tagged(text: str, spans: Sequence[PiiSpan]) -> str:
    """``text`` with each of ``spans`` (sorted, not overlapping) replaced by its tag."""
    out, pos = [], 0
    for sp in spans:
        out.append(text[pos : sp.start])
        out.append(TAGS[sp.kind])
        pos = sp.end
    out.append(text[pos:])
    return "".join(out)


STAFF_CUES = ("self", "staff")  # name cues under which an operator's name is their own (pipeline.analysis.names)


def _kept(span: PiiSpan, role: str | None, keep_operator_name: bool) -> bool:
    """An operator introducing themselves ("em là Hương", "tổng đài viên Hương") is staff data."""
    return keep_operator_name and span.kind == "person_name" and role == "operator" and span.cue in STAFF_CUES


def redact_segments(texts: Sequence[str], roles: Sequence[str | None] | None = None, *,
                    keep_operator_name: bool = False) -> tuple[Redaction, ...]:
    """Redact consecutive transcript segments, catching data split across them.

    ASR often cuts a number read out slowly into two segments ("không chín không
    năm" | "một hai ba bốn năm sáu"). The segments are searched as one text; a span
    that crosses a boundary is tagged in each segment it touches. Returns one
    :class:`Redaction` per input text, spans in that text's offsets.

    With ``roles`` (one per text: ``operator``, ``citizen``…) and
    ``keep_operator_name``, the name an operator gives for themselves stays.
    """
    return _redact_call(texts, roles, keep_operator_name)[0]


@dataclass(frozen=True)
class CallRedaction:
    """One detection pass over a call's turns: what :func:`redact_call` and :func:`caller_initials` give."""

    redactions: tuple[Redaction, ...]  # one per turn, spans in that turn's offsets
    counts: dict  # kind -> redacted items (a split item counts once)
    caller_initials: str | None  # initials of the name a citizen gave for themselves, or None


def redact_turns(texts: Sequence[str], roles: Sequence[str | None] | None = None, *,
                 keep_operator_name: bool = False) -> CallRedaction:
    """:func:`redact_call` and :func:`caller_initials` from one run of :func:`find_pii` over the call."""
    redactions, counts, initials = _redact_call(texts, roles, keep_operator_name, with_initials=True)
    return CallRedaction(redactions, counts, initials)


def redact_call(texts: Sequence[str], roles: Sequence[str | None] | None = None, *,
                keep_operator_name: bool = False) -> tuple[tuple[Redaction, ...], dict[str, int]]:
    """:func:`redact_segments` plus the count of redacted items per kind (a split item counts once)."""
    return _redact_call(texts, roles, keep_operator_name)[:2]


def caller_initials(texts: Sequence[str], roles: Sequence[str | None] | None = None) -> str | None:
    """Initials of the name a citizen gives for themselves ("tôi tên là Nguyễn Văn Hùng" → "N.V.H.").

    Only a self-introduction in a turn that is not the operator's counts (any turn
    when ``roles`` is not given); None when the caller gave no name.
    """
    roles = list(roles) if roles is not None else [None] * len(texts)
    for text, role in zip(texts, roles):
        if role == "operator":
            continue
        for n in find_names(text):
            if n.cue == "self":
                return initials(text[n.start : n.end]) or None
    return None


def _redact_call(texts, roles, keep_operator_name, with_initials=False):
    starts, pos = [], 0
    for t in texts:
        starts.append(pos)
        pos += len(t) + 1
    joined = " ".join(texts)
    roles = list(roles) if roles is not None else [None] * len(texts)
    spans = []
    initials = None
    for sp in find_pii(joined):
        seg = max((k for k, b in enumerate(starts) if b <= sp.start), default=0)
        role = roles[seg] if seg < len(roles) else None
        if with_initials and initials is None and sp.kind == "person_name" and sp.cue == "self" and role != "operator":
            initials = name_initials(joined[sp.start : min(sp.end, starts[seg] + len(texts[seg]))]) or None
        if not _kept(sp, role, keep_operator_name):
            spans.append(sp)
    counts: dict[str, int] = {}
    for sp in spans:
        counts[sp.kind] = counts.get(sp.kind, 0) + 1
    out = []
    for t, base in zip(texts, starts):
        end = base + len(t)
        parts = [
            PiiSpan(sp.kind, max(sp.start, base) - base, min(sp.end, end) - base, joined[max(sp.start, base) : min(sp.end, end)], sp.cue)
            for sp in spans
            if sp.start < end and base < sp.end and joined[max(sp.start, base) : min(sp.end, end)].strip()
        ]
        out.append(Redaction(_tagged(t, parts), tuple(parts)))
    return tuple(out), counts, initials
