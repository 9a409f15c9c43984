"""Full-text search: with or without diacritics, BM25-ranked, rebuilt when calls change."""

from __future__ import annotations

import duckdb
import pytest

from pipeline.warehouse import search
from pipeline.warehouse import search_index


@pytest.fixture
def con(web_db):
    con = duckdb.connect(str(web_db))
    search.refresh_search_index(con)
    yield con
    con.close()


def _ids(hits):
    return [h.call_id for h in hits]


def test_finds_words_with_and_without_diacritics(con):
    with_marks = search.search_calls(con, "Đèn đường")
    without = search.search_calls(con, "den duong")
    assert with_marks and set(_ids(with_marks)) == set(_ids(without))
    # Every word is required: only the street-light calls, not every call saying "đường".
    assert all("đèn đường" in h.snippet.lower() for h in with_marks)
    any_road = search.search_calls(con, "đường")
    assert len(any_road) > len(with_marks)


def test_diacritics_typed_must_match_and_accentless_matches_any(con):
    # "tắt" (switched off, street lights) and "Tất" (Nguyễn Tất Thành street) both fold to "tat".
    folded = search.search_calls(con, "tat")
    exact = search.search_calls(con, "tắt")
    assert exact and set(_ids(exact)) < set(_ids(folded))
    assert all("tắt" in h.snippet.lower() for h in exact)
    assert any("tất" in h.snippet.lower() for h in folded)
    # "rác thải" must not match "thái" (nor anything without both words).
    assert search.search_calls(con, "rác thải") == []
    assert search.search_calls(con, "rác")


def test_phrases_and_or(con):
    both = set(_ids(search.search_calls(con, "đèn OR ổ gà")))
    lights = set(_ids(search.search_calls(con, "đèn")))
    holes = set(_ids(search.search_calls(con, "ổ gà")))
    assert lights and holes and both == lights | holes
    assert set(_ids(search.search_calls(con, "đèn | ổ gà"))) == both
    # A phrase needs its words side by side: "gà ổ" as a phrase matches nothing, as words it matches.
    assert search.search_calls(con, '"gà ổ"') == []
    assert set(_ids(search.search_calls(con, "gà ổ"))) == holes
    assert set(_ids(search.search_calls(con, '"ổ gà"'))) == holes


def test_exact_spelling_ranks_first(con):
    hits = search.search_calls(con, "tat")
    exactish = search.search_calls(con, "tắt OR tat")
    assert set(_ids(hits)) == set(_ids(exactish))
    n_lights = len(search.search_calls(con, "tắt"))
    assert all("tắt" in h.snippet.lower() for h in exactish[:n_lights])


def test_parse_query_and_highlight():
    groups = search.parse_query('đèn đường OR "bốc mùi" | rac')
    assert [[t.norm for t in g] for g in groups] == [["đèn", "đường"], ["bốc mùi"], ["rac"]]
    assert search.parse_query("  ?! ") == []
    html = str(search.mark_matches("Đèn đường ở <hẻm>, đường tối.", "den duong"))
    assert html == "<mark>Đèn</mark> <mark>đường</mark> ở &lt;hẻm&gt;, <mark>đường</mark> tối."
    assert "<mark>" not in str(search.mark_matches("Thái Bình", "thải"))


def test_results_are_ranked_by_score(con):
    hits = search.search_calls(con, "rác thu gom phường")
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) > 1
    assert "rác" in hits[0].snippet.lower()


def test_no_match_and_empty_query(con):
    assert search.search_calls(con, "xyzzy") == []
    assert search.search_calls(con, "  ?! ") == []


def test_redacted_text_only(con):
    assert search.search_calls(con, "0905123456") == []


def test_index_goes_stale_and_is_rebuilt_after_a_load(con):
    assert search.index_is_current(con)
    cid = con.execute("SELECT min(call_id) FROM calls").fetchone()[0]
    con.execute("UPDATE calls SET transcript = 'Cây đổ chắn ngang đường Hùng Vương' "
                "WHERE call_id = ?", [cid])
    assert not search.index_is_current(con)
    assert search.search_calls(con, "hung vuong") == []  # the old index does not know it yet
    search.ensure_search_index(con)
    hits = search.search_calls(con, "hung vuong")
    assert _ids(hits) == [cid]


def test_index_built_lazily_when_missing(web_db):
    con = duckdb.connect(str(web_db))
    try:
        assert not search.index_is_current(con)
        search.ensure_search_index(con)
        assert search.index_is_current(con)
        assert search.search_calls(con, "ổ gà")
    finally:
        con.close()


def test_blanked_transcript_leaves_the_index(con):
    # A retention purge blanks transcripts without touching processed_at.
    hits = search.search_calls(con, "ổ gà")
    assert hits
    con.execute("UPDATE calls SET transcript = NULL WHERE call_id = ?", [hits[0].call_id])
    assert not search.index_is_current(con)
    search.ensure_search_index(con)
    assert hits[0].call_id not in _ids(search.search_calls(con, "ổ gà"))
    words = con.execute("SELECT count(*) FROM fts_main_search_docs.docs WHERE name = ?", [hits[0].call_id]).fetchone()[0]
    assert words == 0


def test_accentless_transcript_matches_a_query_with_diacritics_but_other_marks_do_not(con):
    cid = con.execute("SELECT min(call_id) FROM calls").fetchone()[0]
    con.execute("UPDATE calls SET transcript = 'rac thai do bua bai o hem' WHERE call_id = ?", [cid])
    search.ensure_search_index(con)
    assert _ids(search.search_calls(con, "rác thải")) == [cid]  # ASR lost the marks: still found
    con.execute("UPDATE calls SET transcript = 'rác ở nhà ông Thái' WHERE call_id = ?", [cid])
    search.ensure_search_index(con)
    assert search.search_calls(con, "rác thải") == []  # "thái" is another word


def test_labelled_search_set_precision_recall(tmp_path):
    from pipeline.eval import search as search_eval
    from pipeline.warehouse import db

    spec = search_eval.read_search_set()
    c = db.connect(tmp_path / "s.duckdb")
    try:
        labels = search_eval.build_search_db(c, spec, n_calls=150, seed=3)
        new = search_eval.summary(search_eval.evaluate(c, spec, labels))
        old = search_eval.summary(search_eval.evaluate(c, spec, labels, rewrite=search_eval.old_style))
    finally:
        c.close()
    # Required words and exact marks: far fewer wrong calls than OR-ing folded words.
    assert new["micro_precision"] > 0.9 > 0.5 > old["micro_precision"]
    assert new["micro_recall"] > 0.6


def test_own_bm25_equals_fts_match_bm25(con):
    search.load_fts(con)
    terms = ["den", "duong", "rac"]
    ours = dict(con.execute(search_index.BM25_SQL.format(terms="$t", field="'text_fold'"), {"t": terms}).fetchall())
    theirs = dict(con.execute(
        "SELECT call_id, fts_main_search_docs.match_bm25(call_id, $q, fields := 'text_fold') AS s FROM search_docs "
        "WHERE s IS NOT NULL", {"q": " ".join(terms)}).fetchall())
    assert ours.keys() == theirs.keys() and len(ours) > 5
    assert all(abs(ours[k] - theirs[k]) < 1e-9 for k in ours)
