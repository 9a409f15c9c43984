"""The readable transcript (issue 27 part 4): how it is assembled, redacted, stored, shown, exported,
corrected by QA and filled for old calls.

The assembly rules are tested with a stub tagger (every syllable lower case, a full stop after
"ạ"), so each assertion is about the rule it names; the shipped model is tested in
``test_readable_model.py``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pytest

from models.readable_text import ReadableTags
from pipeline.analysis.readable import make_readable, readable_turn, redact_numbers, redacted_correction
from pipeline.records import RedactedSegment, Segment, Word
from pipeline.report import exports
from pipeline.stages.analyse import redacted_segment
from pipeline.warehouse import db, load
from pipeline.stages.readable_fill import fill_readable
from pipeline.web import qa
from tests.support.call_results import one_turn_result as _result


class StubTagger:
    """Lower case everywhere; a full stop after "ạ"; a capital on "hà" (to see the model's capitals used)."""

    fingerprint = "stub:1"

    def tag(self, words):
        n = len(words)
        return ReadableTags(tuple(1 if w == "hà" else 0 for w in words), tuple(2 if w == "ạ" else 0 for w in words),
                            ("",) * n)


STUB = StubTagger()


@pytest.mark.parametrize("said, shown", [
    ("dạ em ở số bốn mươi lăm đường quang trung phường tân lợi chị ơi",
     "Dạ em ở số 45 đường Quang Trung phường Tân Lợi chị ơi."),
    ("nhà tôi ở hẻm một hai ba lê duẩn ạ số điện thoại [SĐT] chị ở đâu ạ",
     "Nhà tôi ở hẻm 123 Lê Duẩn ạ. Số điện thoại [SĐT] chị ở đâu ạ?"),
    ("xã cư m gar huyện krông pắc", "Xã Cư M'gar huyện Krông Pắc."),
    ("đường mười tháng ba", "Đường 10 Tháng 3."),  # the street's own name, not a date
    ("hôm ngày mười tháng ba", "Hôm ngày 10 tháng 3."),  # a date, not the street
    ("anh có xuống kiểm tra không", "Anh có xuống kiểm tra không?"),
    ("hai triệu rưỡi đồng lúc chín giờ rưỡi", "2,5 triệu đồng lúc 9 giờ 30."),
    ("thành công rồi", "Thành công rồi."),  # a ward's name, but no place word and no capital from the model
    ("ở buôn ma thuột", "Ở Buôn Ma Thuột."),
    ("chị cho em hỏi bao giờ thì phường cử người xuống", "Chị cho em hỏi bao giờ thì phường cử người xuống?"),
    ("bao giờ thì có người xuống", "Bao giờ thì có người xuống?"),
    ("em chưa bao giờ thấy ai xuống", "Em chưa bao giờ thấy ai xuống."),
    ("trận đấu ở sân hòa xuân", "Trận đấu ở sân Hòa Xuân."),  # a name after an institution word
    ("chở vào bệnh viện thống nhất", "Chở vào bệnh viện Thống Nhất."),
    ("một thị trường thống nhất", "Một thị trường thống nhất."),  # "trường" is not one: a common word
])
def test_assembly_rules(said, shown):
    assert make_readable(said, STUB).text == shown


class CommaTagger(StubTagger):
    """A comma after every syllable: the rules must keep them off place words and out of names."""

    def tag(self, words):
        return ReadableTags((0,) * len(words), (1,) * len(words), ("",) * len(words))


def test_no_comma_between_a_place_word_and_its_name_nor_inside_the_name():
    text = make_readable("phường tân lợi", CommaTagger()).text
    assert text == "Phường Tân Lợi."


class WrittenTextTagger(StubTagger):
    """Capitals where written text has them and speech does not: every place word, "anh" (England),
    "ạ", and "bà" and "rịa" (the province)."""

    def tag(self, words):
        caps = {"đường", "anh", "ạ", "bà", "rịa", "quang", "trung"}
        return ReadableTags(tuple(1 if w in caps else 0 for w in words), (0,) * len(words), ("",) * len(words))


@pytest.mark.parametrize("said, shown", [
    ("em ở số bốn mươi lăm đường quang trung ạ", "Em ở số 45 đường Quang Trung ạ."),
    ("vâng anh cho em xin tên ạ", "Vâng anh cho em xin tên ạ."),
    ("con tôi đi học tiếng anh", "Con tôi đi học tiếng Anh."),  # England after "tiếng"
    ("tôi ở bà rịa", "Tôi ở Bà Rịa."),  # a pronoun with a capital after it: a name
    ("anh ơi", "Anh ơi."),  # a sentence start keeps its capital
])
def test_speech_keeps_particles_pronouns_and_place_words_lower_case(said, shown):
    assert make_readable(said, WrittenTextTagger()).text == shown


def test_alignment_counts_the_recognised_syllables_of_each_written_token():
    r = make_readable("em ở số bốn mươi lăm [SĐT] ạ", STUB)
    assert r.text == "Em ở số 45 [SĐT] ạ."
    assert r.align == (1, 1, 1, 3, 1, 1) and r.syllables == 8 and r.align_text == "1 1 1 3 1 1"
    assert make_readable("", STUB).text == "" and make_readable("  , . ", STUB).align == ()


def test_numbers_the_readable_form_writes_are_redacted_again():
    # the normalised redaction missed it (stands in for any miss): the digits are caught in the readable form
    raw = "số của em là không chín không năm một hai ba bốn năm sáu"
    shown, raw_readable, align = readable_turn(raw, raw, STUB, n_words=len(raw.split()))
    assert "0905123456" in raw_readable and "0905123456" not in shown and "[SĐT]" in shown
    assert align.split() == ["1"] * 4 + ["10"]
    assert redact_numbers("Gọi 0905 123 456 nhé, số nhà 45.") == "Gọi [SĐT] nhé, số nhà 45."


def test_redaction_of_the_normalised_text_carries_into_the_readable_form():
    raw = "tôi tên là nguyễn văn hùng ở hẻm bốn mươi lăm"
    seg = Segment(0.0, 3.0, raw, words=tuple(Word(i * 0.3, i * 0.3 + 0.25, w, 0.9) for i, w in enumerate(raw.split())))
    stored = redacted_segment(seg, "tôi tên là [TÊN] ở hẻm bốn mươi lăm", STUB)
    assert stored.readable == "Tôi tên là [TÊN] ở hẻm 45."
    assert "Nguyễn" not in stored.readable and stored.readable_raw.startswith("Tôi tên là nguyễn")  # stub: no capitals
    assert stored.readable_align == "1 1 1 1 1 1 1 1 3"
    assert redacted_segment(seg, raw) == RedactedSegment(seg, raw)  # no model: no readable text


def test_a_qa_correction_hides_at_least_what_its_normalised_form_hides():
    assert redacted_correction("Gọi 0905123456 nhé", "gọi [SĐT] nhé") == "Gọi [SĐT] nhé"
    # a typed form the PII finder reads differently: the redacted normalised text, made readable, is shown instead
    shown = redacted_correction("Gọi chín không năm nhé", "gọi [SĐT] nhé", STUB)
    assert shown == "Gọi [SĐT] nhé."


def _readable_result(text="dạ em ở số bốn mươi lăm đường quang trung ạ", sha="cd" * 32):
    result = _result(sha=sha, text=text)
    seg = replace(result.analysis.segments[0].segment,
                  words=tuple(Word(0.5 + i * 0.1, 0.55 + i * 0.1, w, 0.9) for i, w in enumerate(text.split())))
    analysis = replace(result.analysis, segments=(redacted_segment(seg, text, STUB),))
    return replace(result, analysis=analysis, readable_model=STUB.fingerprint)


def test_stored_shown_exported_and_recorded_with_the_run(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    try:
        result = _readable_result()
        load.load_call(con, result, "run1")
        cid = result.recording.call_id
        row = con.execute("SELECT s.text, s.readable, s.readable_align, r.readable FROM segments s "
                          "JOIN segments_raw r USING (call_id, seq)").fetchone()
        assert row == ("dạ em ở số bốn mươi lăm đường quang trung ạ", "Dạ em ở số 45 đường Quang Trung ạ.",
                       "1 1 1 1 3 1 1 1 1", "Dạ em ở số 45 đường Quang Trung ạ.")
        assert con.execute("SELECT transcript, transcript_readable, readable_model FROM calls").fetchone() == \
            ("dạ em ở số bốn mươi lăm đường quang trung ạ", "Dạ em ở số 45 đường Quang Trung ạ.", "stub:1")
        con.execute("INSERT INTO runs (run_id, started_at, status) VALUES ('run2', now(), 'running')")
        load.load_call(con, result, "run2")
        assert con.execute("SELECT readable_model FROM runs WHERE run_id = 'run2'").fetchone()[0] == "stub:1"

        page = qa.page_detail(con, cid, raw_text=False, q="bốn mươi lăm")
        words = page["segments"][0]["words"]
        assert [w["w"] for w in words][:5] == ["Dạ", "em", "ở", "số", "45"]
        assert words[4]["s"] == pytest.approx(0.9) and words[4]["e"] == pytest.approx(1.15)  # the three words it stands for
        assert [w["w"] for w in words if w.get("hit")] == ["45"]  # the search matched its spoken form

        tr = exports.transcript(con, cid)
        vtt = exports.render_transcript(tr, "vtt")
        assert "<v Người dân>Dạ em ở số 45 đường Quang Trung ạ.</v>" in vtt
        assert "] Người dân: Dạ em ở số 45" in exports.render_transcript(tr, "txt")
        assert "[Người dân] Dạ em ở số 45" in exports.render_transcript(tr, "srt")
        assert '"normalised": "dạ em ở số bốn mươi lăm' in exports.render_transcript(tr, "json")
    finally:
        con.close()


def test_qa_edits_the_readable_text_and_the_normalised_text_follows(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    try:
        result = _readable_result()
        load.load_call(con, result, "run1")
        cid = result.recording.call_id
        shown = qa.correct_segment_text(con, cid, 0, "Dạ, em ở số 47 đường Quang Trung ạ.", "lan")
        assert shown == "Dạ, em ở số 47 đường Quang Trung ạ."
        assert con.execute("SELECT text, readable, readable_align FROM segments").fetchone() == \
            ("dạ em ở số bốn mươi bảy đường quang trung ạ", shown, None)
        assert qa.correct_segment_text(con, cid, 0, "Dạ, em ở số 47 đường Quang Trung ạ.", "lan") is None  # unchanged
        load.load_call(con, result, "run2")  # reprocessed, same recogniser text: QA's readable text is kept
        assert con.execute("SELECT text, readable FROM segments").fetchone() == \
            ("dạ em ở số bốn mươi bảy đường quang trung ạ", shown)
        assert con.execute("SELECT transcript_readable FROM calls").fetchone()[0] == shown
    finally:
        con.close()


def test_backfill_fills_old_calls_from_their_stored_text(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    try:
        plain = _result(sha="ef" * 32, text="rác ở hẻm một trăm hai mươi ba chưa ai dọn ạ")  # loaded without a model
        load.load_call(con, plain, "run1")
        con.execute("UPDATE calls SET started_at = TIMESTAMP '2026-11-20 09:00'")
        assert con.execute("SELECT readable FROM segments").fetchone()[0] is None
        done = fill_readable(con, STUB, date(2026, 11, 1), date(2026, 11, 30))
        assert (done.calls, done.segments, done.skipped) == (1, 1, 0)
        assert con.execute("SELECT s.readable, r.readable, c.transcript_readable, c.readable_model FROM segments s "
                           "JOIN segments_raw r USING (call_id, seq) JOIN calls c USING (call_id)").fetchone() == \
            ("Rác ở hẻm 123 chưa ai dọn ạ.", "Rác ở hẻm 123 chưa ai dọn ạ.", "Rác ở hẻm 123 chưa ai dọn ạ.", "stub:1")
        again = fill_readable(con, STUB, date(2026, 11, 1), date(2026, 11, 30))
        assert (again.calls, again.skipped) == (0, 1)  # the same model again: nothing to do
        assert fill_readable(con, STUB, date(2026, 12, 1), date(2026, 12, 31)).calls == 0  # outside the range
    finally:
        con.close()


class NewerTagger(StubTagger):
    """Another model: a comma after "em" as well."""

    fingerprint = "stub:2"

    def tag(self, words):
        t = super().tag(words)
        return ReadableTags(t.cases, tuple(1 if w == "em" else p for w, p in zip(words, t.puncts)), t.mixed)


def test_backfill_refills_calls_an_older_model_made_and_keeps_qa_corrections(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    try:
        edited, plain = _readable_result(), _readable_result(sha="ab" * 32)
        load.load_call(con, edited, "run1")
        load.load_call(con, plain, "run1")
        con.execute("UPDATE calls SET started_at = TIMESTAMP '2026-11-20 09:00'")
        typed = qa.correct_segment_text(con, edited.recording.call_id, 0, "Dạ, em ở số 47 đường Quang Trung ạ.", "lan")
        done = fill_readable(con, NewerTagger(), date(2026, 11, 1), date(2026, 11, 30))
        assert (done.calls, done.skipped) == (2, 0)  # both were made by stub:1
        rows = dict(con.execute("SELECT c.call_id, s.readable || ' | ' || c.readable_model FROM segments s "
                                "JOIN calls c USING (call_id)").fetchall())
        assert rows[plain.recording.call_id] == "Dạ em, ở số 45 đường Quang Trung ạ. | stub:2"
        assert rows[edited.recording.call_id] == f"{typed} | stub:2"  # QA's text is not overwritten
        assert fill_readable(con, NewerTagger(), date(2026, 11, 1), date(2026, 11, 30)).calls == 0
    finally:
        con.close()


def test_migration_014_adds_the_columns_to_a_warehouse_made_before_it(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)")
    for version, name, sql in db.migrations():
        if version < 14:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
    con.close()
    con = db.connect(path)
    try:
        cols = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                          "WHERE table_name = 'segments'").fetchall()}
        assert {"readable", "readable_align"} <= cols
    finally:
        con.close()


def test_page_spreads_times_when_the_words_do_not_line_up():
    words = [(0.0, 0.4, 0.9), (0.4, 0.8, 0.3), (0.8, 1.2, 0.9)]
    timed = qa._timed_words("Ba 45.", 0.0, 1.2, words, "1 2")
    assert [(w["w"], w["s"], w["e"], w["p"]) for w in timed] == [("Ba", 0.0, 0.4, 0.9), ("45.", 0.4, 1.2, 0.3)]
    spread = qa._timed_words("Ba 45 nữa đi.", 0.0, 1.2, words, "1 1")  # stale alignment: spread by length
    assert [w["p"] for w in spread] == [None] * 4


def test_layers_models_module_reads_only_vocabulary():
    src = (Path(__file__).resolve().parents[2] / "models" / "readable_text.py").read_text(encoding="utf-8")
    assert "from pipeline.errors import" in src and "pipeline.analysis" not in src
