"""pipeline/eval/ beside its commands: what moved out of pipeline/commands/ still says the same."""

from __future__ import annotations

import pytest

from pipeline.eval.rttm import to_rttm
from pipeline.records import SpeakerTurn


class _Replay:
    def __init__(self, turns):
        self.turns = tuple(turns)

    def diarize(self, waveform, *, num_speakers=None):
        return self.turns


def _diarization_set(tmp_path):
    import numpy as np
    import soundfile as sf

    sf.write(tmp_path / "a.wav", np.zeros(16000 * 6, np.float32), 16000)
    ref = [SpeakerTurn(0.5, 2.5, "operator"), SpeakerTurn(3.0, 5.5, "citizen")]
    (tmp_path / "a.rttm").write_text(to_rttm(ref, "a"), encoding="utf-8")
    (tmp_path / "m.tsv").write_text("file\trttm\na.wav\ta.rttm\n", encoding="utf-8")
    return tmp_path / "m.tsv"


def test_diarization_lines_carry_the_scores(tmp_path):
    from pipeline.eval.diarization import evaluate_diarization, file_line, summary_lines

    result = evaluate_diarization(_diarization_set(tmp_path), _Replay([SpeakerTurn(0.5, 5.5, "S0")]))
    (score,) = result.files
    assert file_line(score) == (f"a.wav\tdur=6.0s der={score.der:.3f} der_collar={score.der_collar:.3f} "
                                f"speakers=1 rtf={score.seconds / 6.0:.3f} role={'ok' if score.role_ok else 'WRONG'}")
    lines = summary_lines(result)
    assert lines[0] == f"roles={result.roles_ok}/1"
    assert lines[-1] == f"der={result.der:.3f} der_collar={result.der_collar:.3f} rtf={result.rtf:.3f} files=1"
    assert 0.3 < result.der < 0.6  # the citizen's 2.5 s given to the operator, 0.5 s false alarm, of 4.5 s


def test_a_diarization_manifest_row_without_its_rttm_is_refused_before_any_work(tmp_path):
    from pipeline.eval.diarization import evaluate_diarization
    from pipeline.eval.manifest import ManifestError

    manifest = _diarization_set(tmp_path)
    (tmp_path / "a.rttm").unlink()

    class Never:
        def diarize(self, *a, **k):
            raise AssertionError("diarized although the reference is missing")

    with pytest.raises(ManifestError, match=r"column rttm .*a\.rttm"):
        evaluate_diarization(manifest, Never())


def test_enrolment_list_groups_files_by_extension(tmp_path, monkeypatch):
    from pipeline.eval import diarization

    for name in ("a.wav", "b.wav", "c.wav"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "enrol.tsv").write_text("ext\tfile\n101\ta.wav\n102\tb.wav\n101\tc.wav\n", encoding="utf-8")
    seen = {}
    monkeypatch.setattr("pipeline.stages.operators.build_voiceprint", lambda ext, voices, **kw: (ext, voices))
    prints = diarization.enrol_from_manifest(tmp_path / "enrol.tsv", "D",
                                             lambda files, d: seen.setdefault(tuple(f.name for f in files), d))
    assert prints == [("101", "D"), ("102", "D")]
    assert set(seen) == {("a.wav", "c.wav"), ("b.wav",)}


def test_redaction_rewrites_keep_the_gold_spans_in_place():
    from pipeline.analysis.pii import PiiSpan
    from pipeline.eval.redaction import PiiCase, asr_form, no_accents, rewritten

    text = "Tôi là Lê Văn Đức, số 0912 345 678."
    start = text.index("0912")
    case = PiiCase(text, (PiiSpan("phone", start, start + 12, "0912 345 678"),))
    (asr,) = rewritten([case], asr_form)
    assert asr.text == "tôi là lê văn đức  số 0912 345 678 "
    (plain,) = rewritten([case], no_accents)
    assert plain.text.startswith("toi la le van duc") and plain.spans[0].text == "0912 345 678"


def test_redaction_errors_name_lines_and_kinds_only(tmp_path):
    from pipeline.eval import redaction

    cases = redaction.read_cases(_pii_cases(tmp_path))
    # line 2: the phone number is found; line 3: "hẻm 45" is no phone number, the gold span is missed
    assert [(line, missed) for line, missed, _ in redaction.errors(cases)] == [(3, ["phone"])]


def _pii_cases(tmp_path):
    path = tmp_path / "cases.tsv"
    path.write_text('text\tspans\nanh gọi số 0912345678 nhé\t[["phone", "0912345678"]]\n'
                    'nhà ở hẻm 45\t[["phone", "hẻm 45"]]\n', encoding="utf-8")
    return path


def test_summarize_text_is_the_summary_of_the_analysed_text():
    from pipeline.analysis.places import extract_places
    from pipeline.analysis.summary import summarize, summarize_text
    from models.topic_model import load_topic_model
    from pipeline.analysis.topics import assigned_topics, classify_text

    text = "rác thải ứ đọng ở hẻm 45 Quang Trung phường Tân Lập"
    topics = list(assigned_topics(classify_text(text, load_topic_model(None))))
    line = summarize_text(text, "chúng tôi sẽ chuyển cho phường xử lý")
    assert line.startswith("Phản ánh ") and "phường Tân Lập" in line
    assert line != summarize(topics, text, "chúng tôi sẽ chuyển cho phường xử lý")  # places and routes count
    assert extract_places(text)


def test_the_command_refuses_a_bad_manifest_before_loading_the_diarizer(tmp_path, monkeypatch, capsys):
    from pipeline.cli import main
    from pipeline.eval import diarization

    manifest = _diarization_set(tmp_path)
    manifest.write_text("file\trttm\na.wav\ta.rttm\nb.wav\n", encoding="utf-8")
    loaded = []
    monkeypatch.setattr(diarization, "production_diarizer", lambda settings: loaded.append(1) or _Replay([]))
    assert main(["eval", "diarization", str(manifest)]) == 2
    assert f"{manifest}:3: 1 field(s), no rttm" in capsys.readouterr().err
    assert not loaded

    manifest.write_text("file\trttm\na.wav\ta.rttm\n", encoding="utf-8")
    monkeypatch.setattr(diarization, "production_diarizer", lambda settings: _Replay([SpeakerTurn(0.5, 2.5, "S0")]))
    assert main(["eval", "diarization", str(manifest)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("a.wav\tdur=6.0s ") and out[-1].endswith(" files=1")
