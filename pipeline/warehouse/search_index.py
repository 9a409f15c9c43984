"""The search index's SQL: ``search_docs``, its postings ``search_terms``, the match and BM25 query.

:mod:`pipeline.warehouse.search` holds the logic (query syntax, normalisation, ranking, snippets);
these functions are its SQL. Every value is bound; SQL text is assembled only from
fixed fragments.

The index is our own (migration 028, issue 32): a row per call, field and word, updated for the
calls whose document changed (:func:`changed_docs`, :func:`apply_docs`) instead of rebuilt whole
as the fts extension's was. BM25 is the fts extension's (k1 = 1.2, b = 0.75; a document's length
counts the words of both fields, a word's document frequency counts documents holding it in
either field), so the scores are the ones it gave.
"""

from __future__ import annotations

import duckdb
from duckdb_extensions import import_extension

from pipeline.warehouse.db import transaction

NORM, FOLD = 0, 1  # search_terms.field: text_norm, text_fold

# Text is already normalised (punctuation removed) before it reaches the index, so the
# tokenizer only splits on whitespace (the fts reference index of the tests uses the same).
FTS_OPTIONS = "stemmer='none', stopwords='none', strip_accents=0, lower=0, ignore='\\s+', overwrite=1"


# BM25 of every document holding one of ``terms`` in ``field``, from the postings.
BM25_SQL = """
    SELECT t.call_id,
           sum(log(((st.num_docs - qt.df + 0.5) / (qt.df + 0.5)) + 1)
               * (t.tf * 2.2) / (t.tf + 1.2 * (0.25 + 0.75 * d.len / st.avgdl))) AS score
    FROM (SELECT term, count(DISTINCT call_id) AS df FROM search_terms
          WHERE term IN (SELECT unnest({terms})) GROUP BY term) qt
    JOIN search_terms t ON t.term = qt.term AND t.field = {field}
    JOIN search_docs d ON d.call_id = t.call_id
    CROSS JOIN (SELECT count(*) AS num_docs, avg(len) AS avgdl FROM search_docs) st
    GROUP BY t.call_id"""


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


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """Load the fts extension from the ``duckdb-extension-fts`` wheel (``INSTALL`` needs the network).
    Only the tests' reference index (:func:`build_fts_reference`) uses it now."""
    try:
        con.execute("LOAD fts")
    except duckdb.Error:
        import_extension("fts", con=con)
        con.execute("LOAD fts")


def build_fts_reference(con: duckdb.DuckDBPyConnection) -> None:
    """The fts extension's index over ``search_docs`` (``fts_main_search_docs``), for checking our BM25."""
    load_fts(con)
    con.execute(f"PRAGMA create_fts_index('search_docs', 'call_id', 'text_norm', 'text_fold', {FTS_OPTIONS})")


def index_built(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the index was ever built (cheap: one row of ``search_index_state``)."""
    return con.execute("SELECT count(*) FROM search_index_state").fetchone()[0] > 0


_CURRENT = f"SELECT call_id, text, hash(text) AS h FROM ({DOCS_SQL})"


def changed_docs(con: duckdb.DuckDBPyConnection, call_ids: list[str] | None = None
                 ) -> tuple[list[tuple[str, str, int]], list[str]]:
    """(call_id, document, hash) of the documents new or changed since indexed, and the indexed calls
    that have no document any more (purged, blanked, reloaded as failed); only among ``call_ids`` if given.
    Hashes every document in question: the work of a load, never of a search."""
    params: dict[str, object] = {}
    only = ""
    if call_ids is not None:
        params["ids"] = list(call_ids)
        only = " WHERE call_id IN (SELECT unnest($ids))"
    changed = con.execute(
        f"SELECT f.call_id, f.text, f.h FROM (SELECT * FROM ({_CURRENT}){only}) f "
        "LEFT JOIN search_docs d USING (call_id) WHERE d.doc_hash IS DISTINCT FROM f.h ORDER BY f.call_id",
        params).fetchall()
    gone = [r[0] for r in con.execute(
        f"SELECT call_id FROM (SELECT call_id FROM search_docs{only}) "
        f"WHERE call_id NOT IN (SELECT call_id FROM ({_CURRENT}){only}) ORDER BY call_id", params).fetchall()]
    return changed, gone


def index_is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the index exists and holds exactly the documents of the calls now in the warehouse
    (hashes every document: for loads, tests and checks, not per search)."""
    if not index_built(con):
        return False
    changed, gone = changed_docs(con)
    return not changed and not gone


def clear_index(con: duckdb.DuckDBPyConnection) -> None:
    """Empty the index (a full rebuild follows)."""
    with transaction(con):
        con.execute("DELETE FROM search_terms")
        con.execute("DELETE FROM search_docs")
        con.execute("DELETE FROM search_index_state")


def apply_docs(con: duckdb.DuckDBPyConnection, docs, gone: list[str]) -> None:
    """Replace the index entries of ``docs`` (a DataFrame: call_id, text_norm, text_fold, doc_hash, len)
    and drop those of ``gone``, in one transaction; marks the index built."""
    ids = [*docs["call_id"].tolist(), *gone]
    with transaction(con):
        if ids:
            import pandas as pd

            con.register("_ids", pd.DataFrame({"call_id": ids}))
            con.execute("DELETE FROM search_terms WHERE call_id IN (SELECT call_id FROM _ids)")
            con.execute("DELETE FROM search_docs WHERE call_id IN (SELECT call_id FROM _ids)")
            con.unregister("_ids")
        if len(docs):
            con.register("_docs", docs)
            con.execute("INSERT INTO search_docs BY NAME SELECT * FROM _docs")
            # Sorted by word: a word's postings sit together, so a search reads few row groups.
            con.execute(
                f"""INSERT INTO search_terms
                    SELECT term, field, call_id, count(*)::INTEGER FROM (
                        SELECT call_id, {NORM}::UTINYINT AS field, unnest(string_split(text_norm, ' ')) AS term
                        FROM _docs
                        UNION ALL
                        SELECT call_id, {FOLD}::UTINYINT, unnest(string_split(text_fold, ' ')) FROM _docs)
                    WHERE term <> '' GROUP BY term, field, call_id ORDER BY term, field, call_id""")
            con.unregister("_docs")
        con.execute("DELETE FROM search_index_state")
        con.execute("INSERT INTO search_index_state VALUES ('postings', now())")


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
    cands = []  # per group, the calls holding each of its words: a superset of the matches, from the postings
    for g, group in enumerate(groups):
        ands = []
        sets = []
        for i, term in enumerate(group):
            name = f"t{g}_{i}"
            if term.exact and " " not in term.norm:
                params[name + "p"] = sorted({term.norm, term.fold})
                sets.append(f"SELECT call_id FROM search_terms WHERE field = {NORM} AND term IN (SELECT unnest(${name}p))")
            else:
                for j, w in enumerate(sorted(set(term.fold.split()))):
                    params[f"{name}p{j}"] = w
                    sets.append(f"SELECT call_id FROM search_terms WHERE field = {FOLD} AND term = ${name}p{j}")
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
        cands.append("(" + " INTERSECT ".join(sets) + ")")
    # Exact spelling: the query's words as typed, diacritics and all, in the normalised text.
    exact_terms = sorted({t.norm for grp in groups for t in grp})
    for i, norm in enumerate(exact_terms):
        params[f"e{i}"] = f" {norm} "
    exact_count = " + ".join(f"CAST(contains(' ' || text_norm || ' ', $e{i}) AS INTEGER)"
                             for i in range(len(exact_terms))) or "0"
    params["fold_terms"] = sorted({w for grp in groups for t in grp for w in t.fold.split()})
    params["norm_terms"] = sorted({w for norm in exact_terms for w in norm.split()})
    sql = f"""
        WITH cand AS ({' UNION '.join(cands)}
        ), matched AS (
            -- the whole-word tests of the documents themselves, on the candidates only (issue 32: every
            -- document was scanned)
            SELECT call_id, {exact_count} AS n_exact FROM search_docs
            WHERE call_id IN (SELECT call_id FROM cand) AND ({' OR '.join(ors)})
        ), fold_bm25 AS ({BM25_SQL.format(terms="$fold_terms", field=FOLD)}
        ), norm_bm25 AS ({BM25_SQL.format(terms="$norm_terms", field=NORM)}
        )
        SELECT e.call_id, e.n_exact, coalesce(f.score, 0) + coalesce(n.score, 0) AS bm25
        FROM matched e LEFT JOIN fold_bm25 f USING (call_id) LEFT JOIN norm_bm25 n USING (call_id)
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
