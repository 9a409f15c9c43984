"""Similar calls: same topic and unit, close text, near in time, rank first."""

from datetime import datetime, timedelta
from pathlib import Path

from pipeline.records import (CallAnalysis, CallLogEntry, CallResult, Place, Recording, RedactedSegment, Segment,
                              SpeakerResult, TopicScore, TranscriptInfo)
from pipeline.warehouse import db, load
from pipeline.warehouse.similar import similar_calls

T0 = datetime(2026, 11, 2, 9)


def _call(n: int, text: str, topic: str, unit: str | None, days: float) -> CallResult:
    sha = f"{n:02d}" * 32
    seg = Segment(start=0.0, end=3.0, text=text, role="citizen")
    log = CallLogEntry(pbx_call_id=str(n), file_name=f"{n}.wav", started_at=T0 + timedelta(days=days),
                       caller_hash=None, caller_last3=None, operator_ext="101", direction="inbound")
    places = (Place("ward", "x", "X", unit, None, 0, 1),) if unit else ()
    analysis = CallAnalysis(topics=(TopicScore(topic, 0.9, True), TopicScore("other", 0.1, False)), places=places,
                            segments=(RedactedSegment(seg, text),), summary=f"tóm tắt {n}")
    return CallResult(recording=Recording(path=Path(f"/src/{n}.wav"), relpath=f"{n}.wav", sha256=sha, size_bytes=1,
                                          log=log),
                      duration_s=3.0, channels=1, source_sample_rate=8000, info=TranscriptInfo("vi", 1.0, 3.0),
                      speakers=SpeakerResult((seg,), 1, 1.0, "pyannote"), analysis=analysis, asr_model="m",
                      asr_fingerprint="x", timings={})


def test_ranking(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    calls = [
        _call(1, "rác ở hẻm 45 đường y jút không ai thu gom", "environment", "24133", 0),
        _call(2, "rac o hem 45 duong y jut ca tuan khong ai thu gom", "environment", "24133", 1),  # same case
        _call(3, "rác chất đống ở chợ không ai thu gom", "environment", "24121", 2),  # same topic, other ward
        _call(4, "đèn đường tắt cả tuần", "utilities", "24133", 1),  # same ward, other topic
        _call(5, "rác ở hẻm 45 đường y jút không ai thu gom", "environment", "24133", 200),  # out of the window
    ]
    for c in calls:
        load.load_call(con, c, "run1")
    me = calls[0].recording.call_id
    got = similar_calls(con, me, min_score=0.0)
    ids = [g["call_id"] for g in got]
    assert me not in ids and calls[4].recording.call_id not in ids
    assert ids[0] == calls[1].recording.call_id
    assert ids.index(calls[2].recording.call_id) < ids.index(calls[3].recording.call_id)
    assert got[0]["summary"] == "tóm tắt 2" and 0 < got[-1]["score"] < got[0]["score"] <= 1
    assert similar_calls(con, "nope") == []


def test_a_line_scoped_reader_is_offered_only_calls_on_its_lines(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    calls = [_call(n, "rác ở hẻm 45 đường y jút không ai thu gom", "environment", "24133", n) for n in range(1, 5)]
    for c in calls:
        load.load_call(con, c, "run1")
    ids = [c.recording.call_id for c in calls]
    con.execute("UPDATE calls SET line = CASE WHEN call_id IN (?, ?) THEN 'bmt' ELSE 'tinh' END", ids[:2])
    everyone = {g["call_id"] for g in similar_calls(con, ids[0], min_score=0.0)}
    city = {g["call_id"] for g in similar_calls(con, ids[0], min_score=0.0, lines=("bmt",))}
    assert everyone == set(ids[1:]) and city == {ids[1]}
    assert similar_calls(con, ids[0], min_score=0.0, lines=()) == []


def test_only_the_shortlist_has_its_text_compared(tmp_path, monkeypatch):
    from pipeline.warehouse import similar

    monkeypatch.setattr(similar, "SHORTLIST", 2)
    con = db.connect(tmp_path / "w.duckdb")
    calls = [_call(1, "rác ở hẻm 45", "environment", "24133", 0), _call(2, "rác ở hẻm 45", "environment", "24133", 1),
             _call(3, "rác ở hẻm 45", "environment", "24121", 2), _call(4, "rác ở hẻm 45", "utilities", "24121", 1)]
    for c in calls:
        load.load_call(con, c, "run1")
    got = [g["call_id"] for g in similar_calls(con, calls[0].recording.call_id, min_score=0.0)]
    assert got == [calls[1].recording.call_id, calls[2].recording.call_id]  # the third shares neither topic nor ward


def test_a_call_without_a_start_time_is_offered_similar_calls(tmp_path):
    """A call loaded without a call log has no start time: its page still lists similar calls (no time window)."""
    con = db.connect(tmp_path / "w.duckdb")
    calls = [_call(n, "rác ở hẻm 45 đường y jút không ai thu gom", "environment", "24133", n) for n in range(1, 4)]
    for c in calls:
        load.load_call(con, c, "run1")
    ids = [c.recording.call_id for c in calls]
    con.execute("UPDATE calls SET started_at = NULL WHERE call_id = ?", [ids[0]])
    assert {g["call_id"] for g in similar_calls(con, ids[0], min_score=0.0)} == set(ids[1:])
