"""RTTM export and import round-trip."""

import pytest

from pipeline.records import Segment, SpeakerTurn
from pipeline.rttm import parse_rttm, read_rttm, to_rttm


def test_round_trip_through_a_file(tmp_path):
    turns = [SpeakerTurn(3.25, 5.0, "SPEAKER_01"), SpeakerTurn(0.5, 3.0, "SPEAKER_00")]
    path = tmp_path / "call.rttm"
    path.write_text(to_rttm(turns, "call 1"), encoding="utf-8")

    back = read_rttm(path)

    assert list(back) == ["call_1"]
    assert back["call_1"] == sorted(turns, key=lambda t: t.start)


def test_segments_are_written_with_their_speakers():
    segs = [Segment(0.0, 1.5, "alo", speaker="ch0"), Segment(2.0, 2.0, "empty", speaker="ch1"), Segment(2.0, 3.0, "x")]
    lines = to_rttm(segs, "c").splitlines()
    assert lines == [
        "SPEAKER c 1 0.000 1.500 <NA> <NA> ch0 <NA> <NA>",
        "SPEAKER c 1 2.000 1.000 <NA> <NA> unknown <NA> <NA>",
    ]


def test_several_files_comments_and_blank_lines():
    text = "# reference\n\nSPEAKER a 1 0.0 1.0 <NA> <NA> x <NA> <NA>\nSPEAKER b 1 2.0 0.5 <NA> <NA> y <NA> <NA>\n"
    parsed = parse_rttm(text)
    assert parsed == {"a": [SpeakerTurn(0.0, 1.0, "x")], "b": [SpeakerTurn(2.0, 2.5, "y")]}


def test_malformed_line_names_its_number():
    with pytest.raises(ValueError, match=r"ref.rttm:2"):
        parse_rttm("SPEAKER a 1 0 1 <NA> <NA> x <NA> <NA>\nSPEAKER a 1 zero 1\n", source="ref.rttm")
