"""A fixture-warehouse call with a redacted phone number and the recogniser's word times (the web and browser
tests of the redacted audio, issue 25)."""

from __future__ import annotations

from pathlib import Path

from pipeline.warehouse import db


def redacted_call_with_words(web_db: Path) -> str:
    """The first fixture call whose citizen gave a phone number ("… Số tôi là [SĐT]."), with one stored word per
    written word of each segment, evenly over the segment (as viet-asr's word rows line up with its text)."""
    con = db.connect(web_db)
    try:
        call_id = con.execute("SELECT call_id FROM segments WHERE text LIKE '%[SĐT]%' ORDER BY call_id LIMIT 1").fetchone()[0]
        rows = con.execute("SELECT s.seq, s.start_s, s.end_s, r.text FROM segments s JOIN segments_raw r USING (call_id, seq) "
                           "WHERE s.call_id = ? ORDER BY s.seq", [call_id]).fetchall()
        for seq, start, end, text in rows:
            n = len(text.split())
            step = (end - start) / n
            con.executemany("INSERT INTO words VALUES (?, ?, ?, ?, ?, ?)",
                            [[call_id, seq, k, start + k * step, start + (k + 1) * step, 0.9] for k in range(n)])
    finally:
        con.close()
    return call_id
