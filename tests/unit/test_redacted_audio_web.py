"""``/audio/{id}``: a role that may not read raw text hears the redacted audio, whole or by any byte range;
a role that may read raw text hears the recording as it is (issue 25, "New: redacted audio")."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest
from fastapi.testclient import TestClient

from pipeline.stages import audio_redaction as ar
from pipeline.warehouse import calls, db
from tests.support.redacted_audio import redacted_call_with_words
from tests.support.web_fixtures import FAST_AUTH, log_in


def _redacted_call(web_db) -> str:
    return redacted_call_with_words(web_db)


def _intervals(web_db, call_id):
    con = duckdb.connect(str(web_db), read_only=True)
    rows = calls.redaction_rows(con, call_id)
    con.close()
    return ar.silence_intervals(ar.call_spans(rows), rows["duration_s"])


def _frames(body: bytes) -> np.ndarray:
    layout = ar.wav_layout(body)
    data = body[layout.data_offset : layout.data_offset + layout.n_frames * layout.block_align]
    return np.frombuffer(data, "<i2")


def test_manager_hears_the_number_silenced_and_qa_hears_it(web_db, client_as):
    call_id = _redacted_call(web_db)
    intervals = _intervals(web_db, call_id)
    con = duckdb.connect(str(web_db), read_only=True)
    number_at, number_end = con.execute("SELECT start_s, end_s FROM words WHERE call_id = ? AND seq = 1 "
                                        "ORDER BY word_seq DESC LIMIT 1", [call_id]).fetchone()
    con.close()
    # the phone number is the citizen segment's last word ("… Số tôi là 0905123456."): silenced, padded
    assert intervals == [(pytest.approx(number_at - ar.PAD_BEFORE_S), pytest.approx(number_end + ar.PAD_AFTER_S))]

    raw = client_as("qa").get(f"/audio/{call_id}")
    assert raw.status_code == 200 and client_as("admin").get(f"/audio/{call_id}").content == raw.content
    heard = client_as("manager").get(f"/audio/{call_id}")
    assert heard.status_code == 200 and heard.headers["content-type"] == "audio/wav"
    assert heard.headers["cache-control"] == "private, no-store"
    assert len(heard.content) == len(raw.content) and heard.content != raw.content

    x, y = _frames(raw.content), _frames(heard.content)
    (lo, hi), = ar.sample_ranges(intervals, 16000, len(x))
    assert np.all(y[lo:hi] == 0) and np.abs(x[lo:hi]).max() > 1000  # speech there, silenced
    assert np.array_equal(y[:lo], x[:lo]) and np.array_equal(y[hi:], x[hi:])  # untouched elsewhere
    header = ar.wav_layout(raw.content).data_offset
    assert heard.content[:header] == raw.content[:header]
    differ = np.nonzero(x != y)[0]
    assert lo <= differ.min() and differ.max() < hi  # the bytes differ only inside the padded span


def test_no_byte_range_reaches_the_raw_audio(web_db, client_as):
    call_id = _redacted_call(web_db)
    client = client_as("manager")
    whole = client.get(f"/audio/{call_id}").content
    raw = client_as("qa").get(f"/audio/{call_id}").content
    size = len(whole)
    layout = ar.wav_layout(whole)
    (lo, hi), = ar.sample_ranges(_intervals(web_db, call_id), 16000, layout.n_frames)
    first, last = layout.data_offset + 2 * lo, layout.data_offset + 2 * hi - 1
    for header, (a, b) in ((f"bytes={first}-{last}", (first, last + 1)),  # exactly the silenced bytes
                           (f"bytes={first - 10}-", (first - 10, size)),  # open-ended, as <audio> seeks
                           (f"bytes=-{size - first + 5}", (first - 5, size)),  # the last N bytes
                           (f"bytes={first + 2}-{size + 10**9}", (first + 2, size))):  # past the end: clipped
        r = client.get(f"/audio/{call_id}", headers={"Range": header})
        assert r.status_code == 206, header
        assert r.content == whole[a:b] and r.content != raw[a:b], header
        assert r.headers["content-range"] == f"bytes {a}-{b - 1}/{size}"
    # several ranges, a malformed one, another unit: the whole redacted body, never raw
    for header in (f"bytes=0-10,{first}-{last}", "bytes=abc", "items=0-10", f"bytes={last}-{first}"):
        r = client.get(f"/audio/{call_id}", headers={"Range": header})
        assert (r.status_code, r.content) == (200, whole), header
    r = client.get(f"/audio/{call_id}", headers={"Range": f"bytes={size}-"})
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{size}"
    # a query string asking for the raw file changes nothing
    assert client.get(f"/audio/{call_id}?raw=1").content == whole


def test_a_call_without_redactions_plays_as_recorded_and_an_unprocessed_call_not_at_all(web_db, client_as):
    con = db.connect(web_db)
    plain = con.execute("SELECT call_id FROM calls WHERE transcript NOT LIKE '%[%' ORDER BY call_id LIMIT 1").fetchone()[0]
    failed = con.execute("SELECT call_id FROM calls WHERE call_id <> ? ORDER BY call_id LIMIT 1", [plain]).fetchone()[0]
    con.execute("UPDATE calls SET status = 'failed' WHERE call_id = ?", [failed])
    con.close()
    manager, qa = client_as("manager"), client_as("qa")
    assert manager.get(f"/audio/{plain}").content == qa.get(f"/audio/{plain}").content
    r = manager.get(f"/audio/{failed}")
    assert r.status_code == 409 and "chưa xử lý xong" in r.json()["detail"]
    assert qa.get(f"/audio/{failed}").status_code == 200  # QA reads raw text, and hears raw audio


@pytest.mark.parametrize("raw_roles,hears_raw", [(("qa", "admin", "manager"), {"qa", "admin", "manager"}),
                                                 (("admin",), {"admin"})])
def test_who_hears_raw_audio_follows_who_reads_raw_text(web_db, raw_roles, hears_raw):
    from pipeline.web.app import WebOptions, create_app

    call_id = _redacted_call(web_db)
    app = create_app(web_db, options=WebOptions(auth=FAST_AUTH, busy_wait_s=0.5, raw_text_roles=raw_roles))
    bodies = {}
    for role, name in (("qa", "lan"), ("manager", "minh"), ("admin", "an")):
        client = TestClient(app)
        assert log_in(client, name).status_code == 303
        bodies[role] = client.get(f"/audio/{call_id}").content
    raw = bodies["admin"] if "admin" in hears_raw else None
    assert {r for r in bodies if bodies[r] == raw} == hears_raw
    assert all(bodies[r] != raw for r in bodies if r not in hears_raw)


def test_the_call_page_marks_the_silenced_stretch_for_a_manager_only(web_db, client_as):
    call_id = _redacted_call(web_db)
    page = client_as("manager").get(f"/calls/{call_id}").text
    assert 'class="red"' in page and 'id="audio-redacted"' in page and "Âm thanh đã che" in page
    qa_page = client_as("qa").get(f"/calls/{call_id}").text
    assert 'class="red"' not in qa_page and 'id="audio-redacted"' not in qa_page


def test_a_qa_correction_that_hides_a_name_silences_it_too(web_db, client_as):
    from pipeline.web import qa

    call_id = _redacted_call(web_db)
    before = _intervals(web_db, call_id)
    con = db.connect(web_db)
    text = con.execute("SELECT text FROM segments_raw WHERE call_id = ? AND seq = 2", [call_id]).fetchone()[0]
    qa.correct_segment_text(con, call_id, 2, text + " Tôi tên là Nguyễn Văn Hùng.", "lan")
    con.close()
    after = _intervals(web_db, call_id)
    assert len(after) > len(before)  # the typed name is hidden in the text and silenced in the audio
    a, b = after[-1]
    assert 2.8 - ar.SPREAD_MARGIN_S <= a < 4.8 and b >= 4.8  # placed by text position in its segment, widely
    y = _frames(client_as("manager").get(f"/audio/{call_id}").content)
    (lo, hi) = ar.sample_ranges([after[-1]], 16000, len(y))[0]
    assert np.all(y[lo:hi] == 0)
