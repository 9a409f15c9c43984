"""A word n-gram language model: estimated here (interpolated modified Kneser-Ney), stored compactly, queried fast.

Why our own and not KenLM: building needs only numpy (``hotline lm build`` runs on any
site with no compiler, Boost or ``lmplz``), the file is a plain ``.npz`` whose bytes
are fingerprinted, and a query is a few dictionary lookups. Measured against KenLM's
``lmplz`` on the same text (docs/asr.md, "The language model"): same perplexity
within 1 %, same WER.

Estimation (Chen & Goodman's interpolated modified Kneser-Ney, as ``lmplz`` does it):

- the highest order keeps raw counts; lower orders use continuation counts (how many
  different words precede the n-gram), except n-grams starting with ``<s>``, which
  keep raw counts;
- three discounts per order, D1, D2, D3+, from the counts of counts;
- every stored n-gram gets its fully interpolated probability and every context its
  interpolation weight, which is its backoff weight in the ARPA sense;
- pruning (``prune``: for each order, n-grams counted this often or less are dropped,
  unless a kept longer n-gram needs them as context) then renormalises the backoff
  weights so each context's distribution still sums to one.

Storage: the vocabulary, and for each order the n-gram keys (word ids packed 21 bits
each into a uint64, sorted, delta-coded) with 8-bit quantised log10 probabilities and
backoffs (256-level codebooks fitted per order, as KenLM's ``-q 8``).

Query (:meth:`NgramLM.score`): log10 p(word | up to n-1 previous words) with backoff,
ARPA semantics; words are looked up in :func:`pipeline.textnorm.normalize_text` form.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

UNK, BOS, EOS = "<unk>", "<s>", "</s>"
BITS = 21  # bits per word id in a packed key: up to 2,097,151 words
MAX_ORDER = 3  # 3 × 21 = 63 bits
LN10 = math.log(10.0)
FORMAT = "hotline-ngram-1"


class LMFormatError(ValueError):
    """The file is not a language model this module wrote, or it is damaged."""


def _pack(ids: np.ndarray) -> np.ndarray:
    """(m, n) word ids → (m,) uint64 keys, first word in the highest bits."""
    key = np.zeros(len(ids), np.uint64)
    for j in range(ids.shape[1]):
        key = (key << np.uint64(BITS)) | ids[:, j].astype(np.uint64)
    return key


def _unpack(keys: np.ndarray, n: int) -> np.ndarray:
    mask = np.uint64((1 << BITS) - 1)
    out = np.empty((len(keys), n), np.int64)
    for j in range(n):
        out[:, n - 1 - j] = ((keys >> np.uint64(BITS * j)) & mask).astype(np.int64)
    return out


def _discounts(counts: np.ndarray) -> tuple[float, float, float]:
    """Modified Kneser-Ney discounts D1, D2, D3+ from the counts of counts (fallbacks for tiny data)."""
    n = [int(np.count_nonzero(counts == k)) for k in (1, 2, 3, 4)]
    if min(n) == 0:
        return 0.5, 1.0, 1.5
    y = n[0] / (n[0] + 2 * n[1])
    d = (1 - 2 * y * n[1] / n[0], 2 - 3 * y * n[2] / n[1], 3 - 4 * y * n[3] / n[2])
    return tuple(float(min(max(x, 0.05), k + 0.0)) for k, x in zip((1, 2, 3), d))  # type: ignore[return-value]


def _group_sum(group: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    return np.bincount(group, weights=values, minlength=n_groups)


@dataclass
class _Order:
    keys: np.ndarray  # (m,) uint64, sorted
    logp: np.ndarray  # (m,) float64, log10 p(w | h)
    backoff: np.ndarray  # (m,) float64, log10 b(h w) (0 for the highest order)


class NgramLM:
    """A loaded model: :meth:`score` and :meth:`sentence_logprob`; :meth:`save` / :meth:`load`."""

    def __init__(self, vocab: Sequence[str], orders: list[_Order], meta: dict | None = None):
        self.vocab = list(vocab)
        self.ids = {w: i for i, w in enumerate(self.vocab)}
        self.order = len(orders)
        self.meta = dict(meta or {})
        self.fingerprint = self.meta.get("fingerprint", "")
        self._unigram = np.asarray(orders[0].logp.astype(np.float64))
        self._unigram_backoff = np.asarray(orders[0].backoff.astype(np.float64)) if self.order > 1 else np.zeros(len(vocab))
        # higher orders as sorted key arrays: a query is a binary search (loading stays well under 1 s;
        # a dict of 3 M keys took 5 s to build)
        self._keys = [o.keys for o in orders]
        self._logp = [o.logp for o in orders]
        self._backoff = [o.backoff for o in orders]
        self.unk_id = self.ids[UNK]
        self.bos_id = self.ids[BOS]
        self.eos_id = self.ids[EOS]
        self.sizes = [len(o.keys) for o in orders]

    # ----- queries

    def word_id(self, word: str) -> int:
        return self.ids.get(word, self.unk_id)

    def _find(self, n: int, key: int) -> int:
        """Row of the packed ``key`` in the order-``n`` table, or −1."""
        keys = self._keys[n - 1]
        k = np.uint64(key)
        i = int(keys.searchsorted(k))
        return i if i < len(keys) and keys[i] == k else -1

    def score_ids(self, context: tuple[int, ...], w: int) -> float:
        """log10 p(w | context) with backoff; ``context`` is the previous word ids, oldest first."""
        context = context[-(self.order - 1):] if self.order > 1 else ()
        backoff = 0.0
        for n in range(len(context), 0, -1):
            h = context[-n:]
            key = 0
            for x in h:
                key = (key << BITS) | x
            i = self._find(n + 1, (key << BITS) | w)
            if i >= 0:
                return backoff + float(self._logp[n][i])
            if n == 1:
                backoff += float(self._unigram_backoff[h[0]])
            else:
                j = self._find(n, key)
                if j >= 0:
                    backoff += float(self._backoff[n - 1][j])
        return backoff + float(self._unigram[w])

    def score(self, context: Sequence[str], word: str) -> float:
        """log10 p(word | context words)."""
        return self.score_ids(tuple(self.word_id(c) for c in context), self.word_id(word))

    def sentence_logprob(self, words: Sequence[str], *, bos: bool = True, eos: bool = True) -> float:
        """log10 p of a sentence (its words, then ``</s>``), starting from ``<s>``."""
        ctx: tuple[int, ...] = (self.bos_id,) if bos else ()
        total = 0.0
        for w in [*(self.word_id(x) for x in words), *([self.eos_id] if eos else [])]:
            total += self.score_ids(ctx, w)
            ctx = (ctx + (w,))[-(self.order - 1):] if self.order > 1 else ()
        return total

    def perplexity(self, sentences: Iterable[str]) -> tuple[float, float]:
        """(perplexity per word incl. ``</s>``, share of words out of the vocabulary) over sentences."""
        total, n, oov, words = 0.0, 0, 0, 0
        for s in sentences:
            ws = s.split()
            total += self.sentence_logprob(ws)
            n += len(ws) + 1
            words += len(ws)
            oov += sum(1 for w in ws if w not in self.ids)
        return (10 ** (-total / n) if n else float("nan")), (oov / words if words else 0.0)

    # ----- files

    @classmethod
    def load(cls, path: str | Path) -> "NgramLM":
        return load_model(path)


def estimate(sentences: Iterable[str], *, order: int = 3, prune: Sequence[int] = (0, 0, 1),
             min_unigram_count: int = 1) -> tuple[list[str], list[_Order]]:
    """Interpolated modified Kneser-Ney estimates of the n-grams of ``sentences`` (space-separated words).

    ``prune[k]``: n-grams of order k+1 seen this often or less are dropped (unless needed
    as a context); ``min_unigram_count``: rarer words are mapped to ``<unk>``.
    Returns (vocabulary, per-order tables with log10 probabilities and backoffs).
    """
    if not 1 <= order <= MAX_ORDER:
        raise ValueError(f"order {order}: 1..{MAX_ORDER}")
    prune = list(prune) + [prune[-1] if prune else 0] * (order - len(prune))
    # --- vocabulary and the corpus as one id stream with sentence boundaries
    word_counts: dict[str, int] = {}
    sents = []
    for s in sentences:
        ws = s.split()
        if not ws:
            continue
        sents.append(ws)
        for w in ws:
            word_counts[w] = word_counts.get(w, 0) + 1
    words = sorted(w for w, c in word_counts.items() if c >= min_unigram_count and w not in (UNK, BOS, EOS))
    vocab = [UNK, BOS, EOS, *words]
    if len(vocab) >= 1 << BITS:
        raise ValueError(f"{len(vocab)} words: at most {(1 << BITS) - 1}")
    ids = {w: i for i, w in enumerate(vocab)}
    stream: list[int] = []
    for ws in sents:  # one <s> before each sentence: n-grams never cross a sentence end
        stream += [1] + [ids.get(w, 0) for w in ws] + [2]
    arr = np.asarray(stream, np.int64)
    v = len(vocab)
    # --- raw counts of every order: no </s> but last, no <s> but first
    raw: list[tuple[np.ndarray, np.ndarray]] = []  # per order: (sorted keys, counts)
    for n in range(1, order + 1):
        m = len(arr) - n + 1
        grams = np.stack([arr[j : j + m] for j in range(n)], axis=1)
        ok = np.ones(m, bool)
        for j in range(n - 1):
            ok &= grams[:, j] != 2
        for j in range(1, n):
            ok &= grams[:, j] != 1
        if n == 1:
            ok &= grams[:, 0] != 1
        keys, counts = np.unique(_pack(grams[ok]), return_counts=True)
        raw.append((keys, counts.astype(np.int64)))
    # --- adjusted counts: highest order raw, lower orders continuation counts (raw when starting with <s>)
    adjusted: list[np.ndarray] = []
    for n in range(1, order + 1):
        keys, counts = raw[n - 1]
        if n == order:
            adjusted.append(counts.astype(np.float64))
            continue
        hk, _ = raw[n]
        suffix = hk & np.uint64((1 << (BITS * n)) - 1)  # the last n words of each (n+1)-gram
        uniq, cont = np.unique(suffix, return_counts=True)
        idx = np.searchsorted(uniq, keys)
        idx = np.minimum(idx, len(uniq) - 1)
        found = uniq[idx] == keys
        adj = np.where(found, cont[idx], 0).astype(np.float64)
        first = _unpack(keys, n)[:, 0]
        adj = np.where(first == 1, counts, adj)
        if n == 1:
            adj = np.where(adj > 0, adj, counts)  # a word seen only after <s>: keep its count
        adjusted.append(adj)
    # --- interpolated probabilities, lowest order first
    tables: list[_Order] = []
    uni_keys = raw[0][0]
    uni_ids = uni_keys.astype(np.int64)
    a1 = np.zeros(v)
    a1[uni_ids] = adjusted[0]
    d = _discounts(a1[a1 > 0])
    disc = np.where(a1 >= 3, d[2], np.where(a1 == 2, d[1], np.where(a1 == 1, d[0], 0.0)))
    total = a1.sum()
    gamma0 = disc.sum() / total
    p1 = (a1 - disc) / total + gamma0 / v
    p1[1] = 0.0  # <s> is never predicted
    p1 /= p1.sum()
    uni_logp = np.log10(np.maximum(p1, 1e-99))
    uni_logp[1] = -99.0
    tables.append(_Order(np.arange(v, dtype=np.uint64), uni_logp, np.zeros(v)))
    lower_p = {0: p1}  # order index -> probabilities aligned with tables[k].keys
    for n in range(2, order + 1):
        keys, _ = raw[n - 1]
        adj = adjusted[n - 1]
        grams = _unpack(keys, n)
        ctx_keys = keys >> np.uint64(BITS)
        ctx_uniq, ctx_idx = np.unique(ctx_keys, return_inverse=True)
        d = _discounts(adj)
        disc = np.where(adj >= 3, d[2], np.where(adj == 2, d[1], d[0]))
        ctx_total = _group_sum(ctx_idx, adj, len(ctx_uniq))
        ctx_disc = _group_sum(ctx_idx, disc, len(ctx_uniq))
        gamma = ctx_disc / ctx_total  # interpolation weight of each context
        lower = _lookup_prob(tables, lower_p, grams[:, 1:])
        p = (adj - disc) / ctx_total[ctx_idx] + gamma[ctx_idx] * lower
        tables.append(_Order(keys, np.log10(p), np.zeros(len(keys))))
        lower_p[n - 1] = p
        # the context's backoff weight lives on the (n-1)-gram row of the context
        prev = tables[n - 2]
        at = np.searchsorted(prev.keys, ctx_uniq)
        prev.backoff[at] = np.log10(gamma)
    # --- pruning, highest order first; a kept n-gram keeps its context
    keep_masks = [np.ones(len(t.keys), bool) for t in tables]
    for n in range(order, 1, -1):
        counts = raw[n - 1][1]
        keep = counts > prune[n - 1]
        if n < order:
            needed = tables[n].keys[keep_masks[n]] >> np.uint64(BITS)
            keep |= np.isin(tables[n - 1].keys, needed)
        keep_masks[n - 1] = keep
    if any(not m.all() for m in keep_masks[1:]):
        for n in range(2, order + 1):
            t = tables[n - 1]
            k = keep_masks[n - 1]
            tables[n - 1] = _Order(t.keys[k], t.logp[k], t.backoff[k])
        _renormalise(tables)
    return vocab, tables


def _lookup_prob(tables: list[_Order], probs: dict, grams: np.ndarray) -> np.ndarray:
    """Interpolated probabilities of ``grams`` (m, k) from the already-built order-k table (all present there)."""
    k = grams.shape[1]
    if k == 1:
        return probs[0][grams[:, 0]]
    keys = _pack(grams)
    at = np.searchsorted(tables[k - 1].keys, keys)
    return probs[k - 1][at]


def _backoff_prob(tables: list[_Order], grams: np.ndarray) -> np.ndarray:
    """log10 p(w | h) for (m, k) grams through the (pruned) tables with ARPA backoff, vectorised."""
    m, k = grams.shape
    if k == 1:
        return tables[0].logp[grams[:, 0]]
    t = tables[k - 1]
    keys = _pack(grams)
    at = np.minimum(np.searchsorted(t.keys, keys), max(len(t.keys) - 1, 0))
    hit = (t.keys[at] == keys) if len(t.keys) else np.zeros(m, bool)
    out = np.empty(m)
    out[hit] = t.logp[at[hit]]
    miss = ~hit
    if miss.any():
        ctx = grams[miss, :-1]
        if k - 1 == 1:
            bo = tables[0].backoff[ctx[:, 0]]
        else:
            c = tables[k - 2]
            ck = _pack(ctx)
            cat = np.minimum(np.searchsorted(c.keys, ck), len(c.keys) - 1)
            bo = np.where(c.keys[cat] == ck, c.backoff[cat], 0.0)
        out[miss] = bo + _backoff_prob(tables, grams[miss, 1:])
    return out


def _renormalise(tables: list[_Order]) -> None:
    """Backoff weights after pruning: b(h) = (1 − Σ kept p(w|h)) / (1 − Σ p_lower(w|h') over the same w)."""
    for n in range(2, len(tables) + 1):
        t = tables[n - 1]
        grams = _unpack(t.keys, n)
        ctx_keys = t.keys >> np.uint64(BITS)
        ctx_uniq, ctx_idx = np.unique(ctx_keys, return_inverse=True)
        kept = _group_sum(ctx_idx, 10.0 ** t.logp, len(ctx_uniq))
        lower = _group_sum(ctx_idx, 10.0 ** _backoff_prob(tables, grams[:, 1:]), len(ctx_uniq))
        num = np.maximum(1.0 - kept, 1e-12)
        den = np.maximum(1.0 - lower, 1e-12)
        prev = tables[n - 2]
        prev.backoff[:] = 0.0  # a context with no kept continuation: b = 1
        at = np.searchsorted(prev.keys, ctx_uniq)
        prev.backoff[at] = np.log10(num / den)


# ----- quantisation and files


def _quantise(x: np.ndarray, levels: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """8-bit codes and a codebook: equal-count bins, each represented by its mean (KenLM's ``-q 8`` idea)."""
    if len(x) == 0:
        return np.zeros(0, np.uint8), np.zeros(levels, np.float32)
    order = np.argsort(x, kind="stable")
    codes = np.empty(len(x), np.uint8)
    bins = np.array_split(order, levels)
    book = np.zeros(levels, np.float32)
    for i, b in enumerate(bins):
        if len(b):
            codes[b] = i
            book[i] = float(np.mean(x[b]))
    return codes, book


def save_model(vocab: Sequence[str], tables: list[_Order], path: str | Path, meta: dict | None = None, *,
               private: bool = False) -> str:
    """Write a model (.npz) to ``path``; returns its fingerprint, ``sha256:`` + the file's first 16 hex digits.

    ``meta`` (sources, sizes, settings) is stored inside as JSON and travels with the file.
    ``private``: the file is owner-only (0600) from its creation (a site's model holds n-grams of its calls).
    """
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    arrays["vocab"] = np.frombuffer("\n".join(vocab).encode("utf-8"), np.uint8)
    for n, t in enumerate(tables, 1):
        codes, book = _quantise(t.logp)
        arrays[f"p{n}"], arrays[f"pbook{n}"] = codes, book
        if n < len(tables):
            bcodes, bbook = _quantise(t.backoff)
            arrays[f"b{n}"], arrays[f"bbook{n}"] = bcodes, bbook
        if n > 1:
            arrays[f"k{n}"] = np.diff(t.keys, prepend=np.uint64(0))
    meta = {**(meta or {}), "format": FORMAT, "order": len(tables), "sizes": [len(t.keys) for t in tables]}
    arrays["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False, sort_keys=True).encode("utf-8"), np.uint8)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    data = buf.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    tmp.replace(path)
    return "sha256:" + hashlib.sha256(data).hexdigest()[:16]


def file_fingerprint(path: str | Path) -> str:
    """``sha256:`` + the first 16 hex digits of the file's SHA-256: what runs record."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()[:16]


def load_model(path: str | Path) -> NgramLM:
    """Read a model written by :func:`save_model`; :class:`LMFormatError` names the file and the problem."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            files = dict(z.items())
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise LMFormatError(f"{path}: not a language model file ({exc})") from exc
    try:
        meta = json.loads(files["meta"].tobytes().decode("utf-8"))
        if meta.get("format") != FORMAT:
            raise LMFormatError(f"{path}: format {meta.get('format')!r}, expected {FORMAT!r}")
        vocab = files["vocab"].tobytes().decode("utf-8").split("\n")
        order = int(meta["order"])
        tables = []
        for n in range(1, order + 1):
            # probabilities stay 8-bit codes with their codebook (dequantised per query): no 3 M-float copies at load
            logp = _Quantised(files[f"p{n}"], files[f"pbook{n}"])
            backoff = _Quantised(files[f"b{n}"], files[f"bbook{n}"]) if n < order else _Zeros()
            keys = np.arange(len(vocab), dtype=np.uint64) if n == 1 else np.cumsum(files[f"k{n}"], dtype=np.uint64)
            if len(keys) != len(logp):
                raise LMFormatError(f"{path}: order {n} has {len(keys)} keys and {len(logp)} probabilities")
            tables.append(_Order(keys, logp, backoff))
    except LMFormatError:
        raise
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        raise LMFormatError(f"{path}: damaged language model file ({exc})") from exc
    meta["fingerprint"] = file_fingerprint(path)
    meta["path"] = str(path)
    return NgramLM(vocab, tables, meta)


class _Quantised:
    """8-bit codes read through their 256-value codebook: ``q[i]`` is a float, ``len(q)`` the row count."""

    def __init__(self, codes: np.ndarray, book: np.ndarray):
        self.codes, self.book = codes, book.astype(np.float64)

    def __getitem__(self, i):
        return self.book[self.codes[i]]

    def __len__(self) -> int:
        return len(self.codes)

    def astype(self, dtype):
        return self.book[self.codes].astype(dtype)


class _Zeros:
    """Backoffs of the highest order: all zero."""

    def __getitem__(self, i):
        return 0.0

    def __len__(self) -> int:
        return 0


def from_tables(vocab: Sequence[str], tables: list[_Order], meta: dict | None = None) -> NgramLM:
    """A model in memory, unquantised (for tests and measurements)."""
    return NgramLM(vocab, tables, meta)


def write_arpa(vocab: Sequence[str], tables: list[_Order], out) -> None:
    """The model as an ARPA file (for comparison with other toolkits)."""
    out.write("\\data\\\n")
    for n, t in enumerate(tables, 1):
        out.write(f"ngram {n}={len(t.keys)}\n")
    for n, t in enumerate(tables, 1):
        out.write(f"\n\\{n}-grams:\n")
        grams = _unpack(t.keys, n) if n > 1 else np.arange(len(vocab))[:, None]
        for row, lp, bo in zip(grams.tolist(), t.logp.tolist(), t.backoff.tolist()):
            words = " ".join(vocab[i] for i in row)
            out.write(f"{lp:.6f}\t{words}" + (f"\t{bo:.6f}" if n < len(tables) else "") + "\n")
    out.write("\n\\end\\\n")


class MixedLM:
    """Linear interpolation of n-gram models: p(w | h) = Σ λᵢ pᵢ(w | h) (a site's text mixed into the shipped model).

    Mixing at query time keeps each part as estimated: a site's few thousand corrected
    sentences would be drowned if their counts were pooled with millions of written ones
    (measured: docs/asr.md, "A site's own language"). Word ids are the union vocabulary's.
    """

    def __init__(self, parts: Sequence[NgramLM], weights: Sequence[float], meta: dict | None = None):
        if len(parts) != len(weights) or not parts:
            raise ValueError("one weight per part")
        total = float(sum(weights))
        self.parts, self.weights = list(parts), [float(w) / total for w in weights]
        self.vocab: list[str] = []
        self.ids: dict[str, int] = {}
        for p in self.parts:
            for w in p.vocab:
                if w not in self.ids:
                    self.ids[w] = len(self.vocab)
                    self.vocab.append(w)
        self._maps = []
        # a part's <unk> mass is shared by the union's words it lacks (and truly unknown words), so the
        # mixture still sums to one over the union vocabulary
        self._unk_share = []
        for p in self.parts:
            m = np.full(len(self.vocab), p.unk_id, np.int64)
            for w, i in p.ids.items():
                m[self.ids[w]] = i
            self._maps.append(m.tolist())
            self._unk_share.append(1.0 / (len(self.vocab) - len(p.vocab) + 1))
        self.order = max(p.order for p in self.parts)
        self.unk_id, self.bos_id, self.eos_id = self.ids[UNK], self.ids[BOS], self.ids[EOS]
        self.meta = dict(meta or {})
        self.fingerprint = mixture_fingerprint([p.fingerprint for p in self.parts], self.weights)
        self.sizes = [sum(s) for s in zip(*[p.sizes + [0] * (self.order - p.order) for p in self.parts])]

    def word_id(self, word: str) -> int:
        return self.ids.get(word, self.unk_id)

    def part_probs(self, context: tuple[int, ...], w: int) -> list[float]:
        """Each part's p(w | context) over the union vocabulary (its <unk> mass shared by the words it lacks)."""
        out = []
        for p, m, share in zip(self.parts, self._maps, self._unk_share):
            pw = m[w]
            prob = 10.0 ** p.score_ids(tuple(m[c] for c in context), pw)
            out.append(prob * share if pw == p.unk_id else prob)
        return out

    def score_ids(self, context: tuple[int, ...], w: int) -> float:
        total = sum(lam * q for lam, q in zip(self.weights, self.part_probs(context, w)))
        return math.log10(total) if total > 0 else -99.0

    score = NgramLM.score
    sentence_logprob = NgramLM.sentence_logprob
    perplexity = NgramLM.perplexity


def mixture_fingerprint(fingerprints: Sequence[str], weights: Sequence[float]) -> str:
    """``mix:`` + 16 hex digits of SHA-256 over the parts' fingerprints and weights (what runs record)."""
    text = json.dumps([[f, round(float(w), 6)] for f, w in zip(fingerprints, weights)])
    return "mix:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def mixture_weight(parts: Sequence[NgramLM], held_out: Sequence[str], *, iterations: int = 30) -> list[float]:
    """EM estimate of the interpolation weights that maximise the likelihood of ``held_out`` sentences."""
    if not held_out:
        raise ValueError("no held-out sentences to estimate mixture weights on")
    mixed = MixedLM(parts, [1.0] * len(parts))
    rows = []  # per held-out word (incl. </s>): each part's p(w | h)
    for s in held_out:
        ctx: tuple[int, ...] = (mixed.bos_id,)
        for w in [*(mixed.word_id(x) for x in s.split()), mixed.eos_id]:
            rows.append(mixed.part_probs(ctx, w))
            ctx = (ctx + (w,))[-(mixed.order - 1):] if mixed.order > 1 else ()
    probs = np.array(rows).T
    pr = probs  # (parts, words)
    lam = np.full(len(parts), 1.0 / len(parts))
    for _ in range(iterations):
        mix = lam[:, None] * pr
        post = mix / np.maximum(mix.sum(0, keepdims=True), 1e-300)
        lam = post.mean(1)
    return lam.tolist()
