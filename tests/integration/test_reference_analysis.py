"""The analyse stage and the loader on the sample calls' reference transcripts.

Whisper base garbles the synthetic speech of the samples beyond recognition, so the
places, routes and personal data the calls hold are checked here from the script each
call was spoken from (samples/manifest.json), through the production analyse and load
code into a real DuckDB file.
"""

from __future__ import annotations

import json

import pytest

from pipeline.intake.ingest import scan_source
from pipeline.records import CallResult, Segment, SpeakerResult, TranscriptInfo
from pipeline.stages.analyse import analyse_call
from pipeline.stages.audio import decode_audio
from pipeline.warehouse import db, load
from tests.helpers import SAMPLES

MANIFEST = json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    from models.topic_model import load_topic_model
    from pipeline.config import load_settings

    settings = load_settings(home=tmp_path_factory.mktemp("home"))
    con = db.connect(settings.home / "ref.duckdb")
    model = load_topic_model()
    for rec in scan_source(SAMPLES, salt="test").recordings:
        turns = MANIFEST[rec.relpath]["turns"]
        segments = tuple(Segment(t["start_s"], t["end_s"], t["text"], channel=t.get("channel"), speaker=t["role"],
                                 role=t["role"], confidence=0.9) for t in turns)
        audio = decode_audio(rec.path)
        analysis = analyse_call(audio, segments, TranscriptInfo("vi", 1.0, audio.duration_s), topic_model=model,
                                settings=settings)
        result = CallResult(recording=rec, duration_s=audio.duration_s, channels=audio.channels,
                            source_sample_rate=audio.source_sample_rate, info=TranscriptInfo("vi", 1.0, audio.duration_s),
                            speakers=SpeakerResult(segments, 2, 1.0, "reference"), analysis=analysis,
                            asr_model="reference", asr_fingerprint="reference")
        load.load_call(con, result, "ref-run")
    yield con
    con.close()


def test_every_call_gets_a_street_and_a_ward_and_a_ward_route(warehouse):
    rows = warehouse.execute("""
        SELECT c.source_path, list(p.kind ORDER BY p.seq), list(p.name ORDER BY p.seq)
        FROM calls c JOIN call_places p USING (call_id) GROUP BY c.source_path""").fetchall()
    assert len(rows) == len(MANIFEST)
    for path, kinds, names in rows:
        assert "street" in kinds and "ward" in kinds, (path, kinds, names)
    routed = warehouse.execute("""
        SELECT count(DISTINCT call_id) FROM call_routes
        WHERE agency_vi LIKE 'UBND phường %' OR agency_vi LIKE 'Công an phường %'""").fetchone()[0]
    assert routed >= len(MANIFEST) - 1


def test_spoken_phone_numbers_are_redacted_in_stored_text(warehouse):
    phones = warehouse.execute("SELECT sum(n) FROM pii_counts WHERE kind = 'phone'").fetchone()[0]
    assert phones >= 2
    stored = " ".join(r[0] for r in warehouse.execute("SELECT text FROM segments").fetchall())
    assert "[SĐT]" in stored
    assert "không chín không năm, một hai ba" not in stored
    raw = " ".join(r[0] for r in warehouse.execute("SELECT text FROM segments_raw").fetchall())
    assert "không chín không năm, một hai ba" in raw, "the raw text is kept apart for allowed roles"


def test_topics_and_metrics_land_for_every_call(warehouse):
    agree = 0
    for path, expected in ((p, set(v["topics"])) for p, v in MANIFEST.items()):
        got = {r[0] for r in warehouse.execute(
            "SELECT topic FROM call_topics JOIN calls USING (call_id) WHERE source_path = ? AND assigned",
            [path]).fetchall()}
        agree += bool(got & expected)
    assert agree >= 4, "topics of the reference scripts match the intended topic on at least 4 of 5 calls"
    per_call = warehouse.execute("""
        SELECT count(DISTINCT call_id) FROM call_metrics
        WHERE scope = 'citizen' AND name = 'talk_time_s' AND value > 1""").fetchone()[0]
    assert per_call == len(MANIFEST)


def test_citizen_names_are_redacted_in_stored_text_and_exports_use_initials(warehouse):
    from pipeline.web.data import CallFilters, export_csv, list_calls

    stored = " ".join(r[0] for r in warehouse.execute("SELECT text FROM segments").fetchall())
    transcripts = " ".join(r[0] or "" for r in warehouse.execute("SELECT transcript FROM calls").fetchall())
    for text in (stored, transcripts):
        assert "Nguyễn Văn Hùng" not in text and "Hùng" not in text and "[TÊN]" in text
        for street in ("Y Jút", "Phan Bội Châu", "Mai Hắc Đế", "Nguyễn Tất Thành", "Lê Duẩn"):
            assert street in text, f"{street} is a street and stays"
    assert warehouse.execute("SELECT sum(n) FROM pii_counts WHERE kind = 'person_name'").fetchone()[0] == 1
    raw = " ".join(r[0] for r in warehouse.execute("SELECT text FROM segments_raw").fetchall())
    assert "Nguyễn Văn Hùng" in raw, "the raw text is kept apart for allowed roles"
    rows, _ = list_calls(warehouse, CallFilters(), limit=100)
    assert sorted(r["caller_initials"] or "" for r in rows) == ["", "", "", "", "N.V.H."]
    csv_text = export_csv(rows, caller_reference=True).decode("utf-8-sig")  # QA's and admins' export
    assert "N.V.H." in csv_text and "Hùng" not in csv_text
    assert "N.V.H." not in export_csv(rows).decode("utf-8-sig")  # other roles get no initials (docs/security.md)
