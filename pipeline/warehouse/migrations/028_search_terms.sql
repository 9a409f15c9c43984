-- Issue 32: our own inverted index, updated call by call at load, instead of the fts extension's
-- index (fts_main_search_docs), which could only be rebuilt whole (225 s at 10 000 calls).
-- The old index and documents go; the next search or load builds the new one (search_index_state empty).
DROP SCHEMA IF EXISTS fts_main_search_docs CASCADE;
DROP TABLE search_docs;
CREATE TABLE search_docs (
    call_id     VARCHAR PRIMARY KEY,
    text_norm   VARCHAR,                  -- pipeline.textnorm.normalize_text(search document)
    text_fold   VARCHAR,                  -- pipeline.textnorm.fold_accents(search document)
    doc_hash    UBIGINT NOT NULL,         -- hash() of the document it was built from (search_index.DOCS_SQL)
    len         INTEGER NOT NULL          -- words in both fields: BM25's document length, as fts counted it
);
-- One row per call, field and word: the postings BM25 and matching read (field 0: text_norm, 1: text_fold).
CREATE TABLE search_terms (
    term        VARCHAR NOT NULL,
    field       UTINYINT NOT NULL,
    call_id     VARCHAR NOT NULL,
    tf          INTEGER NOT NULL          -- times the word occurs in that field
);
DELETE FROM search_index_state;
