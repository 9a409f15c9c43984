"""QA's corrections outlive a reprocessing of the call (pipeline.warehouse.qa_edits via load_call)."""

from pipeline.warehouse import db, load
from pipeline.web import qa
from tests.support.call_results import one_turn_result as _result


def test_text_place_and_urgent_corrections_are_reapplied_after_a_reload(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    try:
        load.load_call(con, _result(), "run1")
        cid = _result().recording.call_id
        assert qa.correct_segment_text(con, cid, 0, "rác thải không ai thu gom ở hẻm 5", "lan")
        assert qa.set_urgent(con, cid, True, "lan")
        assert qa.add_place(con, cid, "Tân Lợi", "ward", "lan")
        assert qa.remove_place(con, cid, "Tân Tiến", "lan")

        load.load_call(con, _result(), "run2")  # same text from the pipeline: the edit still fits
        # QA typed the readable text; the normalised text follows it (numbers said in words)
        assert con.execute("SELECT text, readable FROM segments WHERE call_id = ?", [cid]).fetchone() == \
            ("rác thải không ai thu gom ở hẻm năm", "rác thải không ai thu gom ở hẻm 5")
        assert "hẻm năm" in con.execute("SELECT transcript FROM calls").fetchone()[0]
        assert "hẻm 5" in con.execute("SELECT transcript_readable FROM calls").fetchone()[0]
        assert con.execute("SELECT urgent FROM calls").fetchone()[0] is True
        assert [r[0] for r in con.execute("SELECT coalesce(name, text) FROM call_places ORDER BY seq").fetchall()] \
            == ["Tân Lợi"]

        load.load_call(con, _result(text="rác ở chợ không ai dọn"), "run3")  # a new text: the edit no longer fits
        assert con.execute("SELECT text FROM segments").fetchone()[0] == "rác ở chợ không ai dọn"
        assert con.execute("SELECT count(*) FROM call_edits WHERE kind = 'transcript'").fetchone()[0] == 1
    finally:
        con.close()
