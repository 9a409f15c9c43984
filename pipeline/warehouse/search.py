"""Full-text search over call transcripts, with or without diacritics.

Query syntax (:func:`parse_query`): every word is required (``đèn đường`` finds calls
with both words); ``"đèn đường"`` is a phrase; ``OR`` (or ``|``) separates alternatives.
A word typed with diacritics matches them exactly, or the same letters written
with none (ASR output that lost them), never other marks (``rác thải`` does not match
``thái``); a word typed without matches any accents (``den duong``). Calls holding the
query's exact spelling rank first, then by BM25.

Each call's redacted transcript is indexed twice in ``search_docs``: normalised
(``normalize_text``: NFC, lower case, one tone-mark placement) and accent-folded
(``fold_accents``: ``Đắk Lắk`` → ``dak lak``). Matching is a whole-word test on those
columns; DuckDB's fts extension (``stemmer='none', strip_accents=0``, our own
tokenisation: its defaults mangle Vietnamese) supplies the BM25 score.
Only redacted text is indexed, so search never reveals what redaction hid. The SQL is
in :mod:`pipeline.warehouse.search_index`.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import duckdb
from markupsafe import Markup, escape

from pipeline.textnorm import fold_accents, normalize_text
from pipeline.warehouse import search_index
from pipeline.warehouse.search_index import index_is_current, load_fts  # noqa: F401 (part of this module's API)

# Web requests run in threads; two of them finding the index stale must not rebuild it at once.
_BUILD_LOCK = threading.Lock()


@dataclass(frozen=True)
class SearchHit:
    call_id: str
    score: float  # BM25, higher is better; comparable within one query only
    snippet: str  # the best-matching segment's redacted text, or the transcript's start


def refresh_search_index(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild ``search_docs`` and its BM25 index from ``calls``; call after each load.

    Needs a read-write connection. Returns the number of calls indexed.
    """
    load_fts(con)
    rows = search_index.done_transcripts(con)
    import pandas as pd

    frame = pd.DataFrame(
        [(cid, normalize_text(text), fold_accents(text)) for cid, text in rows],
        columns=["call_id", "text_norm", "text_fold"],
    )
    search_index.replace_index(con, frame)
    return len(frame)


def ensure_search_index(con: duckdb.DuckDBPyConnection) -> None:
    """Build the index lazily when it is missing or stale (read-write connection)."""
    if index_is_current(con):
        return
    with _BUILD_LOCK:
        if not index_is_current(con):
            refresh_search_index(con)


def search_calls(con: duckdb.DuckDBPyConnection, query: str, *, limit: int | None = 200) -> list[SearchHit]:
    """Calls whose redacted transcript matches ``query`` (see :func:`parse_query`), best first.

    Every word (or quoted phrase) of a group must occur; groups joined by ``OR`` are
    alternatives. A word typed with diacritics matches them exactly, or the same letters
    written with no diacritics at all (ASR output that lost them), never other marks
    (``thải`` does not match ``thái``); a word typed without matches any accents
    (``tat`` → ``tắt``, ``tất``).
    Among the matches, calls holding the query's exact spelling rank first, then BM25.
    The index must exist (:func:`ensure_search_index`). An empty query returns no hits.
    """
    groups = parse_query(query)
    if not groups:
        return []
    rows = search_index.ranked_matches(con, groups)
    if limit is not None:
        rows = rows[:limit]
    snippets = _snippets(con, [r[0] for r in rows], groups)
    # One number that orders as the ranking does: exact-spelling matches above any BM25 difference.
    return [SearchHit(call_id=cid, score=n_exact * 1000.0 + float(bm25), snippet=snippets.get(cid, ""))
            for cid, n_exact, bm25 in rows]


def _snippets(con: duckdb.DuckDBPyConnection, call_ids: list[str], groups: list[list[Term]]) -> dict[str, str]:
    """For each call, the redacted segment matching the most query words."""
    if not call_ids:
        return {}
    rows = search_index.segment_texts(con, call_ids)
    terms = [t for grp in groups for t in grp]
    best: dict[str, tuple[int, str]] = {}
    for cid, _seq, text in rows:
        norm, fold = f" {normalize_text(text or '')} ", f" {fold_accents(text or '')} "
        hits = sum(1 for t in terms if (f" {t.norm} " in norm or f" {t.fold} " in norm if t.exact
                                        else f" {t.fold} " in fold))
        if hits and hits > best.get(cid, (0, ""))[0]:
            best[cid] = (hits, text)
    return {cid: text for cid, (_, text) in best.items()}


@dataclass(frozen=True)
class Term:
    """A query word or quoted phrase: its normalised and accent-folded forms."""

    norm: str  # normalize_text: "đèn đường"
    fold: str  # fold_accents: "den duong"

    @property
    def exact(self) -> bool:
        """Typed with diacritics, so they must match."""
        return self.norm != self.fold


_QUERY_RE = re.compile(r'"([^"]*)"|(\S+)')
OR_WORDS = {"OR", "HOẶC", "|"}


def parse_query(query: str) -> list[list[Term]]:
    """``đèn đường`` → one group of two words (both required); ``"đèn đường"`` → one phrase;
    ``rác OR "bốc mùi"`` (or ``|``, ``HOẶC``) → two alternative groups. Punctuation inside a
    word is dropped as in the index; empty groups vanish."""
    groups: list[list[Term]] = [[]]
    for m in _QUERY_RE.finditer((query or "").replace("|", " | ")):
        phrase, word = m.group(1), m.group(2)
        if word is not None and word in OR_WORDS:
            groups.append([])
            continue
        text = phrase if phrase is not None else word
        norm = normalize_text(text)
        if norm:
            groups[-1].append(Term(norm=norm, fold=fold_accents(text)))
    return [g for g in groups if g]


def highlight_terms(query: str) -> list[dict[str, object]]:
    """The query's words and phrases for the browser's highlighter: syllables and whether exact."""
    return [{"syllables": (t.norm if t.exact else t.fold).split(), "exact": t.exact}
            for grp in parse_query(query) for t in grp]


_WORD_RE = re.compile(r"\S+")


def match_flags(words: list[str], query: str) -> list[bool]:
    """For each written word, whether it is part of a match of one of ``query``'s words or phrases."""
    terms = [t for grp in parse_query(query) for t in grp]
    norms = [normalize_text(w) for w in words]
    folds = [fold_accents(w) for w in words]
    marked = [False] * len(words)
    for t in terms:
        # Typed with diacritics: as typed, or written with none; typed without: any accents.
        wanted = [t.norm.split(), t.fold.split()] if t.exact else [t.fold.split()]
        forms = norms if t.exact else folds
        for parts in wanted:
            for i in range(len(words) - len(parts) + 1):
                if forms[i: i + len(parts)] == parts:
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
