"""The benchmark's long-call builder and its summary line (no models)."""

from __future__ import annotations

import re

import pytest

from pipeline.eval.bench import BenchReport, build_long_call, peak_memory_mb

from tests.helpers import DATA

LAST_LINE = re.compile(r"^rtf=\d+\.\d{3} asr_over_bare=\d+\.\d{3} audio_h_per_h=\d+(\.\d)? peak_mb=\d+$")


def test_long_call_is_mono_8k_mulaw_of_the_asked_length(tmp_path):
    import soundfile as sf

    out = build_long_call([DATA / "short_vi.wav", DATA / "short_stereo.wav"], tmp_path / "long.wav", minutes=0.5)
    info = sf.info(str(out))
    assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "ULAW")
    assert info.frames == 30 * 8000
    with pytest.raises(ValueError, match="no recordings"):
        build_long_call([], tmp_path / "none.wav")


def test_summary_line_has_the_exact_shape_and_consistent_figures():
    report = BenchReport(n_calls=2, audio_s=100.0, wall_s=40.0, stage_s={"transcribe": 30.0, "speakers": 10.0},
                         bare_asr_s=25.0, peak_mb=peak_memory_mb())
    line = report.last_line()
    assert LAST_LINE.match(line), line
    values = dict(kv.split("=") for kv in line.split())
    assert float(values["rtf"]) == pytest.approx(report.wall_s / report.audio_s, abs=1e-3)
    assert float(values["asr_over_bare"]) == pytest.approx(30.0 / 25.0, abs=1e-3)
    assert float(values["audio_h_per_h"]) == pytest.approx(1 / float(values["rtf"]), abs=0.1)
    assert int(values["peak_mb"]) > 10, "this very process uses more than 10 MB"
