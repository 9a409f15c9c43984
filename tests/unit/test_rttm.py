"""RTTM export and import round-trip."""

import pytest

from pipeline.eval.rttm import parse_rttm, read_rttm, to_rttm
from pipeline.records import Segment, SpeakerTurn


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


# --- export from the warehouse and the evaluation command ------------------------------


def _warehouse(path):
    from pipeline.warehouse import db

    con = db.connect(path)
    con.execute(
        "INSERT INTO segments (call_id, seq, start_s, end_s, speaker, role) VALUES "
        "('c1', 0, 0.0, 2.0, 'ch0', 'operator'), ('c1', 1, 2.5, 4.0, 'ch1', 'citizen'), "
        "('c2', 0, 1.0, 3.0, 'SPEAKER_00', 'operator')"
    )
    con.close()


def test_export_rttm_command_writes_one_file_per_call(tmp_path):
    from pipeline.cli import main

    _warehouse(tmp_path / "w.duckdb")
    assert main(["export", "rttm", "--all", "--db", str(tmp_path / "w.duckdb"), "--out", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["c1.rttm", "c2.rttm"]
    assert read_rttm(tmp_path / "out" / "c1.rttm") == {"c1": [SpeakerTurn(0.0, 2.0, "ch0"), SpeakerTurn(2.5, 4.0, "ch1")]}

    assert main(["export", "rttm", "c2", "--db", str(tmp_path / "w.duckdb"), "--out", str(tmp_path / "one")]) == 0
    assert [p.name for p in (tmp_path / "one").iterdir()] == ["c2.rttm"]
    assert main(["export", "rttm", "nope", "--db", str(tmp_path / "w.duckdb"), "--out", str(tmp_path / "x")]) != 0


class _Replay:
    """A stand-in diarizer that answers with fixed turns."""

    def __init__(self, turns):
        self.turns = tuple(turns)

    def diarize(self, waveform, *, num_speakers=None):
        return self.turns


def _eval_set(tmp_path, reference):
    import numpy as np
    import soundfile as sf

    sf.write(tmp_path / "a.wav", np.zeros(16000 * 6, np.float32), 16000)
    (tmp_path / "a.rttm").write_text(to_rttm(reference, "a"), encoding="utf-8")
    (tmp_path / "m.tsv").write_text("file\trttm\na.wav\ta.rttm\n", encoding="utf-8")
    return tmp_path / "m.tsv"


def test_evaluation_scores_perfect_and_swapped_hypotheses(tmp_path):
    from pipeline.eval.diarization import evaluate_diarization

    reference = [SpeakerTurn(0.5, 2.5, "operator"), SpeakerTurn(3.0, 5.5, "citizen")]
    manifest = _eval_set(tmp_path, reference)

    same = evaluate_diarization(manifest, _Replay([SpeakerTurn(0.5, 2.5, "S0"), SpeakerTurn(3.0, 5.5, "S1")]))
    assert same.der == pytest.approx(0.0)
    assert same.roles_ok == same.roles_judged == 1

    # One speaker from 0.8 s to the end, mapped to the citizen (its larger overlap):
    # 0.3 s missed, 0.5 s false alarm in the gap, 1.7 s of operator speech confused.
    merged = evaluate_diarization(manifest, _Replay([SpeakerTurn(0.8, 5.5, "S0")]))
    assert merged.der == pytest.approx((0.3 + 0.5 + 1.7) / 4.5, abs=0.01)
    assert merged.der > merged.der_collar > 0.0


def test_evaluation_splits_der_into_missed_false_alarm_and_confusion(tmp_path):
    from pipeline.eval.diarization import evaluate_diarization

    reference = [SpeakerTurn(0.5, 2.5, "operator"), SpeakerTurn(3.0, 5.5, "citizen")]
    manifest = _eval_set(tmp_path, reference)

    # Same case as above: 0.3 s missed, 0.5 s false alarm, 1.7 s confused, of 4.5 s.
    merged = evaluate_diarization(manifest, _Replay([SpeakerTurn(0.8, 5.5, "S0")]))
    parts = merged.parts
    assert parts.total_s == pytest.approx(4.5)
    assert parts.missed == pytest.approx(0.3 / 4.5, abs=0.005)
    assert parts.false_alarm == pytest.approx(0.5 / 4.5, abs=0.005)
    assert parts.confusion == pytest.approx(1.7 / 4.5, abs=0.005)
    assert parts.der == pytest.approx(merged.der, abs=1e-6)
    # The collar forgives the 0.3 s miss at the operator's start (within 0.25 s of a
    # boundary only partly) and shrinks every part.
    assert merged.parts_collar.der == pytest.approx(merged.der_collar, abs=1e-6)
    assert merged.parts_collar.missed < parts.missed

    # Only a miss: the second turn is not found at all.
    half = evaluate_diarization(manifest, _Replay([SpeakerTurn(0.5, 2.5, "S0")]))
    assert half.parts.missed == pytest.approx(2.5 / 4.5, abs=0.005)
    assert half.parts.false_alarm == pytest.approx(0.0) and half.parts.confusion == pytest.approx(0.0)


def test_evaluation_with_enrolled_operators_takes_roles_from_the_voice(tmp_path):
    import numpy as np

    from pipeline.eval.diarization import evaluate_diarization
    from pipeline.stages.operators import SpeakerVoice, build_voiceprint

    # The citizen speaks first, so the first-speaker rule gets the role wrong.
    reference = [SpeakerTurn(0.5, 2.5, "citizen"), SpeakerTurn(3.0, 5.5, "operator")]
    manifest = _eval_set(tmp_path, reference)
    manifest.write_text("file\trttm\toperator_ext\tlogged_ext\na.wav\ta.rttm\t101\t102\n", encoding="utf-8")
    rng = np.random.default_rng(3)
    op, cit = rng.standard_normal(192), rng.standard_normal(192)

    class Voices(_Replay):
        def diarize_voices(self, waveform, *, num_speakers=None):
            return self.turns, {"S0": cit.astype(np.float32), "S1": op.astype(np.float32)}

    hyp = Voices([SpeakerTurn(0.5, 2.5, "S0"), SpeakerTurn(3.0, 5.5, "S1")])
    plain = evaluate_diarization(manifest, hyp)
    assert plain.roles_ok == 0 and plain.files[0].flagged is None

    prints = [build_voiceprint("101", [SpeakerVoice("x", op, 30.0)], consent_note="test")]
    enrolled = evaluate_diarization(manifest, hyp, voiceprints=prints)
    f = enrolled.files[0]
    assert enrolled.roles_ok == 1 and f.role_ok_cues is False and f.operator_voice == "101"
    assert f.flagged is True and f.flag_expected is True
