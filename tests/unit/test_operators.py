"""Known operators: enrolment from calls, voice match, roles, mismatch flag, storage."""

import numpy as np
import pytest

from pipeline.config import Settings
from pipeline.errors import HotlineError
from pipeline.stages.operators import (
    SpeakerVoice,
    Voiceprint,
    build_voiceprint,
    delete_voiceprint,
    load_voiceprints,
    match_operator,
    mismatch_flags,
    operator_voice_of_calls,
    read_voiceprints,
    save_voiceprint,
    voices_from_turns,
)
from pipeline.records import DecodedAudio, Segment, SpeakerTurn, Transcript, TranscriptInfo

RNG = np.random.default_rng(19)
DIM = 192


def _voice(seed_vec, noise=0.3):
    v = seed_vec + noise * RNG.standard_normal(DIM)
    return (v / np.linalg.norm(v)).astype(np.float32)


OP_A, OP_B = RNG.standard_normal(DIM), RNG.standard_normal(DIM)
CITIZENS = [RNG.standard_normal(DIM) for _ in range(4)]


def test_the_voice_the_calls_share_is_enrolled_whatever_order_the_labels_come_in():
    calls = []
    for k, cit in enumerate(CITIZENS[:3]):
        op = SpeakerVoice("SPEAKER_00" if k % 2 else "SPEAKER_01", _voice(OP_A), 20.0)
        other = SpeakerVoice("SPEAKER_01" if k % 2 else "SPEAKER_00", _voice(cit), 25.0)
        calls.append([other, op] if k % 2 else [op, other])
    chosen = operator_voice_of_calls(calls)
    unit_a = OP_A / np.linalg.norm(OP_A)
    assert all(float(v.embedding @ unit_a) > 0.8 for v in chosen)

    vp = build_voiceprint("101", chosen, consent_note="form 7, 2026-11-30")
    assert vp.n_calls == 3 and vp.speech_s == pytest.approx(60.0)
    assert np.linalg.norm(vp.embedding) == pytest.approx(1.0, abs=1e-5)
    assert float(vp.embedding @ unit_a) > 0.9
    assert 0.0 < vp.spread < 0.2

    with pytest.raises(HotlineError, match="two calls"):
        operator_voice_of_calls(calls[:1])
    with pytest.raises(HotlineError, match="consent"):
        build_voiceprint("101", chosen, consent_note="  ")


def test_match_picks_the_enrolled_speaker_and_refuses_strangers_and_lookalikes():
    prints = [
        build_voiceprint("101", [SpeakerVoice("x", _voice(OP_A, 0.1), 30)], consent_note="ok"),
        build_voiceprint("102", [SpeakerVoice("x", _voice(OP_B, 0.1), 30)], consent_note="ok"),
    ]
    call = [SpeakerVoice("SPEAKER_00", _voice(CITIZENS[0]), 30), SpeakerVoice("SPEAKER_01", _voice(OP_B), 20)]
    match = match_operator(call, prints)
    assert match is not None and (match.speaker, match.extension) == ("SPEAKER_01", "102")
    assert match.similarity > 0.8 and match.margin > 0.5

    strangers = [SpeakerVoice("SPEAKER_00", _voice(CITIZENS[1]), 30), SpeakerVoice("SPEAKER_01", _voice(CITIZENS[2]), 30)]
    assert match_operator(strangers, prints) is None
    # Two speakers both close to one voiceprint: no margin, no decision by voice.
    twins = [SpeakerVoice("SPEAKER_00", _voice(OP_A, 0.1), 30), SpeakerVoice("SPEAKER_01", _voice(OP_A, 0.1), 30)]
    assert match_operator(twins, prints) is None
    # NaN embeddings (a speaker with too little speech) are ignored, not fatal.
    nan = [SpeakerVoice("SPEAKER_00", np.full(DIM, np.nan, np.float32), 1), call[1]]
    assert match_operator(nan, prints).speaker == "SPEAKER_01"


def test_a_label_left_without_turns_is_not_a_voice_to_match():
    # the second look at the turns gave all of SPEAKER_01's turns to SPEAKER_00: its
    # centroid (the operator's look-alike here) must not win the operator match
    prints = [build_voiceprint("101", [SpeakerVoice("x", _voice(OP_A, 0.1), 30)], consent_note="ok")]
    embeddings = {"SPEAKER_00": _voice(CITIZENS[0]), "SPEAKER_01": _voice(OP_A)}
    turns = [SpeakerTurn(start=0.0, end=4.0, speaker="SPEAKER_00"), SpeakerTurn(start=5.0, end=6.5, speaker="SPEAKER_00")]
    voices = voices_from_turns(turns, embeddings)
    assert [(v.label, v.speech_s) for v in voices] == [("SPEAKER_00", 5.5)]
    assert match_operator(voices, prints) is None
    both = turns + [SpeakerTurn(start=7.0, end=9.0, speaker="SPEAKER_01")]
    assert match_operator(voices_from_turns(both, embeddings), prints).speaker == "SPEAKER_01"


def test_mismatch_flag_only_when_the_log_names_another_operator():
    from pipeline.stages.operators import OperatorMatch

    m = OperatorMatch("SPEAKER_01", "102", 0.8, 0.4)
    assert mismatch_flags(m, "101") == ("operator_voice_mismatch",)
    assert mismatch_flags(m, "102") == ()
    assert mismatch_flags(m, None) == () and mismatch_flags(None, "101") == ()


def test_voiceprints_round_trip_through_the_warehouse_without_audio(tmp_path):
    from pipeline.warehouse import db

    vp = build_voiceprint("101", [SpeakerVoice("x", _voice(OP_A), 42.0)], consent_note="form 7", name="Lan",
                          enrolled_by="admin")
    con = db.connect(tmp_path / "w.duckdb")
    save_voiceprint(con, vp)
    save_voiceprint(con, vp)  # re-enrolment replaces
    got = load_voiceprints(con)
    assert len(got) == 1 and got[0].extension == "101" and got[0].consent_note == "form 7"
    assert np.allclose(got[0].embedding, vp.embedding, atol=1e-6)
    columns = {r[0] for r in con.execute("DESCRIBE operator_voiceprints").fetchall()}
    assert not any("audio" in c or "wav" in c for c in columns)
    con.close()
    assert [v.extension for v in read_voiceprints(tmp_path / "w.duckdb")] == ["101"]
    assert read_voiceprints(tmp_path / "missing.duckdb") == ()
    con = db.connect(tmp_path / "w.duckdb")
    assert delete_voiceprint(con, "101") and not delete_voiceprint(con, "101")
    con.close()


class _VoiceDiarizer:
    """Turns where the operator (SPEAKER_01) speaks SECOND, with fixed embeddings."""

    def __init__(self, op_vec, cit_vec):
        self.emb = {"SPEAKER_00": cit_vec, "SPEAKER_01": op_vec}
        self.turns = (SpeakerTurn(0.0, 2.0, "SPEAKER_00"), SpeakerTurn(2.5, 5.0, "SPEAKER_01"))

    def diarize(self, waveform, num_speakers=None):
        return self.turns

    def diarize_voices(self, waveform, num_speakers=None):
        return self.turns, dict(self.emb)


def _stage(prints, logged_ext):
    from pipeline.stages.process import Models, speakers_stage

    audio = DecodedAudio(np.zeros((1, 16000 * 5), np.float32), 16000, 16000)
    segs = (Segment(0.1, 1.9, "alo"), Segment(2.6, 4.9, "vâng"))
    transcripts = (Transcript(segs, TranscriptInfo("vi", 1.0, 5.0)),)
    models = Models(Settings(), diarizer=_VoiceDiarizer(_voice(OP_A, 0.1), _voice(CITIZENS[3], 0.1)), voiceprints=prints)
    return speakers_stage(audio, transcripts, models, Settings(), logged_ext)


def test_speakers_stage_takes_roles_from_the_voice_not_from_who_spoke_first():
    prints = (build_voiceprint("101", [SpeakerVoice("x", _voice(OP_A, 0.1), 30)], consent_note="ok"),)

    without = _stage((), "101")
    assert [s.role for s in without.segments] == ["operator", "citizen"]  # first speaker wins: wrong
    assert without.operator_voice is None and without.flags == ()

    with_print = _stage(prints, "101")
    assert [s.role for s in with_print.segments] == ["citizen", "operator"]
    assert with_print.operator_voice == "101" and with_print.flags == ()
    assert with_print.role_confidence >= 0.9

    mismatch = _stage(prints, "104")
    assert mismatch.flags == ("operator_voice_mismatch",)


def test_a_voiceprint_record_keeps_its_consent():
    vp = Voiceprint("101", np.ones(DIM, np.float32) / np.sqrt(DIM), 2, 30.0, "form 7")
    assert vp.consent_note == "form 7" and vp.model == "campplus_cn_en_common"


def test_enrolment_voices_from_mono_and_stereo_files(tmp_path):
    import soundfile as sf

    from pipeline.stages.operators import enrolment_voices

    class Diarizer:
        """Mono files: the operator's label alternates; stereo channel: one voice."""

        calls = 0

        def diarize_voices(self, waveform, num_speakers=None):
            Diarizer.calls += 1
            if num_speakers == 1:
                return (SpeakerTurn(0, 3, "SPEAKER_00"),), {"SPEAKER_00": _voice(OP_B, 0.1)}
            cit = CITIZENS[Diarizer.calls % 4]
            labels = ("SPEAKER_00", "SPEAKER_01") if Diarizer.calls % 2 else ("SPEAKER_01", "SPEAKER_00")
            turns = (SpeakerTurn(0, 2, labels[0]), SpeakerTurn(2, 5, labels[1]))
            return turns, {labels[0]: _voice(OP_B, 0.2), labels[1]: _voice(cit, 0.2)}

    for k in range(2):
        sf.write(tmp_path / f"m{k}.wav", np.zeros(16000, np.float32), 16000)
    sf.write(tmp_path / "s.wav", np.zeros((16000, 2), np.float32), 16000)
    unit_b = OP_B / np.linalg.norm(OP_B)
    voices = enrolment_voices([tmp_path / "m0.wav", tmp_path / "m1.wav", tmp_path / "s.wav"], Diarizer())
    assert len(voices) == 3 and all(float(v.embedding @ unit_b) > 0.8 for v in voices)
    with pytest.raises(HotlineError, match="not found"):
        enrolment_voices([tmp_path / "nope.wav"], Diarizer())


def test_operators_list_and_remove_commands(tmp_path, capsys):
    from pipeline.cli import main
    from pipeline.warehouse import db

    con = db.connect(tmp_path / "w.duckdb")
    save_voiceprint(con, build_voiceprint("103", [SpeakerVoice("x", _voice(OP_A), 12.0)], consent_note="form 9"))
    con.close()
    assert main(["operators", "list", "--db", str(tmp_path / "w.duckdb")]) == 0
    out = capsys.readouterr().out
    assert "103" in out and "form 9" in out and "1 operator(s)" in out
    assert main(["operators", "remove", "103", "--db", str(tmp_path / "w.duckdb")]) == 0
    assert main(["operators", "remove", "103", "--db", str(tmp_path / "w.duckdb")]) != 0
