"""Known operators with the real diarizer: enrol a voice from two calls, recognise it
in a third where it speaks second (so the first-speaker rule would get it wrong)."""

import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf


SR = 16000
OPERATOR = "vi+m3"
LINES = {
    "op": ["Tổng đài xin nghe, tôi có thể giúp gì cho anh chị?", "Dạ, anh cho tôi xin địa chỉ cụ thể để chuyển cho đơn vị xử lý."],
    "cit": ["Tôi muốn phản ánh đèn đường ở phường Tân Lợi bị hỏng đã ba ngày nay.", "Nhà tôi ở số mười hai đường Lê Duẩn, gần chợ."],
}


def _say(voice, text, tmp_path):
    raw = tmp_path / "raw.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "-w", str(raw), text], check=True, capture_output=True)
    audio, rate = sf.read(raw, dtype="float32")
    if rate != SR:
        from pipeline.stages.audio import resample

        audio = resample(audio, rate, SR)
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    return 0.5 * audio[loud[0] : loud[-1] + 1] / np.max(np.abs(audio))


def _call(order, tmp_path):
    parts = [np.zeros(int(0.4 * SR), np.float32)]
    for voice, text in order:
        parts += [_say(voice, text, tmp_path), np.zeros(int(0.6 * SR), np.float32)]
    return np.concatenate(parts).astype(np.float32)


@pytest.fixture(scope="module")
def calls(tmp_path_factory):
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        pytest.skip("needs espeak-ng")
    tmp = tmp_path_factory.mktemp("ops")
    out = {}
    for name, citizen in (("e1", "vi-vn-x-south+f4"), ("e2", "vi-vn-x-central+f2")):
        audio = _call([(OPERATOR, LINES["op"][0]), (citizen, LINES["cit"][0]), (OPERATOR, LINES["op"][1]), (citizen, LINES["cit"][1])], tmp)
        sf.write(tmp / f"{name}.wav", audio, SR)
        out[name] = tmp / f"{name}.wav"
    out["test"] = _call([("vi+f3", LINES["cit"][0]), (OPERATOR, LINES["op"][0]), ("vi+f3", LINES["cit"][1]), (OPERATOR, LINES["op"][1])], tmp)
    return out


def test_enrolled_voice_is_recognised_where_it_speaks_second(calls):
    from models.diarization import load_diarizer
    from pipeline.stages.operators import build_voiceprint, match_operator, voices_from_turns
    from pipeline.stages.operators import enrolment_voices

    diarizer = load_diarizer()
    vp = build_voiceprint("101", enrolment_voices([calls["e1"], calls["e2"]], diarizer), consent_note="test")
    assert vp.n_calls == 2 and vp.speech_s > 4.0

    turns, embeddings = diarizer.diarize_voices(calls["test"])
    assert len(embeddings) == 2
    match = match_operator(voices_from_turns(turns, embeddings), [vp])
    assert match is not None and match.extension == "101"
    first = min(turns, key=lambda t: t.start).speaker
    assert match.speaker != first  # the operator spoke second
