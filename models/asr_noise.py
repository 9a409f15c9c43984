"""Text that looks like what a recogniser writes: the default viet-asr, or Whisper (:func:`make_asr_like`).

viet-asr output is lower case, has no punctuation, keeps its diacritics (it rarely
loses them: it writes a *different* syllable instead), spells numbers as words and
drops syllables, mostly where speech is fast or quiet. The default rates below are
those measured by ``scripts/vietasr_errors.py`` on viet-asr's output for 164 clips of
../shared/eval (asr-dev and the start of fosd-pool, 2,148 reference syllables,
syllable error rate 0.36; aggregate counts only, see ``docs/understanding.md``); no
clip text is used.

Pure Python; used by the topic and sentiment trainers and by the scripts that write
ASR-like test files.
"""

from __future__ import annotations

import random
import re
import unicodedata

from pipeline.textnorm import fold_accents, normalize_text

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
_INITIALS = sorted("ngh ng gh gi kh ph th tr ch nh qu b c d đ g h k l m n p r s t v x".split(), key=len, reverse=True)
# Initials viet-asr confuses (each pair both ways): voicing, place, southern merges.
_INITIAL_PAIRS = [("tr", "ch"), ("s", "x"), ("gi", "d"), ("r", "d"), ("v", "d"), ("l", "n"), ("b", "m"),
                  ("đ", "d"), ("t", "th"), ("c", "kh"), ("h", "kh"), ("ng", "nh"), ("ph", "b"), ("g", "h")]
# Rhymes (without tone) it confuses: final n/ng, t/c, nh/n, and vowel quality.
_RHYME_SUBS = [("n", "ng"), ("t", "c"), ("nh", "n"), ("ươ", "ư"), ("iê", "i"), ("ai", "ay"), ("ao", "au"),
               ("ô", "o"), ("ơ", "â"), ("ă", "a"), ("ê", "e"), ("uô", "u"), ("anh", "ăn"), ("ưu", "iu")]
_SHORT = ("à", "ờ", "thì", "là", "mà", "và", "ạ", "có", "cho", "nó")


def _read_below_1000(n: int, full: bool) -> list[str]:
    h, t, u = n // 100, n // 10 % 10, n % 10
    out: list[str] = []
    if h or full:
        out += [_DIGITS[h], "trăm"]
    if t == 0:
        if u and (h or full):
            out.append("linh")
        if u:
            out.append(_DIGITS[u])
        return out
    if t == 1:
        out.append("mười")
    else:
        out += [_DIGITS[t], "mươi"]
    if u == 1 and t > 1:
        out.append("mốt")
    elif u == 5:
        out.append("lăm")
    elif u:
        out.append(_DIGITS[u])
    return out


def number_words(n: int) -> str:
    """``45`` → "bốn mươi lăm", ``2025`` → "hai nghìn không trăm hai mươi lăm"."""
    if n == 0:
        return "không"
    words: list[str] = []
    for value, name in ((10**9, "tỷ"), (10**6, "triệu"), (1000, "nghìn")):
        if n >= value:
            words += _read_below_1000(n // value, False) if not words else _read_below_1000(n // value, True)
            words.append(name)
            n %= value
    if n or not words:
        words += _read_below_1000(n, bool(words))
    return " ".join(words)


def spell_numbers(text: str) -> str:
    """Digits as viet-asr writes them: phone and ID numbers (leading 0 or more than
    six digits) digit by digit, other numbers read out; ``45/3`` → "bốn mươi lăm xẹt ba"."""

    def one(m: re.Match) -> str:
        s = m.group(0)
        if s.startswith("0") and len(s) > 1 or len(s) > 6:
            return " ".join(_DIGITS[int(c)] for c in s)
        return number_words(int(s))

    text = re.sub(r"(?<=\d)/(?=\d)", " xẹt ", text)
    return re.sub(r"\d+", one, text)


def _split(syl: str) -> tuple[str, str, str]:
    nfd = unicodedata.normalize("NFD", syl)
    tone = next((ch for ch in nfd if ch in _TONES[1:]), "")
    bare = unicodedata.normalize("NFC", "".join(ch for ch in nfd if ch not in _TONES[1:]))
    ini = next((i for i in _INITIALS if bare.startswith(i) and len(bare) > len(i)), "")
    return ini, bare[len(ini):], tone


def _join(ini: str, rhyme: str, tone: str) -> str:
    """Syllable from parts, the tone on the main vowel (normalize_text's placement)."""
    bare = ini + rhyme
    if not tone:
        return bare
    vowels = [i for i, ch in enumerate(bare) if unicodedata.normalize("NFD", ch)[0] in "aeiouy" and i >= len(ini)]
    if not vowels:
        return bare
    marked = [i for i in vowels if len(unicodedata.normalize("NFD", bare[i])) > 1]
    if marked:
        at = marked[-1]
    elif len(vowels) == 1 or vowels[-1] != len(bare) - 1:
        at = vowels[-1] if len(vowels) > 1 else vowels[0]
    else:
        at = vowels[-2]
    out = bare[:at] + unicodedata.normalize("NFC", bare[at] + tone) + bare[at + 1:]
    return normalize_text(unicodedata.normalize("NFC", out))


def _confuse_initial(syl: str, rng: random.Random) -> str:
    ini, rhyme, tone = _split(syl)
    options = [b for a, b in _INITIAL_PAIRS if a == ini] + [a for a, b in _INITIAL_PAIRS if b == ini]
    return _join(rng.choice(options), rhyme, tone) if options else syl


def _confuse_rhyme(syl: str, rng: random.Random) -> str:
    ini, rhyme, tone = _split(syl)
    subs = [(a, b) for a, b in _RHYME_SUBS if a in rhyme] + [(b, a) for a, b in _RHYME_SUBS if b in rhyme]
    if not subs:
        return syl
    a, b = rng.choice(subs)
    if a in ("n", "t", "nh", "ng", "c") and not rhyme.endswith(a):
        return syl
    new = rhyme[: len(rhyme) - len(a)] + b if rhyme.endswith(a) else rhyme.replace(a, b, 1)
    return _join(ini, new, tone)


def _confuse_tone(syl: str, rng: random.Random) -> str:
    ini, rhyme, tone = _split(syl)
    return _join(ini, rhyme, rng.choice([t for t in _TONES if t != tone]))


def vietasr_like(
    text: str,
    rng: random.Random,
    *,
    deletion: float = 0.12,  # per syllable (measured 0.119)
    insertion: float = 0.007,  # per syllable, a short function word (measured 0.0074)
    tone: float = 0.018,  # per syllable, a wrong tone or vowel mark, "diacritic only" (measured 0.0182)
    initial: float = 0.029,  # per syllable, a confused initial consonant (measured 0.0293)
    rhyme: float = 0.056,  # per syllable, a confused rhyme: final consonant, vowel (measured 0.0563)
    other: float = 0.13,  # per syllable, both parts changed, or a short word instead (measured 0.130)
    vocab: frozenset[str] | set[str] | None = None,  # real syllables; misheard ones must be among them
) -> str:
    """One viet-asr-like rendering of ``text``: numbers as words, lower case, no
    punctuation, diacritics kept, misheard and dropped syllables.

    viet-asr writes syllables from its vocabulary, not letter salad: with ``vocab``
    (e.g. :func:`syllable_vocab` of the corpus) a confusion that makes no real
    syllable is tried again, up to three times, else the syllable is kept.
    """
    words = normalize_text(spell_numbers(text)).split()
    out: list[str] = []
    for w in words:
        r = rng.random()
        if r < deletion and len(words) > 3:
            continue
        r -= deletion
        if r < tone:
            change = _confuse_tone
        elif r < tone + initial:
            change = _confuse_initial
        elif r < tone + initial + rhyme:
            change = _confuse_rhyme
        elif r < tone + initial + rhyme + other:
            if rng.random() < 0.3:
                out.append(rng.choice(_SHORT))
                continue
            def change(x, g):
                return _confuse_tone(_confuse_rhyme(_confuse_initial(x, g), g), g)
        else:
            change = None
        if change is not None:
            for _ in range(3):
                new = change(w, rng)
                if vocab is None or new in vocab:
                    w = new
                    break
        out.append(w)
        if rng.random() < insertion:
            out.append(rng.choice(_SHORT))
    return " ".join(out)


def syllable_vocab(texts) -> frozenset[str]:
    """Every syllable of ``texts`` after :func:`normalize_text` and number spelling."""
    return frozenset(w for t in texts for w in normalize_text(spell_numbers(t)).split())


# --- Whisper-like: lost diacritics, wrong tones, dropped syllables, fillers -----------------

_TONE_MARKS = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
_FILLERS = ("ờ", "à", "dạ", "ừ", "thì", "cái", "ấy", "ạ", "ơ")


def swap_tone(syllable: str, rng: random.Random) -> str:
    """The syllable with a different tone mark (or none), as ASR mishears tones."""
    nfd = unicodedata.normalize("NFD", syllable)
    marks = [ch for ch in nfd if ch in _TONE_MARKS[1:]]
    bare = "".join(ch for ch in nfd if ch not in _TONE_MARKS[1:])
    choices = [t for t in _TONE_MARKS if t != (marks[0] if marks else "")]
    tone = rng.choice(choices)
    # Group letters with their own hats, breves and horns, then place the tone where
    # Vietnamese spelling (old style, like normalize_text) puts it.
    letters: list[list[str]] = []
    for ch in bare:
        if letters and unicodedata.category(ch) == "Mn":
            letters[-1].append(ch)
        else:
            letters.append([ch])
    base = [g[0].lower() for g in letters]
    start = 2 if "".join(base[:2]) in ("qu", "gi") and len(base) > 2 and base[2] in "aeiouy" else 0
    vowels = [i for i in range(start, len(letters)) if base[i] in "aeiouy"]
    if not vowels:
        return syllable
    cluster = [vowels[0]]
    while cluster[-1] + 1 < len(base) and base[cluster[-1] + 1] in "aeiouy":
        cluster.append(cluster[-1] + 1)
    modified = [i for i in cluster if len(letters[i]) > 1]
    if modified:
        at = modified[-1]
    elif len(cluster) == 1:
        at = cluster[0]
    elif cluster[-1] == len(letters) - 1:
        at = cluster[-2]
    else:
        at = cluster[-1]
    letters[at].append(tone)
    out = [ch for g in letters for ch in g]
    return unicodedata.normalize("NFC", "".join(out))


def make_asr_like(
    text: str,
    rng: random.Random,
    *,
    fold_all: float = 0.4,  # probability that the whole text loses its diacritics
    fold_word: float = 0.25,  # otherwise, probability per syllable
    tone_swap: float = 0.08,  # probability per syllable of a wrong tone
    drop: float = 0.05,  # probability per syllable of being dropped
    filler: float = 0.05,  # probability per syllable of a filler inserted before it
) -> str:
    """An ASR-like version of ``text``: lower case, no punctuation, noisy syllables."""
    words = normalize_text(text).split()
    folded = rng.random() < fold_all
    out: list[str] = []
    for w in words:
        if rng.random() < drop and len(words) > 3:
            continue
        if rng.random() < filler:
            out.append(rng.choice(_FILLERS))
        if rng.random() < tone_swap:
            w = swap_tone(w, rng)
        if folded or rng.random() < fold_word:
            w = fold_accents(w)
        out.append(w)
    return " ".join(out)


def vietasr_like_rows(rows, seed: int) -> list:
    """Viet-asr-like renderings of labelled ``(text, labels)`` rows, exactly as
    ``scripts/make_asr_like.py --style vietasr --seed SEED`` writes them (one seeded
    generator over the rows in file order, misheard syllables drawn from the rows' own)."""
    rows = list(rows)
    rng = random.Random(seed)
    vocab = syllable_vocab(t for t, _ in rows)
    return [(vietasr_like(text, rng, vocab=vocab), labels) for text, labels in rows]
