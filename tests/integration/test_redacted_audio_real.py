"""The product on a real recording (the sample call in which the caller reads his phone number, 8 kHz μ-law):
the number the text redacts is silenced in the audio a manager hears, and nothing else is touched."""

from __future__ import annotations

import shutil
from difflib import SequenceMatcher

import pytest

from pipeline.intake.ingest import hash_file
from pipeline.records import Recording
from pipeline.stages import audio_redaction as ar
from pipeline.warehouse import calls, db, load
from tests.helpers import REPO

SAMPLE = REPO / "samples" / "2026" / "11" / "17" / "rec_20261117_082507_ext101.wav"
NUMBER_TURN = (18.358, 24.015)  # s: the citizen's turn "… số điện thoại của tôi là không chín tám tám, bảy bảy sáu, năm năm bốn"
DIGITS = {"không", "một", "hai", "ba", "bốn", "tư", "năm", "lăm", "sáu", "bảy", "tám", "chín", "mươi", "mười", "linh"}


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    pytest.importorskip("vietasr")
    from pipeline.config import load_settings
    from pipeline.stages.process import get_models, process_recording

    tmp = tmp_path_factory.mktemp("redacted-audio")
    settings = load_settings(home=tmp, db_path=tmp / "hotline.duckdb")
    models = get_models(settings)
    (tmp / "pbx").mkdir()
    path = tmp / "pbx" / SAMPLE.name
    shutil.copyfile(SAMPLE, path)
    rec = Recording(path=path, relpath=path.name, sha256=hash_file(path), size_bytes=path.stat().st_size)
    result = process_recording(rec, models, settings)
    con = db.connect(settings.database)
    load.start_run(con, "run-1", str(path.parent))
    load.load_call(con, result, "run-1")
    rows = calls.redaction_rows(con, rec.call_id)
    con.close()
    return settings, models, path, result, rows


def _digit_words(words, lo, hi):
    return [w for w, s, e in words if s < hi and e > lo and w in DIGITS]


def test_the_spoken_number_is_silenced_and_the_rest_is_untouched(processed):
    from pipeline.stages.audio import decode_audio
    from pipeline.stages.process import transcribe_stage
    from pipeline.stages.transcribe import options_for

    settings, models, path, result, rows = processed
    spans = ar.call_spans(rows)
    phones = [s for s in spans if s.kind == "phone"]
    assert phones and all(s.timing == "words" for s in phones), spans  # the recogniser's own word times
    assert all(NUMBER_TURN[0] - 0.5 <= s.start and s.end <= NUMBER_TURN[1] + 0.5 for s in phones)
    intervals = ar.silence_intervals(spans, rows["duration_s"])

    raw = path.read_bytes()
    body, media = ar.redacted_recording(path, intervals)
    layout = ar.wav_layout(raw)
    assert media == "audio/wav" and len(body) == len(raw) and layout.silence == b"\xff"  # μ-law, patched in place
    ranges = ar.sample_ranges(intervals, layout.rate, layout.n_frames)
    at = layout.data_offset
    inside = bytearray()
    for lo, hi in ranges:
        assert body[at + lo : at + hi] == b"\xff" * (hi - lo)
        inside += raw[at + lo : at + hi]
    kept = bytearray(raw)
    for lo, hi in ranges:
        kept[at + lo : at + hi] = b"\xff" * (hi - lo)
    assert body == bytes(kept)  # every other byte as recorded
    assert len(set(inside)) > 20  # there was speech in the silenced stretch

    # Transcribed again: no digit of the number is heard; what was said before it is heard as before.
    before = [(w.text, w.start, w.end) for seg in result.analysis.segments for w in seg.segment.words]
    redacted = path.with_name("redacted.wav")
    redacted.write_bytes(body)
    after = [(w.text, w.start, w.end) for t in transcribe_stage(decode_audio(redacted), models, options_for(settings))
             for seg in t.segments for w in seg.words]
    lo, hi = min(a for a, _ in intervals), max(b for _, b in intervals)
    assert len(_digit_words(before, lo, hi)) >= 4  # the recogniser heard the number before
    assert _digit_words(after, lo - 0.2, hi + 0.2) == []
    assert lo > 6.2  # the hotline's own number (1022, public) at the start is not silenced
    # the segments before the one holding the number (that one is decoded again with the number's silence in it)
    first = min(seg.segment.start for seg in result.analysis.segments if seg.segment.end > lo)
    opening_before = [w for w, s, e in before if e <= first]
    opening_after = [w for w, s, e in after if e <= first]
    # the recogniser's piece that ends with the number may be decoded a little differently: most words, same order
    assert len(opening_before) >= 10 and SequenceMatcher(None, opening_before, opening_after).ratio() >= 0.85
