"""Written Vietnamese turned into what the recogniser writes: the text a decoder's language model is trained on.

viet-asr writes lower case, no punctuation, numbers as words. A language model that
fuses into its beam search has to be trained on text in that form, so written text
(laws, encyclopaedia, a hotline's corrected transcripts, a gazetteer) is turned into
it here, one sentence in, zero or more sentences out:

- NFC, lower case, one tone-mark placement (:func:`pipeline.textnorm.normalize_text`);
- sentences split again at ``. ! ? ; :`` and line breaks; commas and other punctuation
  dropped (the model writes none);
- integers read out as the standard reading ("45" → "bốn mươi lăm", "2015" → "hai
  nghìn không trăm mười lăm", "1.000" → "một nghìn"), decimals with "phẩy", "%" as
  "phần trăm", dates d/m/y as "ngày tháng năm" words;
- a sentence still holding digits mixed with letters ("A4", "covid-19b") is dropped
  rather than guessed; so is one with fewer than :data:`MIN_WORDS` words;
- redaction placeholders of the hotline's own text (``[SĐT]``, ``<name>``…) cut the
  sentence there: what was removed is not guessed either.

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import functools

from pipeline.textnorm import normalize_text, nfc

MIN_WORDS = 2  # shorter sentences carry no n-gram context worth the noise

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
SCALES = ((10**9, "tỷ"), (10**6, "triệu"), (10**3, "nghìn"))
MAX_READ = 10**12  # longer digit strings are read digit by digit (phone numbers, ids)

_SENTENCE_SPLIT = re.compile(r"[.!?;:…\n]+(?=\s|$)|[\n]+")
_PLACEHOLDER = re.compile(r"\[[^\]]*\]|<[^>]*>|\{[^}]*\}")
_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b")
_PERCENT = re.compile(r"(\d)\s*%")
_DECIMAL = re.compile(r"\b(\d+),(\d+)\b")
_GROUPED = re.compile(r"\b\d{1,3}(?:\.\d{3})+\b")
_NUMBER = re.compile(r"\d+")
_RANGE = re.compile(r"(\d)\s*[-–]\s*(\d)")


def read_below_thousand(n: int, *, full: bool) -> list[str]:
    """0..999 in words; ``full``: inside a larger number, so "không trăm" and "linh" are said."""
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    out: list[str] = []
    if hundreds or full:
        out += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units and out:
            out += ["linh", DIGITS[units]]
        elif units or not out:
            out.append(DIGITS[units])
        return out
    if tens == 1:
        out.append("mười")
    else:
        out += [DIGITS[tens], "mươi"]
    if units == 1:
        out.append("mốt" if tens > 1 else "một")
    elif units == 4:
        out.append("tư" if tens > 1 else "bốn")
    elif units == 5:
        out.append("lăm")
    elif units:
        out.append(DIGITS[units])
    return out


def read_number(n: int) -> list[str]:
    """A non-negative integer read out: 45 → bốn mươi lăm, 2015 → hai nghìn không trăm mười lăm."""
    if n < 1000:
        return read_below_thousand(n, full=False)
    for scale, name in SCALES:
        if n >= scale:
            head, rest = divmod(n, scale)
            out = read_number(head) + [name]
            if rest:
                out += _read_rest(rest, scale)
            return out
    raise AssertionError(n)  # pragma: no cover


def _read_rest(rest: int, scale: int) -> list[str]:
    """The part below ``scale`` of a larger number: lower groups said in full ("không trăm linh năm")."""
    if scale == 1000:
        return read_below_thousand(rest, full=True)
    lower = scale // 1000
    head, tail = divmod(rest, lower)
    out: list[str] = []
    if head:
        out += read_below_thousand(head, full=True) + [dict(SCALES)[lower]]
    if tail:
        out += _read_rest(tail, lower) if lower > 1 else []
    return out


def read_digits(text: str) -> list[str]:
    """A digit string as words: a number up to MAX_READ, else digit by digit; leading zeros digit by digit."""
    if len(text) > 1 and text.startswith("0") or int(text) >= MAX_READ:
        return [DIGITS[int(c)] for c in text]
    return read_number(int(text))


def _date_words(m: re.Match) -> str:
    day, month, year = int(m.group(1)), int(m.group(2)), m.group(3)
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return m.group(0).replace("/", " trên ")
    words = ["ngày", *read_number(day), "tháng", *read_number(month)]
    if year:
        words += ["năm", *read_digits(year)]
    return " " + " ".join(words) + " "


def spoken_sentences(text: str) -> Iterator[str]:
    """Sentences of ``text`` in the recogniser's form, one string each (may yield none)."""
    text = nfc(text)
    for part in _SENTENCE_SPLIT.split(text):
        for piece in _PLACEHOLDER.split(part):
            sentence = spoken_form(piece)
            if sentence and len(sentence.split()) >= MIN_WORDS:
                yield sentence


def spoken_form(piece: str) -> str:
    """One piece of written text in the recogniser's form; "" when it cannot be read without guessing."""
    s = _DATE.sub(_date_words, piece)
    s = _PERCENT.sub(r"\1 phần trăm", s)
    s = _RANGE.sub(r"\1 đến \2", s)
    s = _GROUPED.sub(lambda m: m.group(0).replace(".", ""), s)
    s = _DECIMAL.sub(lambda m: f"{m.group(1)} phẩy {m.group(2)}", s)
    words = []
    for raw in _PUNCT.sub(" ", s.lower()).split():
        w = _word_form(raw)
        if not w:
            continue
        if w.isascii() and w.isdigit():
            words += read_digits(w)
        elif any(c.isdigit() for c in w):
            return ""  # "a4", "h5n1": no reading we can be sure of
        else:
            words.append(w)
    return " ".join(words)


_PUNCT = re.compile(r"[^\w\s]|_", re.UNICODE)


@functools.lru_cache(maxsize=200_000)
def _word_form(word: str) -> str:
    """One lower-case word in :func:`pipeline.textnorm.normalize_text` form (cached: text has few distinct words)."""
    return normalize_text(word).replace(" ", "")


def spoken_lines(lines: Iterable[str]) -> Iterator[str]:
    """:func:`spoken_sentences` over many lines of written text."""
    for line in lines:
        yield from spoken_sentences(line)
