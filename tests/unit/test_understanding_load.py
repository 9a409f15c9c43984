"""Summary and sentiment reach DuckDB; frustrated repeat callers go up the review queue."""

from dataclasses import replace
from datetime import datetime
from pathlib import Path

from pipeline.records import (CallAnalysis, CallLogEntry, CallResult, Recording, RedactedSegment, Segment, SpeakerResult,
                              TopicScore, TranscriptInfo)
from pipeline.analysis.sentiment import score_call
from pipeline.warehouse import db, load


def _result(sha: str, citizen: str, started: datetime, confidence: float = 0.3) -> CallResult:
    segs = (Segment(start=0.0, end=2.0, text="dạ tổng đài xin nghe", role="operator", confidence=confidence),
            Segment(start=2.0, end=6.0, text=citizen, role="citizen", confidence=confidence))
    mood = score_call([s.role for s in segs], [s.text for s in segs])
    log = CallLogEntry(pbx_call_id=sha[:6], file_name="a.wav", started_at=started, caller_hash=None,
                       caller_last3=None, operator_ext="101", direction="inbound")
    rec = Recording(path=Path("/src/a.wav"), relpath=f"{sha[:4]}.wav", sha256=sha, size_bytes=10, log=log)
    reasons = ("low_confidence",) + (("frustrated_repeat",) if mood.frustrated and mood.repeat_unresolved else ())
    analysis = CallAnalysis(topics=(TopicScore("environment", 0.9, True), TopicScore("other", 0.1, False)),
                            segments=tuple(RedactedSegment(s, s.text) for s in segs), confidence=confidence,
                            needs_review=True, review_reasons=reasons,
                            summary="Phản ánh rác thải không được thu gom.", sentiment=mood.as_dict())
    return CallResult(recording=rec, duration_s=6.0, channels=1, source_sample_rate=8000,
                      info=TranscriptInfo("vi", 1.0, 6.0), speakers=SpeakerResult(segs, 2, 1.0, "pyannote"),
                      analysis=analysis, asr_model="vietasr", asr_fingerprint="x", timings={})


def test_summary_sentiment_trend_and_queue(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    calm = _result("aa" * 32, "dạ em muốn báo rác ở hẻm chưa ai thu, cảm ơn chị", datetime(2026, 11, 2, 9), 0.2)
    angry = _result("bb" * 32, "tôi báo mấy lần rồi mà vẫn chưa ai xuống, mấy người làm ăn kiểu gì vậy hả, "
                    "tôi đưa lên báo luôn", datetime(2026, 11, 3, 9), 0.9)
    for r in (calm, angry):
        load.load_call(con, r, "run1")
    assert angry.analysis.sentiment["frustrated"] and angry.analysis.sentiment["repeat_unresolved"]
    assert not calm.analysis.sentiment["frustrated"]
    rows = dict(con.execute("SELECT call_id, summary FROM calls").fetchall())
    assert set(rows.values()) == {"Phản ánh rác thải không được thu gom."}
    turns = con.execute("SELECT call_id, seq, role, label FROM turn_sentiment ORDER BY call_id, seq").fetchall()
    assert [t[2] for t in turns] == ["operator", "citizen", "operator", "citizen"]
    # the angry caller is more confident (0.9) yet comes first: frustrated + unresolved before
    queue = [r[0] for r in con.execute("SELECT call_id FROM mart_review_queue ORDER BY priority").fetchall()]
    assert queue[0] == angry.recording.call_id
    trend = con.execute("SELECT topic, n_calls, n_frustrated, share_frustrated FROM mart_frustration_weekly").fetchall()
    assert trend == [("environment", 2, 1, 0.5)]
    # reloading replaces the turn rows
    load.load_call(con, replace(angry), "run1")
    assert con.execute("SELECT count(*) FROM turn_sentiment").fetchone()[0] == 4


def test_report_shows_frustration_trend_and_summaries(tmp_path):
    from pipeline.report.reports import render_report

    con = db.connect(tmp_path / "w.duckdb")
    angry = _result("cc" * 32, "tôi báo mấy lần rồi mà vẫn chưa ai xuống, mấy người làm ăn kiểu gì vậy hả",
                    datetime(2026, 11, 3, 9), 0.9)
    load.load_call(con, angry, "run1")
    html = render_report(con, "2026-11-01", "2026-11-30")
    assert "Tỉ lệ người gọi bức xúc" in html and "Phản ánh rác thải không được thu gom." in html
    assert "<td class=\"num\">100%</td>" in html  # one call, frustrated


def test_analyse_reads_places_on_the_map_of_the_call_date_and_summarises():
    from datetime import date

    import numpy as np

    from models.topic_model import load_topic_model
    from pipeline.config import load_settings
    from pipeline.records import DecodedAudio
    from pipeline.stages.analyse import analyse_call

    audio = DecodedAudio(np.zeros((1, 16000 * 6), dtype=np.float32), 16000, 16000)
    segs = (Segment(start=0.0, end=2.0, text="tổng đài xin nghe", role="operator", confidence=0.9),
            Segment(start=2.0, end=5.0, text="rác ở phường Tân An cả tuần không ai thu gom", role="citizen",
                    confidence=0.9),
            Segment(start=5.0, end=6.0, text="dạ em báo thu gom trong ngày", role="operator", confidence=0.9))
    kw = dict(topic_model=load_topic_model(), settings=load_settings())
    before = analyse_call(audio, segs, TranscriptInfo("vi", 1.0, 6.0), call_date=date(2025, 3, 1), **kw)
    after = analyse_call(audio, segs, TranscriptInfo("vi", 1.0, 6.0), call_date=date(2025, 9, 1), **kw)
    assert before.places[0].unit_code.startswith("legacy-")
    assert not after.places[0].unit_code.startswith("legacy-")
    assert after.summary.startswith("Phản ánh rác thải không được thu gom tại phường Tân An")
    assert after.summary.endswith("hẹn xử lý trong ngày.")
    assert [t["role"] for t in after.sentiment["turns"]] == ["operator", "citizen", "operator"]


def test_retention_purge_removes_the_summary(tmp_path):
    from pipeline.warehouse.purge import purge

    con = db.connect(tmp_path / "w.duckdb")
    load.load_call(con, _result("dd" * 32, "rác ở hẻm 45 chưa ai thu", datetime(2026, 1, 3, 9)), "run1")
    purge(con, 30, now=datetime(2026, 6, 1))
    assert con.execute("SELECT summary, purged_at IS NOT NULL FROM calls").fetchone() == (None, True)


def test_a_frustrated_caller_who_called_before_about_it_goes_up_the_queue(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    first = _result("ee" * 32, "dạ em báo rác ở hẻm chưa ai thu", datetime(2026, 11, 2, 9), 0.9)
    # frustrated, does not say it was reported before, but the same caller called 5 days earlier
    again = _result("ff" * 32, "mấy người làm ăn kiểu gì vậy hả, rác bốc mùi không chịu nổi, tôi đưa lên báo luôn",
                    datetime(2026, 11, 7, 9), 0.9)
    other = _result("11" * 32, "dạ rác ở chợ chưa thu", datetime(2026, 11, 7, 8), 0.1)
    for r, caller in ((first, "h1"), (again, "h1"), (other, "h2")):
        log = replace(r.recording.log, caller_hash=caller)
        load.load_call(con, replace(r, recording=replace(r.recording, log=log)), "run1")
    assert again.analysis.sentiment["frustrated"] and not again.analysis.sentiment["repeat_unresolved"]
    queue = [r[0] for r in con.execute("SELECT call_id FROM mart_review_queue ORDER BY priority").fetchall()]
    assert queue[0] == again.recording.call_id  # before the least confident call
