"""The search index's SQL: ``search_docs`` and its DuckDB fts index, the match and BM25 query.

:mod:`pipeline.warehouse.search` holds the logic (query syntax, normalisation, ranking, snippets);
these functions are its SQL. Every value is bound; SQL text is assembled only from
fixed fragments.
"""

from __future__ import annotations

import duckdb
from duckdb_extensions import import_extension

from pipeline.warehouse.db import transaction

# Text is already normalised (punctuation removed) before it reaches the index, so
# the tokenizer only has to split on whitespace.
FTS_OPTIONS = "stemmer='none', stopwords='none', strip_accents=0, lower=0, ignore='\\s+', overwrite=1"


# BM25 (k1 = 1.2, b = 0.75, as fts's match_bm25) of every document for a list of terms in one
# field, read straight from the fts index tables: plain SQL, so a search needs no extension
# loaded (loading it costs ~0.2 s per connection, and the web app opens one per request).
BM25_SQL = """
    SELECT docs.name AS call_id,
           sum(log(((st.num_docs - qt.df + 0.5) / (qt.df + 0.5)) + 1)
               * (tf.tf * 2.2) / (tf.tf + 1.2 * (0.25 + 0.75 * docs.len / st.avgdl))) AS score
    FROM (SELECT d.termid, d.df FROM fts_main_search_docs.dict d WHERE d.term IN (SELECT unnest({terms}))) qt
    JOIN (SELECT t.docid, t.termid, count(*) AS tf FROM fts_main_search_docs.terms t
          WHERE t.fieldid = (SELECT fieldid FROM fts_main_search_docs.fields WHERE field = {field})
            -- only the query's terms are counted: grouping every token of the index took 13 s at 10 000
            -- calls (issue 32); the scores are the same
            AND t.termid IN (SELECT d.termid FROM fts_main_search_docs.dict d WHERE d.term IN (SELECT unnest({terms})))
          GROUP BY t.docid, t.termid) tf USING (termid)
    JOIN fts_main_search_docs.docs docs ON docs.docid = tf.docid
    CROSS JOIN fts_main_search_docs.stats st
    GROUP BY docs.name"""


# What a call's search document holds: its redacted transcript, then its one-line summary, the
# units routing chose and its case's summary and unit (so "Điện lực" finds the calls routed to
# the power company). All of it redacted or built from redacted text; the unit's free-text result
# is not (it is stored unredacted), so it stays out.
DOCS_SQL = """
    WITH routes AS (
        SELECT call_id, string_agg(DISTINCT agency_vi, ' ; ') AS units FROM call_routes
        WHERE agency_vi IS NOT NULL GROUP BY call_id
    ), case_text AS (
        SELECT cc.call_id, concat_ws(' ; ', k.summary, k.unit) AS text
        FROM case_calls cc JOIN cases k USING (case_id)
    ), final AS (
        SELECT c.call_id, concat_ws(' ; ', c.transcript, c.summary, r.units, k.text) AS text
        FROM calls c LEFT JOIN routes r USING (call_id) LEFT JOIN case_text k USING (call_id)
        WHERE c.status = 'done' AND c.transcript IS NOT NULL
    )
    SELECT call_id, text FROM final"""


def fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """Of the indexed documents: any change (a reload, a retention purge that blanks one, a case
    re-routed) changes it, so the next search rebuilds the index and no purged word stays in the
    fts tables."""
    n, digest = con.execute(
        f"SELECT count(*), bit_xor(hash(call_id || '\x1f' || text)) FROM ({DOCS_SQL})"
    ).fetchone()
    return f"{n}:{digest}"


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """Load the fts extension from the ``duckdb-extension-fts`` wheel (``INSTALL`` needs the network)."""
    try:
        con.execute("LOAD fts")
    except duckdb.Error:
        import_extension("fts", con=con)
        con.execute("LOAD fts")


def index_is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the index exists and was built from the calls now in the warehouse."""
    has_index = con.execute(
        "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'fts_main_search_docs'"
    ).fetchone()[0]
    state = con.execute("SELECT fingerprint FROM search_index_state").fetchone()
    return bool(has_index) and state is not None and state[0] == fingerprint(con)


def done_transcripts(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(call_id, search document) of every processed call with a transcript (:data:`DOCS_SQL`)."""
    return con.execute(DOCS_SQL).fetchall()


def replace_index(con: duckdb.DuckDBPyConnection, docs) -> None:
    """Replace ``search_docs`` with ``docs`` (a DataFrame: call_id, text_norm, text_fold), then build the fts index.

    Needs the fts extension loaded (:func:`load_fts`) and a read-write connection.
    """
    with transaction(con):
        con.execute("DELETE FROM search_docs")
        con.register("_docs", docs)
        con.execute("INSERT INTO search_docs BY NAME SELECT * FROM _docs")
        con.unregister("_docs")
        con.execute("DELETE FROM search_index_state")
        con.execute("INSERT INTO search_index_state VALUES (?, now())", [fingerprint(con)])
    # create_fts_index manages its own schema; it cannot run inside our transaction.
    con.execute(f"PRAGMA create_fts_index('search_docs', 'call_id', 'text_norm', 'text_fold', {FTS_OPTIONS})")


def ranked_matches(con: duckdb.DuckDBPyConnection, groups) -> list[tuple[str, int, float]]:
    """(call_id, n_exact, bm25) of the documents matching ``groups``, best first.

    ``groups``: alternatives, each a list of required terms with ``norm``, ``fold`` and
    ``exact`` (:class:`pipeline.warehouse.search.Term`). In a query typed with diacritics a word
    matches as typed or written with none; in one typed without, any accents; a phrase of a query
    with diacritics is only pre-filtered here (the caller checks each syllable). ``n_exact``
    counts the query's words found as typed; then BM25 over both fields.
    """
    params: dict[str, object] = {}
    ors = []
    for g, group in enumerate(groups):
        ands = []
        for i, term in enumerate(group):
            name = f"t{g}_{i}"
            params[name] = f" {term.norm if term.exact else term.fold} "
            if term.exact and " " not in term.norm:
                # As typed, or written with no diacritics at all (ASR output that lost them):
                # never with other marks ("thải" does not match "thái"; "an" does not match "ăn").
                params[name + "f"] = f" {term.fold} "
                ands.append(f"(contains(' ' || text_norm || ' ', ${name}) OR contains(' ' || text_norm || ' ', ${name}f))")
            elif term.exact:
                # A phrase typed with marks: its syllables each as typed or bare, which SQL cannot say
                # simply; the folded phrase finds every candidate and the caller checks them
                # (pipeline.warehouse.search._verify).
                params[name] = f" {term.fold} "
                ands.append(f"contains(' ' || text_fold || ' ', ${name})")
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
        ), fold_bm25 AS ({BM25_SQL.format(terms="$fold_terms", field="'text_fold'")}
        ), norm_bm25 AS ({BM25_SQL.format(terms="$norm_terms", field="'text_norm'")}
        )
        SELECT e.call_id, e.n_exact, coalesce(f.score, 0) + coalesce(n.score, 0) AS bm25
        FROM exact e LEFT JOIN fold_bm25 f USING (call_id) LEFT JOIN norm_bm25 n USING (call_id)
        ORDER BY n_exact DESC, bm25 DESC, call_id
    """  # the WHERE holds fixed fragments only; every value is bound
    return con.execute(sql, params).fetchall()


def segment_texts(con: duckdb.DuckDBPyConnection, call_ids: list[str]) -> list[tuple[str, int, str | None]]:
    """(call_id, seq, redacted text) of the calls' segments, in order."""
    return con.execute(
        "SELECT call_id, seq, text FROM segments WHERE call_id IN (SELECT unnest(?)) ORDER BY call_id, seq",
        [call_ids],
    ).fetchall()


def doc_texts(con: duckdb.DuckDBPyConnection, call_ids: list[str]) -> list[tuple[str, str, str]]:
    """(call_id, text_norm, text_fold) of the indexed documents of ``call_ids``."""
    return con.execute("SELECT call_id, text_norm, text_fold FROM search_docs WHERE call_id IN (SELECT unnest(?))",
                       [call_ids]).fetchall()


def call_extras(con: duckdb.DuckDBPyConnection, call_ids: list[str]) -> list[tuple[str, str | None, str | None]]:
    """(call_id, summary, units routing chose) of ``call_ids``, for a snippet when the transcript has no hit."""
    return con.execute(
        """SELECT c.call_id, c.summary, (SELECT string_agg(DISTINCT r.agency_vi, ' ; ') FROM call_routes r
                                          WHERE r.call_id = c.call_id) FROM calls c
           WHERE c.call_id IN (SELECT unnest(?))""", [call_ids]).fetchall()
