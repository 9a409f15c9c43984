"""Case and punctuation of recognised speech: the small model behind the readable transcript.

The recogniser writes lower-case syllables without punctuation. This model reads a run of
such syllables and gives, for each one, its case (lower, Capitalised, UPPER, or a mixed form
from the model's lexicon) and the punctuation written after it (none, comma, full stop,
question mark). The shipped model is linear over hashed n-gram features of the syllables
around each one (:data:`TEMPLATES`: syllables −3..+3, their bigrams and trigrams, the shapes
of this syllable and the next), one weight table per task, trained by ``hotline text train``
(:mod:`models.readable_training`, logistic regression by SGD) on written Vietnamese turned
into the recogniser's form; ``models/artifacts/readable/README.md`` says on what, and its
measured accuracy. A file of the earlier kind (a dilated convolutional network over syllable
embeddings, ``--arch cnn``) still loads.

Inference is numpy (a table look-up and a sum for the linear model): one array file, loaded
once per process (:func:`load_readable_model`).
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import HotlineError

ARTIFACT_DIR = Path(__file__).parent / "artifacts" / "readable"
ARTIFACT = ARTIFACT_DIR / "readable.npz"
CASES = ("lower", "title", "upper", "mixed")
PUNCTS = ("", ",", ".", "?")
PAD, UNK, NUM = 0, 1, 2  # reserved syllable ids
N_SHAPES = 16
# Hashed features of the linear model: the syllables at these offsets from the one tagged,
# combined (a tuple of two is a bigram…); plus one feature of the shapes of this syllable and the next.
TEMPLATES = ((-3,), (-2,), (-1,), (0,), (1,), (2,), (3,), (-2, -1), (-1, 0), (0, 1), (1, 2), (2, 3), (-1, 1),
             (-1, 0, 1), (0, 1, 2), (-2, -1, 0), (1, 2, 3))
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_VN_VOWELS = "aăâeêioôơuưy"
# A syllable Vietnamese spelling allows: onset, vowel cluster, coda (diacritics stripped).
_VN_SYLLABLE = re.compile(r"^(ngh|ng|gh|nh|ch|tr|th|ph|kh|gi|qu|[bcdđghklmnpqrstvx])?"
                          r"[aăâeêioôơuưy]{1,3}(ng|nh|ch|[cmnpt])?$")


class ReadableModelMissing(HotlineError):
    """The case and punctuation model's artefact is absent or unreadable."""

    exit_code = 2


def _strip_tones(syllable: str) -> str:
    """Tone marks off, vowel shapes (ă â ê ô ơ ư đ) kept: "thuột" → "thuôt"."""
    nfd = unicodedata.normalize("NFD", syllable)
    kept = "".join(ch for ch in nfd if ch not in "\u0300\u0301\u0309\u0303\u0323")
    return unicodedata.normalize("NFC", kept)


@functools.lru_cache(maxsize=65536)
def shape(syllable: str) -> int:
    """A small class for a syllable the vocabulary may not hold (0..N_SHAPES-1).

    Whether it contains a digit, has Vietnamese tone or vowel marks, is a spelling Vietnamese
    allows (foreign names often are not: "krông", "gar"), and its length.
    """
    if any(ch.isdigit() for ch in syllable):
        return 1
    marked = syllable != unicodedata.normalize("NFD", syllable).encode("ascii", "ignore").decode() or "đ" in syllable
    native = bool(_VN_SYLLABLE.match(_strip_tones(syllable)))
    size = 0 if len(syllable) <= 2 else (1 if len(syllable) <= 4 else 2)
    return 2 + (int(marked) * 2 + int(native)) * 3 + size  # 2..13


def hashed_features(ids: np.ndarray, shapes: np.ndarray, vocab_size: int, bits: int) -> np.ndarray:
    """(n, len(TEMPLATES) + 1) feature indices in [0, 2**bits) of one run of syllable ids and shapes.

    Beyond the run's ends the syllable id is ``vocab_size`` (no syllable) and the shape 15.
    Each template's combined id (base ``vocab_size + 1``) is tagged with the template's number
    and hashed by Fibonacci hashing (a multiply, the top ``bits`` bits): the same in training
    and inference, on any machine.
    """
    n, pad = len(ids), 3
    w = np.full(n + 2 * pad, vocab_size, dtype=np.uint64)
    w[pad : pad + n] = ids
    s = np.full(n + 2 * pad, 15, dtype=np.uint64)
    s[pad : pad + n] = shapes
    base, shift = np.uint64(vocab_size + 1), np.uint64(64 - bits)
    cols = []
    for k, offsets in enumerate(TEMPLATES):
        x = np.zeros(n, dtype=np.uint64)
        for o in offsets:
            x = x * base + w[pad + o : pad + o + n]
        cols.append((x + (np.uint64(k + 1) << np.uint64(46))) * _GOLDEN >> shift)
    x = s[pad : pad + n] * np.uint64(16) + s[pad + 1 : pad + 1 + n]
    cols.append((x + (np.uint64(len(TEMPLATES) + 1) << np.uint64(46))) * _GOLDEN >> shift)
    return np.stack(cols, axis=1).astype(np.int64)


@dataclass(frozen=True)
class ReadableTags:
    """The model's reading of one run of syllables."""

    cases: tuple[int, ...]  # index into CASES per syllable
    puncts: tuple[int, ...]  # index into PUNCTS per syllable (written after it)
    mixed: tuple[str, ...]  # the lexicon's mixed form per syllable ("" where none)


class ReadableModel:
    """The model's weights and vocabulary (linear, or the earlier CNN); :meth:`tag` reads runs of syllables."""

    def __init__(self, arrays: dict[str, np.ndarray], source: str = "", fingerprint: str = ""):
        self.vocab: dict[str, int] = {w: i for i, w in enumerate(arrays["vocab"].tolist())}
        self.mixed_forms: dict[str, str] = dict(zip(arrays["mixed_keys"].tolist(), arrays["mixed_values"].tolist()))
        self.punct_bias = arrays["punct_bias"].astype(np.float64) if "punct_bias" in arrays else np.zeros(len(PUNCTS))
        self.meta = {k[5:]: str(arrays[k]) for k in arrays if k.startswith("meta_")}
        self.source = source
        self.fingerprint = fingerprint
        self.linear = "lin_case_q" in arrays
        if self.linear:
            self.bits = int(arrays["lin_bits"])
            # int8 weights, one scale per class: (2**bits, classes) float32 for a quick look-up
            self.lin = {task: (arrays[f"lin_{task}_q"].astype(np.float32) * arrays[f"lin_{task}_scale"].astype(np.float32),
                               arrays[f"lin_{task}_b"].astype(np.float64)) for task in ("case", "punct")}
            return
        scale = arrays["emb_scale"].astype(np.float64)
        self.emb = arrays["emb_q"].astype(np.float64) * scale[:, None]
        self.shape_emb = arrays["shape_emb"].astype(np.float64)
        self.proj_w, self.proj_b = arrays["proj_w"].astype(np.float64), arrays["proj_b"].astype(np.float64)
        self.dilations = tuple(int(d) for d in arrays["dilations"])
        self.conv_w = [arrays[f"conv{k}_w"].astype(np.float64) for k in range(len(self.dilations))]  # (taps, in, out)
        self.conv_b = [arrays[f"conv{k}_b"].astype(np.float64) for k in range(len(self.dilations))]
        self.norm_g = [arrays[f"norm{k}_g"].astype(np.float64) for k in range(len(self.dilations))]
        self.norm_b = [arrays[f"norm{k}_b"].astype(np.float64) for k in range(len(self.dilations))]
        self.case_w, self.case_b = arrays["case_w"].astype(np.float64), arrays["case_b"].astype(np.float64)
        self.punct_w, self.punct_b = arrays["punct_w"].astype(np.float64), arrays["punct_b"].astype(np.float64)

    def ids(self, syllables: list[str]) -> tuple[np.ndarray, np.ndarray]:
        ids = np.array([NUM if any(c.isdigit() for c in s) else self.vocab.get(s, UNK) for s in syllables], dtype=np.int64)
        shapes = np.array([shape(s) for s in syllables], dtype=np.int64)
        return ids, shapes

    def logits(self, syllables: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(case logits (n, 4), punctuation logits (n, 4)) for one run of normalised syllables."""
        if not syllables:
            return np.zeros((0, len(CASES))), np.zeros((0, len(PUNCTS)))
        ids, shapes = self.ids(syllables)
        if self.linear:
            feats = hashed_features(ids, shapes, len(self.vocab), self.bits)
            (cw, cb), (pw, pb) = self.lin["case"], self.lin["punct"]
            return cw[feats].sum(axis=1) + cb, pw[feats].sum(axis=1) + pb + self.punct_bias
        x = np.concatenate([self.emb[ids], self.shape_emb[shapes]], axis=1) @ self.proj_w + self.proj_b
        n = len(syllables)
        for w, b, g, beta, d in zip(self.conv_w, self.conv_b, self.norm_g, self.norm_b, self.dilations):
            taps = w.shape[0]
            half = taps // 2
            padded = np.zeros((n + 2 * half * d, x.shape[1]))
            padded[half * d : half * d + n] = x
            y = b + sum(padded[t * d : t * d + n] @ w[t] for t in range(taps))
            y = np.maximum(y, 0.0)
            x = x + y
            mu = x.mean(axis=1, keepdims=True)
            var = x.var(axis=1, keepdims=True)
            x = (x - mu) / np.sqrt(var + 1e-5) * g + beta
        return x @ self.case_w + self.case_b, x @ self.punct_w + self.punct_b + self.punct_bias

    def tag(self, syllables: list[str]) -> ReadableTags:
        """Case and following punctuation for each of ``syllables`` (normalised, lower case)."""
        case_logits, punct_logits = self.logits(list(syllables))
        cases = tuple(int(c) for c in case_logits.argmax(axis=1)) if len(syllables) else ()
        puncts = tuple(int(p) for p in punct_logits.argmax(axis=1)) if len(syllables) else ()
        mixed = tuple(self.mixed_forms.get(s, "") for s in syllables)
        return ReadableTags(cases, puncts, mixed)


def file_fingerprint(path: Path) -> str:
    return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


@functools.lru_cache(maxsize=4)
def load_readable_model(path: str | Path | None = None) -> ReadableModel:
    """The model at ``path`` (default: the shipped artefact), loaded once per process.

    Raises :class:`ReadableModelMissing` naming the file when it is absent or not this model's format.
    """
    path = Path(path) if path else ARTIFACT
    if path.is_dir():
        path = path / ARTIFACT.name
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        return ReadableModel(arrays, source=str(path), fingerprint=file_fingerprint(path))
    except FileNotFoundError as exc:
        raise ReadableModelMissing(f"{path}: no case and punctuation model; train one with `hotline text train`") from exc
    except (OSError, ValueError, KeyError) as exc:
        raise ReadableModelMissing(f"{path}: not a case and punctuation model ({type(exc).__name__}: {exc})") from exc
