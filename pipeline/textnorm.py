"""Vietnamese text normalisation: the one place where text is made comparable.

Used by the ASR evaluation, the topic features, search and the PII/place matchers.

- :func:`normalize_text`: NFC, lower case, one tone-mark placement, Đ/Ð unified,
  punctuation removed, whitespace collapsed.
- :func:`fold_accents`: strip every diacritic (``đ`` → ``d``), for search and for
  matching ASR output that lost its diacritics.
"""

from __future__ import annotations

import re
import unicodedata

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
    text = normalize_text(text).replace("đ", "d")
    nfd = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in nfd if unicodedata.category(ch) != "Mn")


def syllables(text: str) -> list[str]:
    """Syllables (written words) of normalised text; a Vietnamese word is a syllable."""
    norm = normalize_text(text)
    return norm.split() if norm else []
