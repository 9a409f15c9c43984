"""The one manifest reader of pipeline/eval/ (ASR, diarization, enrolment lists)."""

from __future__ import annotations

import pytest

from pipeline.eval.manifest import ManifestError, read_manifest


def _write(tmp_path, text, name="m.tsv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_keep_every_column_and_resolve_files_against_the_manifest(tmp_path):
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "a.wav").write_bytes(b"")
    path = _write(tmp_path, 'file\treference\tdataset\naudio/a.wav\tanh nói "alo"\tVIVOS\n\n')
    (row,) = read_manifest(path, ("file", "reference"), files=("file",))
    assert row.path("file") == tmp_path / "audio" / "a.wav"
    assert row["reference"] == 'anh nói "alo"'  # no quoting: a quote is a character of the reference
    assert row.get("dataset") == "VIVOS" and row.get("speaker") == ""
    assert (row.line, row.where()) == (2, f"{path}:2")


def test_a_row_with_too_few_fields_is_named_by_file_and_line(tmp_path):
    path = _write(tmp_path, "file\trttm\na.wav\ta.rttm\nb.wav b.rttm\n")
    with pytest.raises(ManifestError, match=rf"{path}:3: 1 field\(s\), no rttm .*tabs"):
        read_manifest(path, ("file", "rttm"))


def test_an_empty_required_field_is_named_by_file_and_line(tmp_path):
    path = _write(tmp_path, "ext\tfile\n101\ta.wav\n\tb.wav\n102\t\n")
    with pytest.raises(ManifestError, match=rf"{path}:4: empty file$"):
        read_manifest(path, ("ext", "file"), may_be_empty=("ext",))
    with pytest.raises(ManifestError, match=rf"{path}:3: empty ext$"):
        read_manifest(path, ("ext", "file"))


def test_a_row_with_more_fields_than_the_header_is_refused(tmp_path):
    path = _write(tmp_path, "file\treference\na.wav\txin\tchào\n")  # a tab inside the reference
    with pytest.raises(ManifestError, match=rf"{path}:2: 3 fields, the header has 2"):
        read_manifest(path, ("file", "reference"))


def test_empty_is_allowed_where_the_evaluation_says_so(tmp_path):
    path = _write(tmp_path, "file\treference\nsilence.wav\t\n")
    (row,) = read_manifest(path, ("file", "reference"), may_be_empty=("reference",))
    assert row["reference"] == ""


def test_a_missing_file_names_the_column_and_the_row(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"")
    path = _write(tmp_path, "file\trttm\na.wav\tref/a.rttm\n")
    read_manifest(path, ("file", "rttm"), files=("file",))  # only the columns named are checked
    with pytest.raises(ManifestError, match=rf"1 file\(s\) named in column rttm .* do not exist, .*a\.rttm \({path}:2\)"):
        read_manifest(path, ("file", "rttm"), files=("file", "rttm"))


@pytest.mark.parametrize("content, message", [
    (None, r"enrolment list .*nope\.tsv not found; give a TSV with columns `ext`, `file`"),
    ("ext,file\n101,a.wav\n", r"lacks column\(s\) ext, file; .*found ext,file"),
    ("", r"lacks column\(s\) ext, file; .*found no header"),
    (b"ext\tfile\n101\t\xff.wav\n", r"is not UTF-8"),
])
def test_a_bad_file_says_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "nope.tsv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ManifestError, match=message):
        read_manifest(path, ("ext", "file"), what="enrolment list")


def test_the_evaluations_share_the_reader(tmp_path):
    """ASR and diarization manifests both go through read_manifest: the same bad row, the same message."""
    from pipeline.eval.asr import read_clips
    from pipeline.eval.diarization import read_diarization_manifest

    asr = _write(tmp_path, "file\treference\na.wav\n", "asr.tsv")
    with pytest.raises(ManifestError, match=rf"{asr}:2: 1 field\(s\), no reference"):
        read_clips(asr)
    diar = _write(tmp_path, "file\trttm\na.wav\n", "diar.tsv")
    with pytest.raises(ManifestError, match=rf"{diar}:2: 1 field\(s\), no rttm"):
        read_diarization_manifest(diar)
