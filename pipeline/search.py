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
Only redacted text is indexed, so search never reveals what redaction hid.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import duckdb
from markupsafe import Markup, escape

from pipeline.textnorm import fold_accents, normalize_text
from pipeline.warehouse.db import transaction

# Text is already normalised (punctuation removed) before it reaches the index, so
# the tokenizer only has to split on whitespace.
# Web requests run in threads; two of them finding the index stale must not rebuild it at once.
_BUILD_LOCK = threading.Lock()
_FTS_OPTIONS = "stemmer='none', stopwords='none', strip_accents=0, lower=0, ignore='\\s+', overwrite=1"


# BM25 (k1 = 1.2, b = 0.75, as fts's match_bm25) of every document for a list of terms in one
# field, read straight from the fts index tables: plain SQL, so a search needs no extension
# loaded (loading it costs ~0.2 s per connection, and the web app opens one per request).
_BM25_SQL = """
    SELECT docs.name AS call_id,
           sum(log(((st.num_docs - qt.df + 0.5) / (qt.df + 0.5)) + 1)
               * (tf.tf * 2.2) / (tf.tf + 1.2 * (0.25 + 0.75 * docs.len / st.avgdl))) AS score
    FROM (SELECT d.termid, d.df FROM fts_main_search_docs.dict d WHERE d.term IN (SELECT unnest({terms}))) qt
    JOIN (SELECT t.docid, t.termid, count(*) AS tf FROM fts_main_search_docs.terms t
          WHERE t.fieldid = (SELECT fieldid FROM fts_main_search_docs.fields WHERE field = {field})
          GROUP BY t.docid, t.termid) tf USING (termid)
    JOIN fts_main_search_docs.docs docs ON docs.docid = tf.docid
    CROSS JOIN fts_main_search_docs.stats st
    GROUP BY docs.name"""


@dataclass(frozen=True)
class SearchHit:
    call_id: str
    score: float  # BM25, higher is better; comparable within one query only
    snippet: str  # the best-matching segment's redacted text, or the transcript's start


def _fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    # Any change to an indexed transcript (a reload, a retention purge that blanks it) changes
    # this, so the next search rebuilds the index and no purged word stays in the fts tables.
    n, digest = con.execute(
        "SELECT count(*), bit_xor(hash(call_id || '\x1f' || transcript)) FROM calls "
        "WHERE status = 'done' AND transcript IS NOT NULL"
    ).fetchone()
    return f"{n}:{digest}"


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """Load the fts extension from the ``duckdb-extension-fts`` wheel (``INSTALL`` needs the network)."""
    try:
        con.execute("LOAD fts")
    except duckdb.Error:
        from duckdb_extensions import import_extension

        import_extension("fts", con=con)
        con.execute("LOAD fts")


def index_is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the index exists and was built from the calls now in the warehouse."""
    has_index = con.execute(
        "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'fts_main_search_docs'"
    ).fetchone()[0]
    state = con.execute("SELECT fingerprint FROM search_index_state").fetchone()
    return bool(has_index) and state is not None and state[0] == _fingerprint(con)


def refresh_search_index(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild ``search_docs`` and its BM25 index from ``calls``; call after each load.

    Needs a read-write connection. Returns the number of calls indexed.
    """
    load_fts(con)
    rows = con.execute("SELECT call_id, transcript FROM calls WHERE status = 'done' AND transcript IS NOT NULL").fetchall()
    import pandas as pd

    frame = pd.DataFrame(
        [(cid, normalize_text(text), fold_accents(text)) for cid, text in rows],
        columns=["call_id", "text_norm", "text_fold"],
    )
    with transaction(con):
        con.execute("DELETE FROM search_docs")
        con.register("_docs", frame)
        con.execute("INSERT INTO search_docs BY NAME SELECT * FROM _docs")
        con.unregister("_docs")
        con.execute("DELETE FROM search_index_state")
        con.execute("INSERT INTO search_index_state VALUES (?, now())", [_fingerprint(con)])
    # create_fts_index manages its own schema; it cannot run inside our transaction.
    con.execute(f"PRAGMA create_fts_index('search_docs', 'call_id', 'text_norm', 'text_fold', {_FTS_OPTIONS})")
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
    params: dict[str, object] = {}
    ors = []
    for g, group in enumerate(groups):
        ands = []
        for i, term in enumerate(group):
            name = f"t{g}_{i}"
            params[name] = f" {term.norm if term.exact else term.fold} "
            if term.exact:
                # As typed, or written with no diacritics at all (ASR output that lost them):
                # never with other marks ("thải" does not match "thái").
                params[name + "f"] = f" {term.fold} "
                ands.append(f"(contains(' ' || text_norm || ' ', ${name}) OR contains(' ' || text_norm || ' ', ${name}f))")
            else:
                ands.append(f"contains(' ' || text_fold || ' ', ${name})")
        ors.append("(" + " AND ".join(ands) + ")")
    # Exact spelling: the query's words as typed, diacritics and all, in the normalised text.
    exact_terms = sorted({t.norm for grp in groups for t in grp})
    for i, norm in enumerate(exact_terms):
        params[f"e{i}"] = f" {norm} "
    exact_count = " + ".join(f"CAST(contains(' ' || text_norm || ' ', $e{i}) AS INTEGER)"
                             for i in range(len(exact_terms))) or "0"
    params["fold_terms"] = sorted({w for grp in groups for t in grp for w in t.fold.split()})
    params["norm_terms"] = sorted({w for norm in exact_terms for w in norm.split()})
    sql = f"""
        WITH matched AS (
            SELECT call_id FROM search_docs WHERE {' OR '.join(ors)}
        ), exact AS (
            SELECT call_id, {exact_count} AS n_exact FROM search_docs WHERE call_id IN (SELECT call_id FROM matched)
        ), fold_bm25 AS ({_BM25_SQL.format(terms="$fold_terms", field="'text_fold'")}
        ), norm_bm25 AS ({_BM25_SQL.format(terms="$norm_terms", field="'text_norm'")}
        )
        SELECT e.call_id, e.n_exact, coalesce(f.score, 0) + coalesce(n.score, 0) AS bm25
        FROM exact e LEFT JOIN fold_bm25 f USING (call_id) LEFT JOIN norm_bm25 n USING (call_id)
        ORDER BY n_exact DESC, bm25 DESC, call_id
    """  # the WHERE holds fixed fragments only; every value is bound
    rows = con.execute(sql, params).fetchall()
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
    rows = con.execute(
        "SELECT call_id, seq, text FROM segments WHERE call_id IN (SELECT unnest(?)) ORDER BY call_id, seq",
        [call_ids],
    ).fetchall()
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
