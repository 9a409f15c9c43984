"""Vietnamese numbers read out in words: the one word set and the one parser.

Two readings of the same words, both from here:

- **digit by digit** (:func:`digit_string`), as phone numbers, ids and accounts are
  read: "không chín không năm" → ``0905``, with the grouped forms people use in
  between ("chín mươi" → ``90``, "mười hai" → ``12``, "năm mươi bốn" → ``54``,
  "một trăm linh năm" → ``105``). :mod:`pipeline.analysis.pii` reads numbers this way.
- **as a value** (:func:`value_at`), as house, alley and hamlet numbers are read:
  "bốn mươi lăm" → 45, "một trăm hai mươi ba" → 123, "hai nghìn" → 2000.
  :mod:`pipeline.analysis.places` reads numbers this way.

Words are matched with :meth:`pipeline.textnorm.Token.says`: a token written with
accents must carry the right ones ("sáu" six, not "sau" after); a token written
without accents matches on its folded form. Deciding whether an ambiguous bare
form ("sau", "tu", "lam") is a digit in its context is left to the caller.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.textnorm import Token, fold_accents

# Accented word -> digit. "mốt" (one after a ten: "hai mốt" = 21), "lăm" (five after a
# ten), "tư" (four), "linh"/"lẻ" (zero inside a hundred: "một trăm linh năm" = 105).
DIGIT_WORDS: dict[str, str] = {
    "không": "0", "linh": "0", "lẻ": "0",
    "một": "1", "mốt": "1",
    "hai": "2",
    "ba": "3",
    "bốn": "4", "tư": "4",
    "năm": "5", "lăm": "5",
    "sáu": "6",
    "bảy": "7", "bẩy": "7",
    "tám": "8",
    "chín": "9",
}
# ASR mishearings (seen from Whisper base): never digits by themselves, only between two number words.
MISHEARD_DIGITS: dict[str, str] = {"sao": "6"}
ZERO_LINKS = ("linh", "lẻ")  # "một trăm linh năm": the zero of the tens
TEN = "mười"  # ten, and the tens of 10..19
TENS = "mươi"  # the tens of 20..99 ("hai mươi")
HUNDRED = "trăm"
THOUSAND = ("nghìn", "ngàn")

# Folded form -> (digit, the accented forms that are certainly this digit). The
# folded form of several is also a common word ("tu" from, "sau" after, "lam" do).
FOLDED_DIGITS: dict[str, tuple[str, tuple[str, ...]]] = {}
for _word, _digit in DIGIT_WORDS.items():
    _fold = fold_accents(_word)
    _prev = FOLDED_DIGITS.get(_fold, (_digit, ()))
    FOLDED_DIGITS[_fold] = (_digit, _prev[1] + (_word,))
for _word, _digit in MISHEARD_DIGITS.items():
    FOLDED_DIGITS[_word] = (_digit, ())
FOLDED_TENS = fold_accents(TEN)  # "muoi": mười and mươi fold alike
FOLDED_HUNDRED = fold_accents(HUNDRED)
# Folded forms that are digits whatever their accents (no common word folds to them
# in a number's place); the others need their accents, or number words around them.
UNAMBIGUOUS_FOLDED = ("khong", "hai", "ba", "bon", "nam", "chin", "mot")


# ---------------------------------------------------------------------------
# Digit by digit


@dataclass(frozen=True)
class NumeralItem:
    """One element of a number: written digits, a digit word, mười/mươi, trăm."""

    tok: int  # index into the caller's word tokens
    kind: str  # digits | digit | tens | hundred
    value: str  # the digits for "digits"/"digit"; "" otherwise
    weak: bool = False  # may be an ordinary word: the caller may drop it from a run's end


def digit_string(items: Sequence[NumeralItem]) -> str:
    """The digits a run of items stands for, read digit by digit with grouped forms.

    "chín mươi" → ``90``, "hai mốt" → ``21``, "ba mươi lăm" → ``35``, "mười hai" → ``12``,
    "một trăm linh năm" → ``105``, "hai trăm ba mươi" → ``230``; other digits as they come.
    """
    out = []
    i = 0
    n = len(items)
    while i < n:
        it = items[i]
        nxt = items[i + 1] if i + 1 < n else None
        if it.kind == "digits":
            out.append(it.value)
            i += 1
        elif it.kind == "digit" and nxt is not None and nxt.kind == "tens" and it.value != "0":
            after = items[i + 2] if i + 2 < n else None
            if after is not None and after.kind == "digit" and not (i + 3 < n and items[i + 3].kind in ("tens", "hundred")):
                out.append(it.value + after.value)
                i += 3
            else:
                out.append(it.value + "0")
                i += 2
        elif it.kind == "digit" and nxt is not None and nxt.kind == "hundred":
            rest = items[i + 2 : i + 5]
            if len(rest) >= 2 and rest[0].kind == "digit" and rest[0].value == "0" and rest[1].kind == "digit":
                out.append(it.value + "0" + rest[1].value)
                i += 4
            elif len(rest) >= 2 and rest[0].kind == "digit" and rest[1].kind == "tens":
                tail = rest[2] if len(rest) >= 3 and rest[2].kind == "digit" else None
                out.append(it.value + rest[0].value + (tail.value if tail else "0"))
                i += 5 if tail else 4
            else:
                out.append(it.value + "00")
                i += 2
        elif it.kind == "tens":
            if nxt is not None and nxt.kind == "digit" and nxt.value != "0":
                out.append("1" + nxt.value)
                i += 2
            else:
                out.append("10")
                i += 1
        elif it.kind == "hundred":
            out.append("100")
            i += 1
        else:
            out.append(it.value)
            i += 1
    return "".join(out)


def spelled(items: Sequence[NumeralItem]) -> bool:
    """Whether any part of the run was said in words (not written as digits)."""
    return any(it.kind != "digits" for it in items)


# ---------------------------------------------------------------------------
# As a value


def digit_at(words: Sequence[Token], j: int, *, first: bool = True) -> int | None:
    """The digit the word ``words[j]`` says (0..9), or None. "mốt" is 1 only after a ten (``first`` False)."""
    if j >= len(words):
        return None
    w = words[j]
    if not first and w.says("mốt"):
        return 1
    return next((int(d) for word, d in DIGIT_WORDS.items() if word != "mốt" and w.says(word)), None)


def small_value_at(words: Sequence[Token], i: int) -> tuple[int, int] | None:
    """A number 1..99 read out at ``words[i]``: ``(n_tokens, value)`` or None.

    "ba" → 3, "mười hai" → 12, "hai mươi" → 20, "hai mươi mốt" → 21.
    """
    if i >= len(words):
        return None
    if words[i].says(TEN):
        d = digit_at(words, i + 1, first=False)
        return (2, 10 + d) if d else (1, 10)
    d = digit_at(words, i)
    if not d:
        return None
    if i + 1 < len(words) and words[i + 1].says(TENS):
        u = digit_at(words, i + 2, first=False)
        return (3, d * 10 + u) if u else (2, d * 10)
    return 1, d


def hundreds_at(words: Sequence[Token], j: int) -> tuple[int, int] | None:
    """A number 1..999 read out at ``words[j]``: ``(n_tokens, value)`` or None ("một trăm linh năm" → 105)."""
    d = small_value_at(words, j)
    if d and d[0] == 1 and d[1] < 10 and j + 1 < len(words) and words[j + 1].says(HUNDRED):
        k, value = j + 2, d[1] * 100
        if k < len(words) and any(words[k].says(z) for z in ZERO_LINKS):
            u = small_value_at(words, k + 1)
            if u and u[0] == 1 and u[1] < 10:
                return k + 2 - j, value + u[1]
            return k - j, value
        rest = small_value_at(words, k)
        return (k + rest[0] - j, value + rest[1]) if rest else (k - j, value)
    return d


def value_at(words: Sequence[Token], i: int) -> tuple[int, int] | None:
    """A number 1..9999 read out at ``words[i]``: ``(n_tokens, value)`` or None.

    "bốn mươi lăm" → 45, "một trăm linh năm" → 105, "một trăm hai mươi ba" → 123,
    "hai nghìn" → 2000, "hai nghìn ba trăm" → 2300.
    """
    if i >= len(words):
        return None
    first = hundreds_at(words, i)
    if first is None:
        return None
    n, value = first
    if i + n < len(words) and any(words[i + n].says(t) for t in THOUSAND) and value < 10:
        rest = hundreds_at(words, i + n + 1)
        n, value = (n + 1 + rest[0], value * 1000 + rest[1]) if rest else (n + 1, value * 1000)
    return n, value


# ---------------------------------------------------------------------------
# Saying a number: the words a speaker (and the recogniser) gives for digits


UNIT_WORDS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
SCALES = ((10**9, "tỷ"), (10**6, "triệu"), (10**3, "nghìn"))


def _say_below_100(n: int, *, after_hundred: bool = False) -> list[str]:
    """1..99 ("mười lăm", "hai mươi mốt", "ba mươi tư"); 1..9 after a hundred takes "linh"."""
    tens, unit = divmod(n, 10)
    if tens == 0:
        return (["linh"] if after_hundred else []) + [UNIT_WORDS[unit]]
    head = ["mười"] if tens == 1 else [UNIT_WORDS[tens], "mươi"]
    if unit == 0:
        return head
    if unit == 5:
        return head + ["lăm"]
    if unit == 1 and tens > 1:
        return head + ["mốt"]
    if unit == 4 and tens > 1:
        return head + ["tư"]
    return head + [UNIT_WORDS[unit]]


def _say_below_1000(n: int, *, full: bool) -> list[str]:
    """0..999; ``full`` says the hundreds even when they are zero ("không trăm linh năm" inside 1005)."""
    hundreds, rest = divmod(n, 100)
    if hundreds == 0 and not full:
        return _say_below_100(rest) if rest else []
    words = [UNIT_WORDS[hundreds], "trăm"]
    return words + (_say_below_100(rest, after_hundred=True) if rest else [])


def say_number(value: int) -> str:
    """The words for a whole number ≥ 0 as it is read as a value.

    45 → "bốn mươi lăm", 105 → "một trăm linh năm", 2024 → "hai nghìn không trăm hai mươi tư",
    2500000 → "hai triệu năm trăm nghìn". The inverse of :func:`value_at` for 1..9999.
    """
    if value < 0:
        raise ValueError(f"say_number takes a whole number ≥ 0, not {value}")
    if value == 0:
        return "không"
    words: list[str] = []
    rest = value
    for size, name in SCALES:
        if rest >= size:
            head, rest = divmod(rest, size)
            words += (say_number(head).split() if head >= 1000 else _say_below_1000(head, full=False)) + [name]
    if rest:
        words += _say_below_1000(rest, full=bool(words))
    return " ".join(words)


def say_digits(digits: str) -> str:
    """Digits read one by one, as phone numbers and codes are: "0905" → "không chín không năm"."""
    return " ".join(UNIT_WORDS[int(d)] for d in digits if d.isdigit())
