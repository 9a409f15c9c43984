"""ASR evaluation: edit distance, shared normalisation, summed rates, manifest reading, the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from pipeline.eval.asr import ClipResult, ManifestError, edit_distance, read_clips, score_text, summarize
from pipeline.records import Segment, Transcript, TranscriptInfo


@pytest.mark.parametrize("ref, hyp, expected", [
    ("", "", 0), ("abc", "", 3), ("", "ab", 2), ("kitten", "sitting", 3),
    (["tân", "tiến"], ["tân", "tiến"], 0), (["tân", "tiến"], ["tiến"], 1), (["a", "b", "c"], ["c", "b", "a"], 2),
])
def test_edit_distance(ref, hyp, expected):
    assert edit_distance(ref, hyp) == expected
    assert edit_distance(hyp, ref) == expected


def test_scoring_ignores_case_punctuation_unicode_form_and_tone_placement():
    # NFD input, "hoà" (new-style tone placement), capitals and punctuation on the hypothesis side.
    import unicodedata

    hyp = unicodedata.normalize("NFD", "Hoà Bình, Buôn Ma Thuột!")
    assert score_text("hòa bình buôn ma thuột", hyp) == (0, 5, 0, len("hòa bình buôn ma thuột"))


def test_scoring_counts_a_lost_diacritic_as_a_word_error():
    words, n_words, chars, n_chars = score_text("đắk lắk", "dak lắk")
    assert (words, n_words) == (1, 2) and chars == 2


def _clip(word_errors, ref_words, char_errors=0, ref_chars=10, audio_s=10.0, wall_s=2.0):
    return ClipResult("x.wav", "", "", word_errors, ref_words, char_errors, ref_chars, audio_s, wall_s, 0.5)


def test_rates_are_summed_over_clips_not_averaged():
    summary = summarize([_clip(1, 1), _clip(0, 9)])
    assert summary.wer == pytest.approx(0.1)  # a mean of per-clip rates would say 0.5
    assert summary.rtf == pytest.approx(0.2)
    assert summary.line() == "wer=0.100 cer=0.000 rtf=0.200 clips=2"


def test_manifest_resolves_files_against_its_folder(tmp_path):
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "a.wav").write_bytes(b"")
    (tmp_path / "m.tsv").write_text("file\tduration_s\treference\naudio/a.wav\t1.0\txin chào\n", encoding="utf-8")
    (row,) = read_clips(tmp_path / "m.tsv")
    assert row.path == tmp_path / "audio" / "a.wav" and row.reference == "xin chào"


@pytest.mark.parametrize("content, message", [
    ("file\ttext\na.wav\tx\n", "reference"),
    ("file\treference\nmissing.wav\tx\n", "do not exist"),
])
def test_bad_manifests_say_what_is_wrong(tmp_path, content, message):
    (tmp_path / "m.tsv").write_text(content, encoding="utf-8")
    with pytest.raises(ManifestError, match=message):
        read_clips(tmp_path / "m.tsv")
    with pytest.raises(ManifestError, match="not found"):
        read_clips(tmp_path / "nope.tsv")


def test_cli_prints_the_summary_line_last_and_writes_rows(tmp_path, monkeypatch, capsys):
    import pipeline.stages.transcribe as transcribe_mod
    from pipeline.cli import main

    t = np.arange(16000) / 16000
    for name in ("a.wav", "b.wav"):
        sf.write(tmp_path / name, (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 16000)
    (tmp_path / "m.tsv").write_text("file\treference\na.wav\txin chào anh\nb.wav\tđiện bị cúp ở tân tiến\n",
                                    encoding="utf-8")
    seen = []

    def fake_transcribe_call(audio, asr, options):
        seen.append((audio.duration_s, options))
        seg = Segment(0.0, 1.0, "Xin chào, anh!", confidence=0.7)
        return (Transcript((seg,), TranscriptInfo("vi", 1.0, audio.duration_s)),)

    monkeypatch.setattr("models.registry.load_recognizer", lambda *a, **k: object())
    monkeypatch.setattr(transcribe_mod, "transcribe_call", fake_transcribe_call)
    rows = tmp_path / "rows.tsv"
    assert main(["eval", "asr", str(tmp_path / "m.tsv"), "--telephone", "--out", str(rows), "-q"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    # clip a: 0 of 3 words wrong; clip b: 6 reference words, 3 substituted + 3 deleted.
    assert last.startswith("wer=0.667 cer=") and last.endswith("clips=2")
    assert len(seen) == 2 and seen[0][1] == transcribe_mod.TranscribeOptions()
    assert rows.read_text(encoding="utf-8").count("\n") == 3
