"""Vietnamese text normalisation: the one place where text is made comparable.

Used by the ASR evaluation, the topic features, search and the PII/place matchers.

- :func:`normalize_text`: NFC, lower case, one tone-mark placement, Đ/Ð unified,
  punctuation removed, whitespace collapsed.
- :func:`fold_accents`: strip every diacritic (``đ`` → ``d``), for search and for
  matching ASR output that lost its diacritics.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Combining tone marks in NFD: grave, acute, hook above, tilde, dot below.
_TONES = "\u0300\u0301\u0309\u0303\u0323"
_TONE_RE = re.compile(f"[{_TONES}]")
# Vowel cluster at the end of a syllable where the two placement styles disagree:
# old style "hòa, hòe, thúy", new style "hoà, hoè, thuý". We keep the old style,
# which is what most Vietnamese text (and Whisper) writes.
_CLUSTER_RE = re.compile(r"(?<![qQ])([oO][aAeE]|[uU][yY])$")
_PUNCT_RE = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")
_LOOKALIKE_D = str.maketrans({"Ð": "Đ", "ɖ": "đ", "Ɖ": "Đ"})


@functools.lru_cache(maxsize=1 << 17)  # a pure function of a syllable; the vocabulary is small (issue 32)
def _place_tone(syllable: str) -> str:
    """Move the tone mark of an ``oa/oe/uy`` final cluster to its first vowel."""
    nfd = unicodedata.normalize("NFD", syllable)
    tones = _TONE_RE.findall(nfd)
    if len(tones) != 1:
        return syllable
    bare = _TONE_RE.sub("", nfd)
    bare_nfc = unicodedata.normalize("NFC", bare)
    match = _CLUSTER_RE.search(bare_nfc)
    if not match:
        return syllable
    # Only plain o/u (no horn or circumflex) take part in these clusters, so the
    # first vowel is a single code point in NFC and the mark goes right after it.
    i = match.start()
    return unicodedata.normalize("NFC", bare_nfc[: i + 1] + tones[0] + bare_nfc[i + 1 :])


def nfc(text: str) -> str:
    """Unicode NFC with Đ look-alikes unified; keeps case and punctuation."""
    return unicodedata.normalize("NFC", text).translate(_LOOKALIKE_D)


def normalize_text(text: str, *, keep_punct: bool = False) -> str:
    """Canonical comparable form of Vietnamese text.

    NFC, lower case, Đ look-alikes unified, tone marks of ``oa/oe/uy`` on the first
    vowel (``hoà`` → ``hòa``), punctuation removed (unless ``keep_punct``), runs of
    whitespace collapsed to one space.
    """
    text = nfc(text).lower()
    if not keep_punct:
        text = _PUNCT_RE.sub(" ", text)
    words = _SPACE_RE.split(text.strip())
    return " ".join(_place_tone(w) for w in words if w)


def fold_accents(text: str) -> str:
    """Strip every diacritic after :func:`normalize_text`: ``Đắk Lắk`` → ``dak lak``."""
    return fold_normalized(normalize_text(text))


def fold_normalized(norm: str) -> str:
    """:func:`fold_accents` of text already through :func:`normalize_text` (which is idempotent), without
    normalising it again: the search index folds every document it normalised (issue 32)."""
    return norm.replace("đ", "d").translate(_FOLD)


class _FoldTable(dict):
    """Per character: its NFD form without combining marks, worked out once (issue 32: per character
    of every text it was most of the search index build). The same as NFD-ing the whole text and
    dropping its marks, since NFD decomposes character by character."""

    def __missing__(self, code: int) -> str:  # str.translate looks characters up by code point
        out = "".join(c for c in unicodedata.normalize("NFD", chr(code)) if unicodedata.category(c) != "Mn")
        self[code] = out
        return out


_FOLD = _FoldTable()


def syllables(text: str) -> list[str]:
    """Syllables (written words) of normalised text; a Vietnamese word is a syllable."""
    norm = normalize_text(text)
    return norm.split() if norm else []


# ---------------------------------------------------------------------------
# Tokens with offsets, for the matchers (places, pii, urgency, routing)


@dataclass(frozen=True)
class Token:
    """A word or a punctuation character of the input, with its folded form."""

    text: str  # as in the input
    fold: str  # accent-folded lower case (fold_accents); punctuation kept as is
    start: int  # char offset in the input
    end: int  # char offset just past the token
    norm: str = ""  # normalize_text of the token: lower case, accents kept

    @property
    def is_word(self) -> bool:
        return self.fold[:1].isalnum()

    @property
    def is_digits(self) -> bool:
        return self.fold.isdigit()

    @property
    def bare(self) -> bool:
        """Written without diacritics (ASR often drops them)."""
        return self.norm == self.fold

    def says(self, syllable: str) -> bool:
        """Whether this token is ``syllable`` (normalised, with accents).

        A token written with accents must carry the same ones ("chạy" is not
        "cháy"); a token written without any matches on the folded form.
        """
        return syllable_says(self.norm, self.fold, syllable, accent_free=False)


@functools.lru_cache(maxsize=4096)
def _fold_syllable(syllable: str) -> str:
    return fold_accents(syllable)


# ---------------------------------------------------------------------------
# The one rule for matching a typed phrase (a search query, a category rule's phrase)
# against written words, shared by search (pipeline.warehouse.search) and the call-category
# rules (pipeline.analysis.rules), so "phrases match as search does" holds by construction.


def is_accent_free(text: str) -> bool:
    """Typed without a single diacritic (``den duong``; ``đ`` counts as one)."""
    norm = normalize_text(text)
    return norm == fold_accents(norm)


def syllable_says(norm: str, fold: str, part: str, *, accent_free: bool) -> bool:
    """Whether a written word (its :func:`normalize_text` ``norm`` and :func:`fold_accents` ``fold``)
    is the typed syllable ``part`` (normalised).

    ``accent_free``: the whole query was typed without marks, so any accents match ("tai" finds
    "tại", "tài"). Otherwise every syllable means exactly what was typed: the same marks, or a word
    written with none at all and the same letters (ASR output that lost them). So in "công an" the
    unmarked "an" is "an", never "ăn", and in "tai nạn" "tai" is never "tại".
    """
    if accent_free:
        return fold == _fold_syllable(part)
    return norm == part or (norm == fold and fold == _fold_syllable(part))


def phrase_starts(norms: Sequence[str], folds: Sequence[str], parts: Sequence[str], *,
                  accent_free: bool) -> list[int]:
    """Indexes ``i`` where the words ``norms[i:]``/``folds[i:]`` say the syllables ``parts`` in a row
    (:func:`syllable_says`)."""
    n = len(parts)
    if not n:
        return []
    first = _fold_syllable(parts[0])
    return [i for i in range(len(norms) - n + 1)
            if folds[i] == first and all(syllable_says(norms[i + k], folds[i + k], p, accent_free=accent_free)
                                         for k, p in enumerate(parts))]


@functools.lru_cache(maxsize=4096)
def _phrase_parts(phrase: str) -> tuple[str, ...]:
    return tuple(normalize_text(phrase).split())


# Combining marks are part of a word, so NFD input tokenises like NFC input.
_TOKEN_RE = re.compile(r"[\w\u0300-\u036f]+|[^\w\s]", re.UNICODE)


def tokenize(text: str) -> tuple[Token, ...]:
    """Split ``text`` into words and single punctuation characters, keeping offsets."""
    tokens = []
    for m in _TOKEN_RE.finditer(text):
        raw = m.group()
        norm = normalize_text(raw).replace(" ", "") or raw
        folded = fold_accents(raw).replace(" ", "") or raw
        tokens.append(Token(raw, folded, m.start(), m.end(), norm))
    return tuple(tokens)


def phrase_at(words: Sequence[Token], i: int, phrase: str) -> int:
    """Tokens from ``words[i]`` that say ``phrase`` (see :meth:`Token.says`); 0 if they don't."""
    parts = _phrase_parts(phrase)
    if not parts or i + len(parts) > len(words):
        return 0
    return len(parts) if all(words[i + k].says(p) for k, p in enumerate(parts)) else 0


def find_phrases(words: Sequence[Token], phrases: Iterable[str]) -> list[tuple[int, int, str]]:
    """Every ``(first, n_tokens, phrase)`` where one of ``phrases`` is said in ``words``."""
    phrases = list(phrases)
    hits = []
    for i in range(len(words)):
        for phrase in phrases:
            n = phrase_at(words, i, phrase)
            if n:
                hits.append((i, n, phrase))
    return hits
