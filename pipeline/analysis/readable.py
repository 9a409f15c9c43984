"""The readable transcript: what people read, kept apart from the normalised text machines read.

The recogniser writes "dạ em ở số bốn mươi lăm đường quang trung phường tân lợi chị ơi";
people read "Dạ, em ở số 45 đường Quang Trung, phường Tân Lợi, chị ơi." Search, topics, PII
and places keep reading the normalised text (``segments.text``); the readable form is stored
beside it (``segments.readable``, migration 014) and shown on the call page, in transcript
exports, and wherever a person reads a transcript.

:func:`make_readable` builds it from any transcript text, in four steps:

1. the case and punctuation model (:mod:`models.readable_text`) tags each syllable;
2. gazetteer names (``models/data/gazetteer_daklak.csv``, ``streets_bmt.csv``, with their
   aliases) are written as the gazetteer writes them where a place word precedes them
   ("phường tân lợi") or the model put a capital on them, and names of three syllables or
   more wherever they occur;
3. numbers people write in digits become digits (:mod:`pipeline.analysis.written_numbers`);
4. sentence starts get a capital, a question gets its question mark (the spoken question
   words), and the turn ends with a full stop or a question mark.

Redaction tags ("[SĐT]") pass through as they are. Each written token keeps the range of
syllables it stands for, so word times follow the written form (``align``). Pure apart
from loading the model and the gazetteer once.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from models.readable_text import ReadableTags, load_readable_model
from pipeline.analysis import pii
from pipeline.analysis.places import default_gazetteer
from pipeline.analysis.spoken import TAG_RE, spoken_text
from pipeline.analysis.written_numbers import ADDRESS_BEFORE, DIGIT, write_numbers

# Words before a place name that make it one: the name is written as the gazetteer writes it.
PLACE_WORDS = {"phường", "xã", "huyện", "tỉnh", "quận", "đường", "phố", "hẻm", "kiệt", "thôn", "buôn", "ấp", "xóm",
               "khu", "cầu", "chợ", "sông", "hồ", "tp", "thị trấn", "thành phố", "thị xã", "tổ dân phố", "quốc lộ",
               "ngã tư", "ngã ba", "khối", "ở", "tại"}
# Words naming a place or an institution before its proper name ("sân Hòa Xuân", "bệnh viện Thống
# Nhất", "tập đoàn Thành Công"): a gazetteer name after them is written as the gazetteer writes it,
# but unlike PLACE_WORDS they keep the case the model gave them ("Bệnh viện Thống Nhất" in news).
# Not "trường" or "bản": "thị trường thống nhất", "văn bản" are common words.
NAMING_WORDS = {"sân", "bệnh viện", "tập đoàn", "công ty", "nhà máy", "bến xe", "bến", "cụm", "làng", "khu công nghiệp",
                "khu dân cư", "ngõ", "đại lộ", "tỉnh lộ", "khu phố"}
# Spoken question words that end a question ("chị ở đâu", "có ai xử lý không"), and the
# particles that may follow them ("… không ạ", "… chưa vậy").
QUESTION_ENDS = {"không", "chưa", "à", "hả", "hử", "nhỉ", "chứ", "sao", "gì", "đâu", "nào", "ai", "mấy", "hở"}
QUESTION_PHRASES = ("bao nhiêu", "bao giờ", "thế nào", "ra sao", "làm sao", "được không", "phải không", "có không",
                    "hay không", "đúng không", "vậy sao")
QUESTION_TAIL = {"ạ", "vậy", "thế", "nhỉ", "nhé", "anh", "chị", "em", "cô", "chú", "bác", "ông", "bà", "ha", "hả"}
# Words that open a question whatever its last word is ("chị cho em hỏi bao giờ thì phường xuống").
ASKING = ("cho em hỏi", "cho tôi hỏi", "cho cháu hỏi", "cho chị hỏi", "cho anh hỏi", "cho hỏi", "xin hỏi")
# Words of a phone call never written with a capital inside a sentence: particles, and the
# pronouns of address unless a name follows ("Bà Rịa") or, for "anh", a word that makes it England.
PARTICLES = {"ạ", "à", "ơi", "nhé", "nhỉ", "dạ", "vâng", "ừ", "hả", "alo", "nha", "nhá", "ờ", "ừm"}
ADDRESS_WORDS = {"anh", "chị", "em", "ông", "bà", "cô", "chú", "bác", "cháu", "con", "mình", "tôi", "cậu", "dì"}
_ENGLAND_BEFORE = {"nước", "tiếng", "người", "quốc", "vương", "hoàng", "đế", "thủ", "với", "và", "ở", "tại", "sang"}
# "không" ends a question only after a "có"/"được"/"phải" earlier in the sentence ("có ai xuống không").
_KHONG_NEEDS = {"có", "được", "phải", "đã", "còn", "muốn", "cần", "biết", "thấy", "nhận", "xong"}


@dataclass(frozen=True)
class Readable:
    """One turn's readable text."""

    text: str  # "Dạ, em ở số 45 đường Quang Trung."
    align: tuple[int, ...] = ()  # syllables of the normalised input per written token (sums to their count)
    syllables: int = 0  # syllables of the normalised input

    @property
    def align_text(self) -> str:
        """``align`` as stored ("1 1 3 1"), "" when empty."""
        return " ".join(str(n) for n in self.align)


@dataclass(frozen=True)
class _Name:
    syllables: tuple[str, ...]  # spoken, normalised
    written: tuple[tuple[str, int], ...]  # (written word, syllables it covers)
    alias: bool = False  # an alias: the name itself wins when both are said alike

    @property
    def numeric(self) -> bool:
        """Said with number words ("mười tháng ba"): a date as often as the street."""
        return any(s in DIGIT or s in ("mười", "mươi", "trăm") for s in self.syllables)


@functools.lru_cache(maxsize=1)
def gazetteer_names() -> dict[str, tuple[_Name, ...]]:
    """Gazetteer names and aliases by first spoken syllable, longest first."""
    gaz = default_gazetteer()
    spellings: dict[str, bool] = {}
    for target in (*gaz.units, *gaz.streets):
        for k, spelling in enumerate((target.name, *target.aliases)):
            if spelling and spelling.strip():
                key = " ".join(spelling.split())
                spellings[key] = spellings.get(key, True) and k > 0
    names: dict[str, list[_Name]] = {}
    for spelling, alias in sorted(spellings.items()):
        parts = []
        for word in spelling.split():
            n = len(spoken_text(word).split())
            if n:
                parts.append((word, n))
        syl = tuple(spoken_text(spelling).split())
        if syl and sum(n for _, n in parts) == len(syl) and any(w[:1].isupper() for w, _ in parts):
            names.setdefault(syl[0], []).append(_Name(syl, tuple(parts), alias))
    return {k: tuple(sorted(v, key=lambda x: (-len(x.syllables), x.alias))) for k, v in names.items()}


def _place_word_before(words: Sequence[str], i: int, kinds=PLACE_WORDS) -> bool:
    return (i >= 1 and words[i - 1] in kinds) or (i >= 2 and f"{words[i - 2]} {words[i - 1]}" in kinds) or \
        (i >= 3 and f"{words[i - 3]} {words[i - 2]} {words[i - 1]}" in kinds)


def _names_in(words: Sequence[str], cases: Sequence[int], pieces) -> dict[int, _Name]:
    """Gazetteer names to write as the gazetteer does, by first syllable index."""
    names = gazetteer_names()
    # right after an address number ("hẻm 123 lê duẩn", "số 45 quang trung")
    after_number = {p.end for p in pieces if p.number and p.start >= 1 and words[p.start - 1] in ADDRESS_BEFORE}
    found: dict[int, _Name] = {}
    i = 0
    while i < len(words):
        hit = None
        for name in names.get(words[i], ()):
            n = len(name.syllables)
            if tuple(words[i : i + n]) == name.syllables and (
                    _place_word_before(words, i) or _place_word_before(words, i, NAMING_WORDS) or i in after_number
                    or cases[i] != 0 or (n >= 3 and not name.numeric)):
                hit = name
                break
        if hit:
            found[i] = hit
            i += len(hit.syllables)
        else:
            i += 1
    return found


def _cased(syllable: str, case: int, mixed: str) -> str:
    if case == 1:
        return syllable[:1].upper() + syllable[1:]
    if case == 2:
        return syllable.upper()
    if case == 3:
        return mixed or (syllable[:1].upper() + syllable[1:])
    return syllable


def _is_question(words: Sequence[str], start: int, end: int) -> bool:
    """Whether the sentence ``words[start:end]`` asks something, from its last words."""
    k = end
    while k > start + 1 and words[k - 1] in QUESTION_TAIL:
        k -= 1
    if k <= start:
        return False
    tail = " ".join(words[max(start, k - 2) : k])
    if any(tail.endswith(p) for p in QUESTION_PHRASES):
        return True
    sentence = f" {' '.join(words[start:k])} "
    if any(f" {a} " in sentence for a in ASKING + ("tại sao", "vì sao")):
        return True
    if " bao giờ " in sentence and not any(f" {n} bao giờ " in sentence for n in ("chưa", "không", "chẳng")):
        return True  # "bao giờ thì có người xuống" asks; "chưa bao giờ" (never) does not
    last = words[k - 1]
    if last == "không":
        return any(w in _KHONG_NEEDS for w in words[start : k - 1])
    return last in QUESTION_ENDS and k - start >= 2


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int
    word: bool  # letters (may take a capital)
    tag: bool = False


def _tokens(words: list[str], tags, names: dict[int, _Name], pieces) -> list[_Token]:
    out: list[_Token] = []
    i = 0
    by_start = {p.start: p for p in pieces}
    while i < len(words):
        if i in names:
            name = names[i]
            at = i
            for written, n in name.written:
                out.append(_Token(written, at, at + n, True))
                at += n
            i = at
            continue
        p = by_start.get(i)
        if p is not None and p.number and not any(k in names for k in range(p.start + 1, p.end)):
            out.append(_Token(p.text, p.start, p.end, False))
            i = p.end
            continue
        if p is not None and not p.number and p.text != words[i]:  # "rưỡi" written "30" after giờ
            out.append(_Token(p.text, i, i + 1, False))
            i += 1
            continue
        out.append(_Token(_cased(words[i], tags.cases[i], tags.mixed[i]), i, i + 1, True))
        i += 1
    return out


def _spoken_cases(words: Sequence[str], tags: ReadableTags, names: dict[int, _Name]) -> ReadableTags:
    """The model's cases with what written text taught it wrongly for speech set right: a place
    word before a gazetteer name is lower case ("đường Quang Trung"), so are the particles and,
    unless a capital follows, the pronouns of address (a sentence start gets its capital later)."""
    cases = list(tags.cases)
    for i in names:
        for k in range(max(0, i - 3), i):
            if " ".join(words[k:i]) in PLACE_WORDS:
                cases[k:i] = [0] * (i - k)
                break
    for i, w in enumerate(words):
        if w in PARTICLES:
            cases[i] = 0
        elif w in ADDRESS_WORDS and cases[i] != 0 and (i + 1 == len(words) or cases[i + 1] == 0):
            if not (w == "anh" and i >= 1 and words[i - 1] in _ENGLAND_BEFORE):
                cases[i] = 0
    return ReadableTags(tuple(cases), tags.puncts, tags.mixed)


@dataclass(frozen=True)
class WrittenToken:
    """One token of the readable text and the input syllables it stands for."""

    text: str  # as written, without the punctuation after it
    punct: str  # "", ",", "." or "?" written after it
    start: int  # first input syllable
    end: int  # one past the last input syllable
    number: bool = False  # digits written for spoken numbers
    tag: bool = False  # a redaction tag


def input_syllables(text: str) -> tuple[list[str], dict[int, str]]:
    """The normalised syllables of ``text`` (numbers in words) and the redaction tags among them, by index."""
    words: list[str] = []
    tag_at: dict[int, str] = {}
    pos = 0
    for m in TAG_RE.finditer(text or ""):
        words += spoken_text(text[pos : m.start()]).split()
        tag_at[len(words)] = m.group()
        words.append("<tag>")
        pos = m.end()
    words += spoken_text((text or "")[pos:]).split()
    return words, tag_at


def written_tokens(words: list[str], tag_at: dict[int, str], model) -> list[WrittenToken]:
    """The readable tokens of normalised ``words`` (see the module's four steps)."""
    if not words:
        return []
    tags = model.tag(words)
    pieces = write_numbers(words)
    names = _names_in(words, tags.cases, pieces)
    tags = _spoken_cases(words, tags, names)
    tokens = [(_Token(tag_at[t.start], t.start, t.end, False, tag=True) if t.start in tag_at else t)
              for t in _tokens(words, tags, names, pieces)]
    puncts = list(tags.puncts)
    for i, name in names.items():  # no comma between a place word and its name, nor inside a name
        for k in range(i - 1 if _place_word_before(words, i) else i, i + len(name.syllables) - 1):
            if k >= 0 and puncts[k] == 1:
                puncts[k] = 0
    last = tokens[-1].end - 1
    if puncts[last] in (0, 1):  # the turn ends a sentence
        puncts[last] = 2
    out: list[WrittenToken] = []
    sentence_start = 0
    capital_next = True
    for tok in tokens:
        word = tok.text
        if capital_next and tok.word and word[:1].isalpha():
            word = word[:1].upper() + word[1:]
        capital_next = False
        p = puncts[tok.end - 1]
        if p in (2, 3):
            p = 3 if (p == 3 or _is_question(words, sentence_start, tok.end)) else 2
            sentence_start = tok.end
            capital_next = True
        out.append(WrittenToken(word, ("", ",", ".", "?")[p], tok.start, tok.end,
                                number=not tok.word and not tok.tag, tag=tok.tag))
    return out


def make_readable(text: str, model) -> Readable:
    """The readable form of one turn's ``text`` (normalised or not; redaction tags kept).

    ``model``: a :class:`models.readable_text.ReadableModel`. Returns an empty
    :class:`Readable` for text without words.
    """
    words, tag_at = input_syllables(text)
    tokens = written_tokens(words, tag_at, model)
    if not tokens:
        return Readable("")
    return Readable(" ".join(t.text + t.punct for t in tokens), tuple(t.end - t.start for t in tokens), len(words))


def readable_texts(texts: Sequence[str], model) -> list[Readable]:
    """:func:`make_readable` of each turn."""
    return [make_readable(t, model) for t in texts]


_WORD_RE = re.compile(r"\w", re.UNICODE)


def first_capital(text: str) -> str:
    """``text`` with its first letter in capitals (summaries, headings)."""
    m = _WORD_RE.search(text or "")
    return text if not m else text[: m.start()] + text[m.start()].upper() + text[m.start() + 1 :]


def redact_numbers(text: str) -> str:
    """``text`` with the phone, ID, account, plate and e-mail numbers :func:`pipeline.analysis.pii.find_pii`
    finds in it replaced by their tags: digits the readable form wrote are checked once more."""
    spans = pii.find_pii(text, names=False)
    return pii.redact_spans(text, spans) if spans else text


def readable_turn(raw: str, redacted: str, model, n_words: int = 0) -> tuple[str, str, str]:
    """(shown, raw, align) for one turn: the readable form of the redacted text (numbers redacted once
    more), of the raw text, and the raw form's recogniser words per token ("" unless the
    turn's ``n_words`` recogniser words are its syllables one to one)."""
    r_raw = make_readable(raw, model)
    align = r_raw.align_text if n_words and r_raw.syllables == n_words else ""
    shown = r_raw.text if redacted == raw else make_readable(redacted, model).text
    return redact_numbers(shown), r_raw.text, align


def redacted_correction(typed: str, redacted_normalised: str, model=None) -> str:
    """What roles that see redacted text see of a QA correction ``typed`` in readable form.

    The typed text redacted as it is (:func:`pipeline.analysis.pii.redact`: digits, capitals
    and all), unless that hides less than the redaction of its normalised form
    (``redacted_normalised``) did: then the readable form of the redacted normalised text.
    """
    shown = pii.redact(typed).text
    want = Counter(TAG_RE.findall(redacted_normalised))
    have = Counter(TAG_RE.findall(shown))
    if all(have[tag] >= n for tag, n in want.items()):
        return shown
    if model is None:
        model = load_readable_model()
    return redact_numbers(make_readable(redacted_normalised, model).text)
