"""One m:ss rule (pipeline.clock): whole seconds cut, not rounded, on pages, exports and reports alike."""

from pipeline.clock import m_ss
from pipeline.report.exports import formatted_rows, render_transcript


def test_whole_seconds_are_cut_not_rounded():
    assert m_ss(187.4) == "3:07" and m_ss(187.9) == "3:07"
    assert m_ss(59.6) == "0:59" and m_ss(60.0) == "1:00"  # the second the player is in
    assert m_ss(5.2) == "0:05" and m_ss(0) == "0:00"


def test_hours_below_zero_and_unknown():
    assert m_ss(3723) == "1:02:03" and m_ss(3599.99) == "59:59" and m_ss(36000) == "10:00:00"
    assert m_ss(-0.4) == "0:00"  # a clock never reads below zero
    assert m_ss(None) == ""  # unknown is not zero


def test_exports_write_the_same_second_as_the_pages():
    row = {"call_id": "c1", "duration_s": 119.7}
    header, (csv_row,) = formatted_rows([row])
    assert csv_row[header.index("Thời lượng (phút:giây)")] == "1:59"
    header, (xlsx_row,) = formatted_rows([row], for_excel=True)
    assert xlsx_row[header.index("Thời lượng (phút:giây)")] == 119 / 86400  # the Excel cell holds the same whole seconds
    tr = {"segments": [{"start": 59.6, "end": 61.0, "speaker": "S1", "role": "operator", "text": "dạ"}],
          "call_id": "c1", "pbx_call_id": None, "started_at": None, "redacted": True}
    assert render_transcript(tr, "txt").startswith("[0:59] ")
