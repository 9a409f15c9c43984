"""Full-text search over call transcripts, with or without diacritics.

Query syntax (:func:`parse_query`): every word is required (``đèn đường`` finds calls
with both words); ``"đèn đường"`` is a phrase; ``OR`` (or ``|``) separates alternatives.
In a query typed with diacritics every syllable means what was typed: the same marks, or
the same letters written with none (ASR output that lost them), never other marks (``rác
thải`` does not match ``thái``; the unmarked ``an`` of ``công an`` does not match ``ăn``,
the ``tai`` of ``tai nạn`` not ``tại``). Only a query typed entirely without marks
matches any accents (``den duong``). The rule is :func:`pipeline.textnorm.syllable_says`,
which the call-category rules use too. Calls holding the query's exact spelling rank
first, then by BM25.

Each call's search document, its redacted transcript followed by its summary, the units
routing chose and its case's summary and unit (:data:`search_index.DOCS_SQL`), is indexed
twice in ``search_docs``: normalised (``normalize_text``: NFC, lower case, one tone-mark
placement) and accent-folded (``fold_accents``: ``Đắk Lắk`` → ``dak lak``). Matching is a
whole-word test on those columns; DuckDB's fts extension (``stemmer='none',
strip_accents=0``, our own tokenisation: its defaults mangle Vietnamese) supplies the BM25
score. Only redacted text is indexed, so search never reveals what redaction hid. The SQL
is in :mod:`pipeline.warehouse.search_index`.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import duckdb
from markupsafe import Markup, escape

from pipeline.textnorm import fold_accents, fold_normalized, is_accent_free, normalize_text, phrase_starts
from pipeline.warehouse import search_index
from pipeline.warehouse.search_index import index_built, index_is_current, load_fts  # noqa: F401 (part of this module's API)

# Web requests run in threads; two of them finding the index stale must not rebuild it at once.
_BUILD_LOCK = threading.Lock()


@dataclass(frozen=True)
class SearchHit:
    call_id: str
    score: float  # BM25, higher is better; comparable within one query only
    snippet: str  # the best-matching segment's redacted text, or the transcript's start


def refresh_search_index(con: duckdb.DuckDBPyConnection, call_ids: list[str] | None = None) -> int:
    """Bring the index up to date with ``calls``: re-index the calls whose search document changed
    (new, reloaded, re-routed, their case edited), drop those that have none any more (purged,
    blanked); only among ``call_ids`` if given. Call after each load; needs a read-write connection.
    Returns the number of documents (re-)indexed. The first time, it indexes every call."""
    changed, gone = search_index.changed_docs(con, call_ids)
    import pandas as pd

    frame = pd.DataFrame(
        [(cid, norm, fold, h, len(norm.split()) + len(fold.split()))
         for cid, text, h in changed for norm in [normalize_text(text)] for fold in [fold_normalized(norm)]],
        columns=["call_id", "text_norm", "text_fold", "doc_hash", "len"],
    )
    if len(frame) or gone or not search_index.index_built(con):
        search_index.apply_docs(con, frame, gone)
    return len(frame)


def rebuild_search_index(con: duckdb.DuckDBPyConnection) -> int:
    """Empty the index and index every call again (what :func:`refresh_search_index` keeps up to date)."""
    search_index.clear_index(con)
    return refresh_search_index(con)


def ensure_search_index(con: duckdb.DuckDBPyConnection) -> None:
    """Bring the index up to date (read-write connection): hashes every document, re-indexes the
    changed ones. For commands and checks; a page uses :func:`ensure_search_index_built`."""
    if index_is_current(con):
        return
    with _BUILD_LOCK:
        refresh_search_index(con)


def ensure_search_index_built(con: duckdb.DuckDBPyConnection) -> None:
    """Build the index if it never was (read-write connection); cheap when it exists. Loads, purges
    and evaluations keep it current (:func:`refresh_search_index`), so a search does not hash every
    transcript to check (issue 32)."""
    if search_index.index_built(con):
        return
    with _BUILD_LOCK:
        if not search_index.index_built(con):
            refresh_search_index(con)


def search_calls(con: duckdb.DuckDBPyConnection, query: str, *, limit: int | None = 200,
                 snippets: bool = True) -> list[SearchHit]:
    """Calls whose search document matches ``query`` (see :func:`parse_query`), best first.

    Every word (or quoted phrase) of a group must occur; groups joined by ``OR`` are
    alternatives. In a query typed with diacritics each syllable matches as typed, or the same
    letters written with no diacritics at all (ASR output that lost them), never other marks
    (``thải`` does not match ``thái``, ``an`` does not match ``ăn``); a query typed entirely
    without marks matches any accents (``tat`` → ``tắt``, ``tất``).
    Among the matches, calls holding the query's exact spelling rank first, then BM25.
    The index must exist (:func:`ensure_search_index`). An empty query returns no hits.
    ``snippets=False``: hits carry an empty snippet (a page asks :func:`snippets_for` for the rows it shows).
    """
    groups = parse_query(query)
    if not groups:
        return []
    rows = search_index.ranked_matches(con, groups)
    if any(t.exact and " " in t.norm for grp in groups for t in grp):
        rows = _verify(con, rows, groups)
    if limit is not None:
        rows = rows[:limit]
    found = _snippets(con, [r[0] for r in rows], groups) if snippets else {}
    # One number that orders as the ranking does: exact-spelling matches above any BM25 difference.
    return [SearchHit(call_id=cid, score=n_exact * 1000.0 + float(bm25), snippet=found.get(cid, ""))
            for cid, n_exact, bm25 in rows]


def snippets_for(con: duckdb.DuckDBPyConnection, call_ids: list[str], query: str) -> dict[str, str]:
    """The snippet of each of ``call_ids`` for ``query``, as :func:`search_calls` gives it."""
    groups = parse_query(query)
    return _snippets(con, list(call_ids), groups) if groups else {}


def term_in(norms: list[str], folds: list[str], term: Term) -> bool:
    """Whether the written words (normalised and folded, aligned) say ``term`` (:func:`syllable_says`)."""
    return bool(phrase_starts(norms, folds, term.norm.split(), accent_free=not term.exact))


def _verify(con: duckdb.DuckDBPyConnection, rows: list[tuple], groups: list[list[Term]]) -> list[tuple]:
    """The rows whose document really matches ``groups``, syllable by syllable (the SQL pre-filters phrases)."""
    docs = {cid: (norm.split(), fold.split()) for cid, norm, fold in search_index.doc_texts(con, [r[0] for r in rows])}
    keep = []
    for row in rows:
        norms, folds = docs.get(row[0], ([], []))
        if any(all(term_in(norms, folds, t) for t in grp) for grp in groups):
            keep.append(row)
    return keep


def _snippets(con: duckdb.DuckDBPyConnection, call_ids: list[str], groups: list[list[Term]]) -> dict[str, str]:
    """For each call, the redacted segment matching the most query words; else its summary and
    routed units when the match is there."""
    if not call_ids:
        return {}
    rows = search_index.segment_texts(con, call_ids)
    terms = [t for grp in groups for t in grp]
    best: dict[str, tuple[int, str]] = {}
    for cid, _seq, text in rows:
        norms, folds = normalize_text(text or "").split(), fold_accents(text or "").split()
        hits = sum(1 for t in terms if term_in(norms, folds, t))
        if hits and hits > best.get(cid, (0, ""))[0]:
            best[cid] = (hits, text)
    out = {cid: text for cid, (_, text) in best.items()}
    missing = [cid for cid in call_ids if cid not in out]
    if missing:
        for cid, summary, units in search_index.call_extras(con, missing):
            out[cid] = " — ".join(x for x in (summary, f"→ {units}" if units else None) if x)
    return out


@dataclass(frozen=True)
class Term:
    """A query word or quoted phrase: its normalised and accent-folded forms."""

    norm: str  # normalize_text: "đèn đường"
    fold: str  # fold_accents: "den duong"
    exact: bool = True  # the query was typed with diacritics, so each syllable means what was typed


_QUERY_RE = re.compile(r'"([^"]*)"|(\S+)')
OR_WORDS = {"OR", "HOẶC", "|"}


def parse_query(query: str) -> list[list[Term]]:
    """``đèn đường`` → one group of two words (both required); ``"đèn đường"`` → one phrase;
    ``rác OR "bốc mùi"`` (or ``|``, ``HOẶC``) → two alternative groups. Punctuation inside a
    word is dropped as in the index; empty groups vanish. Every term is ``exact`` unless the
    whole query (its OR words aside) is typed without a diacritic."""
    groups: list[list[str]] = [[]]
    for m in _QUERY_RE.finditer((query or "").replace("|", " | ")):
        phrase, word = m.group(1), m.group(2)
        if word is not None and word in OR_WORDS:
            groups.append([])
            continue
        text = phrase if phrase is not None else word
        if normalize_text(text):
            groups[-1].append(text)
    exact = not is_accent_free(" ".join(t for grp in groups for t in grp))
    return [[Term(norm=normalize_text(t), fold=fold_accents(t), exact=exact) for t in grp] for grp in groups if grp]


def highlight_terms(query: str) -> list[dict[str, object]]:
    """The query's words and phrases for the browser's highlighter: syllables and whether exact."""
    return [{"syllables": (t.norm if t.exact else t.fold).split(), "exact": t.exact}
            for grp in parse_query(query) for t in grp]


_WORD_RE = re.compile(r"\S+")


def match_flags(words: list[str], query: str) -> list[bool]:
    """For each written word, whether it is part of a match of one of ``query``'s words or phrases."""
    terms = [t for grp in parse_query(query) for t in grp]
    norms = [normalize_text(w).replace(" ", "") for w in words]
    folds = [fold_accents(w).replace(" ", "") for w in words]
    marked = [False] * len(words)
    for t in terms:
        parts = t.norm.split()
        for i in phrase_starts(norms, folds, parts, accent_free=not t.exact):
            for j in range(i, i + len(parts)):
                marked[j] = True
    return marked


def mark_matches(text: str | None, query: str) -> Markup:
    """``text`` HTML-escaped, with the words and phrases of ``query`` wrapped in ``<mark>``."""
    text = text or ""
    words = list(_WORD_RE.finditer(text))
    marked = match_flags([w.group() for w in words], query)
    out, pos = [], 0
    for w, on in zip(words, marked):
        out.append(escape(text[pos:w.start()]))
        out.append(Markup("<mark>%s</mark>") % w.group() if on else escape(w.group()))
        pos = w.end()
    out.append(escape(text[pos:]))
    return Markup("").join(out)
