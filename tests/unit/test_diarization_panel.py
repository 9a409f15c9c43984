"""The diarization panel: bootstrap intervals, verdicts, variants, sets, roles from the call log."""

from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import HotlineError
from pipeline.records import SpeakerTurn

SR = 16000


def _errors(rows):
    return [np.array(r, dtype=np.float64) for r in rows]


def test_bootstrap_of_a_change_on_every_file_lies_above_zero():
    from pipeline.eval.diarization_panel import paired_bootstrap, verdict

    rng = np.random.default_rng(0)
    base = _errors([(rng.uniform(1, 3), rng.uniform(1, 3), rng.uniform(0, 1), 40.0) for _ in range(9)])
    worse = [b + np.array([0.0, 0.0, 2.0, 0.0]) for b in base]  # 2 s more confusion in every file of 40 s
    d, lo, hi = paired_bootstrap(base, worse, resamples=500)
    assert d == pytest.approx(0.05)
    assert lo == pytest.approx(0.05) and hi == pytest.approx(0.05)  # the same change everywhere: no spread
    assert verdict(d, lo, hi, 9) == "worse"
    assert verdict(-d, -hi, -lo, 9) == "better"
    same = paired_bootstrap(base, base, resamples=200)
    assert same == (0.0, 0.0, 0.0) and verdict(*same, 9) == "same"


def test_one_bad_file_is_noise_until_the_others_agree():
    from pipeline.eval.diarization_panel import paired_bootstrap, verdict

    base = _errors([(2.0, 2.0, 0.0, 40.0)] * 8)
    one_file = [b.copy() for b in base]
    one_file[3] = one_file[3] + np.array([0.0, 0.0, 6.0, 0.0])  # one call goes wrong, the rest do not move
    d, lo, hi = paired_bootstrap(base, one_file, resamples=2000)
    assert d > 0 and lo == pytest.approx(0.0) and hi > d  # resamples without that call change nothing
    assert verdict(d, lo, hi, 8) == "same"
    mixed = [b + np.array([0.0, 0.0, (1.0 if i % 2 else -1.0), 0.0]) for i, b in enumerate(base)]
    d, lo, hi = paired_bootstrap(base, mixed, resamples=2000)
    assert lo < 0 < hi and verdict(d, lo, hi, 8) == "same"


def test_a_one_file_set_counts_a_change_over_the_tolerance():
    from pipeline.eval.diarization_panel import ONE_FILE_TOLERANCE, paired_bootstrap, verdict

    d, lo, hi = paired_bootstrap(_errors([(1.0, 1.0, 0.0, 24.0)]), _errors([(1.0, 1.0, 9.0, 24.0)]))
    assert d == lo == hi == pytest.approx(9 / 24)
    assert verdict(d, lo, hi, 1) == "worse"
    assert verdict(ONE_FILE_TOLERANCE / 2, ONE_FILE_TOLERANCE / 2, ONE_FILE_TOLERANCE / 2, 1) == "same"
    with pytest.raises(ValueError):
        paired_bootstrap(_errors([(1, 1, 0, 2)]), _errors([(1, 1, 0, 2), (1, 1, 0, 2)]))


def test_variants_are_options_by_name_and_bad_ones_are_refused():
    pytest.importorskip("torch")
    from models.diarization import DiarizationOptions
    from pipeline.eval.diarization_panel import parse_variant

    name, options = parse_variant("allemb:max_embedding_s=0,embedding_backend=torch,exclude_overlap=true")
    assert name == "allemb"
    assert options == DiarizationOptions(max_embedding_s=0.0, embedding_backend="torch", exclude_overlap=True)
    assert parse_variant("now:") == ("now", DiarizationOptions())
    for bad in ("nope:max_embeding_s=0", "x:segmentation_step=fast", ":max_embedding_s=0"):
        with pytest.raises(HotlineError):
            parse_variant(bad)


def _write_set(folder: Path, calls: list[tuple[str, str, list[SpeakerTurn]]]) -> Path:
    """A manifest with columns file, rttm, operator_ext, logged_ext and noise-floor audio."""
    import soundfile as sf

    from pipeline.eval.rttm import to_rttm

    folder.mkdir(parents=True, exist_ok=True)
    lines = ["file\trttm\toperator_ext\tlogged_ext"]
    rng = np.random.default_rng(1)
    for call_id, logged, turns in calls:
        sf.write(folder / f"{call_id}.wav", (0.01 * rng.standard_normal(12 * SR)).astype(np.float32), SR)
        (folder / f"{call_id}.rttm").write_text(to_rttm(turns, call_id), encoding="utf-8")
        lines.append(f"{call_id}.wav\t{call_id}.rttm\t{logged}\t{logged}")
    (folder / "manifest.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder / "manifest.tsv"


class _ScriptedDiarizer:
    """Plays back turns and voices per call (found by the audio's first sample): what the
    panel needs of a diarizer, without models."""

    def __init__(self, answers):
        self.answers = answers  # first sample (rounded) -> (turns, embeddings)

    def diarize_voices(self, waveform, num_speakers=None):
        return self.answers[round(float(waveform[0]), 6)]


def test_panel_scores_variants_side_by_side_with_roles_from_the_call_log(tmp_path):
    pytest.importorskip("pyannote.metrics")
    from pipeline.eval.diarization_panel import PanelSet, report_lines, run_panel
    from pipeline.eval.diarization import read_diarization_manifest
    from pipeline.stages.audio import decode_audio

    # three calls logged to 101: the operator (voice A) speaks SECOND in each, so the
    # first-speaker rule is wrong on all three; the citizens' voices differ call to call
    ref = [SpeakerTurn(0.5, 3.0, "citizen"), SpeakerTurn(3.5, 7.0, "operator"), SpeakerTurn(7.5, 11.0, "citizen")]
    manifest = _write_set(tmp_path / "set", [(f"c{i}", "101", ref) for i in range(3)])
    rows = tuple(read_diarization_manifest(manifest))
    rng = np.random.default_rng(2)
    voice_a = rng.standard_normal(192)
    answers_good, answers_bad = {}, {}
    for audio, _, _, _ in rows:
        key = round(float(decode_audio(audio).mono()[0]), 6)
        hyp = (SpeakerTurn(0.5, 3.0, "S0"), SpeakerTurn(3.5, 7.0, "S1"), SpeakerTurn(7.5, 11.0, "S0"))
        voices = {"S0": rng.standard_normal(192).astype(np.float32),
                  "S1": (voice_a + 0.3 * rng.standard_normal(192)).astype(np.float32)}
        answers_good[key] = (hyp, voices)
        merged = (SpeakerTurn(0.5, 11.0, "S0"),)  # one voice for the whole call: confusion
        answers_bad[key] = (merged, {"S0": voices["S0"]})
    sets = [PanelSet("tiny", rows, "three calls")]
    variants = [("good", "g"), ("bad", "b")]
    summaries = run_panel(sets, variants,
                          make_diarizer=lambda o: _ScriptedDiarizer(answers_good if o == "g" else answers_bad))
    good, bad = summaries
    assert good.der() == pytest.approx(0.0) and bad.der() > 0.3
    assert good.roles("first") == (0, 3)  # the citizen speaks first in each call
    assert good.roles("log") == (3, 3)  # the voice the other calls logged to 101 share is the operator
    assert good.roles("enrolled") == (0, 0)  # no enrolment list
    lines = report_lines(sets, summaries, resamples=200)
    text = "\n".join(lines)
    assert "== tiny: three calls; 3 files" in text
    assert "bad: WORSE than good beyond noise on tiny" in text
    assert "same turns, good and bad: 0/3 files" in text


def test_sets_come_from_the_paths_given_and_bad_ones_are_named(tmp_path):
    pytest.importorskip("pyannote.audio")
    from pipeline.eval.diarization_panel import panel_sets

    ref = [SpeakerTurn(0.5, 3.0, "operator"), SpeakerTurn(3.5, 7.0, "citizen")]
    manifest = _write_set(tmp_path / "x", [("c0", "101", ref)])
    sets = panel_sets(extra=[f"held={manifest}"])
    assert [s.name for s in sets] == ["held", "sample"]
    assert sets[1].rows[0][0].name == "sample.wav" and sets[1].rows[0][0].is_file()
    with pytest.raises(HotlineError, match="NAME=MANIFEST"):
        panel_sets(extra=[str(manifest)])
    with pytest.raises(HotlineError, match="not found"):
        panel_sets(diar_real=tmp_path / "missing")
    with pytest.raises(HotlineError, match="two sets named"):
        panel_sets(extra=[f"a={manifest}", f"a={manifest}"], sample=False)
