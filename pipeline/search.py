"""Full-text search over call transcripts, with or without diacritics, ranked by BM25.

Each call's redacted transcript is indexed twice in ``search_docs``: normalised
(``normalize_text``: NFC, lower case, one tone-mark placement) and accent-folded
(``fold_accents``: ``Đắk Lắk`` → ``dak lak``). A query typed without diacritics
(or an ASR output that lost them) matches the folded column; a query typed with
diacritics also scores on the normalised column, so exact-diacritic matches rank
first (``tắt`` "switched off" above ``tất`` "all", which fold to the same ``tat``).

DuckDB's fts extension is used with ``stemmer='none', strip_accents=0`` and our own
tokenisation: its defaults (Porter stemmer, ``[^a-z]`` ignored) mangle Vietnamese.
Only redacted text is indexed, so search never reveals what redaction hid.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import duckdb

from pipeline.textnorm import fold_accents, normalize_text

# Text is already normalised (punctuation removed) before it reaches the index, so
# the tokenizer only has to split on whitespace.
# Web requests run in threads; two of them finding the index stale must not rebuild it at once.
_BUILD_LOCK = threading.Lock()
_FTS_OPTIONS = "stemmer='none', stopwords='none', strip_accents=0, lower=0, ignore='\\s+', overwrite=1"


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
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM search_docs")
        con.register("_docs", frame)
        con.execute("INSERT INTO search_docs BY NAME SELECT * FROM _docs")
        con.unregister("_docs")
        con.execute("DELETE FROM search_index_state")
        con.execute("INSERT INTO search_index_state VALUES (?, now())", [_fingerprint(con)])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
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


def search_calls(con: duckdb.DuckDBPyConnection, query: str, *, limit: int = 200) -> list[SearchHit]:
    """Calls whose redacted transcript matches ``query``, best BM25 score first.

    The index must exist (:func:`ensure_search_index`). Words are OR-ed, as BM25
    does; a call matching more of them, or rarer ones, ranks higher. An empty
    query returns no hits.
    """
    q_norm, q_fold = normalize_text(query), fold_accents(query)
    if not q_fold:
        return []
    load_fts(con)
    has_diacritics = q_norm != q_fold
    rows = con.execute(
        """
        WITH scored AS (
            SELECT call_id,
                   fts_main_search_docs.match_bm25(call_id, $fold, fields := 'text_fold') AS fold_score,
                   CASE WHEN $exact THEN fts_main_search_docs.match_bm25(call_id, $norm, fields := 'text_norm') END
                       AS norm_score
            FROM search_docs
        ), final AS (
            SELECT call_id, coalesce(norm_score, 0) + coalesce(fold_score, 0) AS score
            FROM scored WHERE fold_score IS NOT NULL
        )
        SELECT call_id, score FROM final ORDER BY score DESC, call_id LIMIT $limit
        """,
        {"fold": q_fold, "norm": q_norm, "exact": has_diacritics, "limit": limit},
    ).fetchall()
    snippets = _snippets(con, [r[0] for r in rows], q_fold.split())
    return [SearchHit(call_id=cid, score=float(score), snippet=snippets.get(cid, "")) for cid, score in rows]


def _snippets(con: duckdb.DuckDBPyConnection, call_ids: list[str], folded_terms: list[str]) -> dict[str, str]:
    """For each call, the redacted segment sharing the most words with the query."""
    if not call_ids:
        return {}
    rows = con.execute(
        "SELECT call_id, seq, text FROM segments WHERE call_id IN (SELECT unnest(?)) ORDER BY call_id, seq",
        [call_ids],
    ).fetchall()
    terms = set(folded_terms)
    best: dict[str, tuple[int, str]] = {}
    for cid, _seq, text in rows:
        hits = len(terms & set(fold_accents(text or "").split()))
        if hits and hits > best.get(cid, (0, ""))[0]:
            best[cid] = (hits, text)
    return {cid: text for cid, (_, text) in best.items()}
