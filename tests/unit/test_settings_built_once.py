"""Settings are built once per process, at the entry point, and passed down (issue 12 item 4).

Only the entry points may call :func:`pipeline.config.load_settings`: the CLI's ``main``
(which sets ``args.settings``), the config module itself (``entry_settings``'s fallback for a
caller without ``args``) and the web app factory (``uvicorn --factory`` starts a process there).
Commands take the entry point's settings with ``entry_settings(args)``; nothing below the
commands calls that either. Checked on the syntax tree, so an aliased import or a call through
the module (``config.load_settings()``) counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import REPO

BUILDERS = {"load_settings", "entry_settings"}

# Module (relative to the repo) → the builders it may call, and why.
ALLOWED = {
    "pipeline/cli.py": ({"load_settings"}, "the entry point: main() builds the process's settings once"),
    "pipeline/config.py": ({"load_settings", "entry_settings"},
                           "defines them; entry_settings falls back to the environment"),
    "pipeline/web/app.py": ({"load_settings"}, "the web app factory is an entry point (uvicorn --factory, tests)"),
}
# Commands read the entry point's settings from args: entry_settings(args), never load_settings().
COMMANDS = "pipeline/commands/"
# Honest exceptions, each with its reason (remove the entry when the module is fixed).
PENDING: dict[str, tuple[set[str], str]] = {}  # none left


def builder_calls(source: str) -> set[str]:
    """The settings builders (``load_settings``, ``entry_settings``) called in ``source``, under
    their real names, however they were imported (``as`` aliases, ``config.load_settings``)."""
    tree = ast.parse(source)
    alias = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "pipeline.config":
            for name in node.names:
                if name.name in BUILDERS:
                    alias[name.asname or name.name] = name.name
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id in alias:
            found.add(alias[f.id])
        elif isinstance(f, ast.Attribute) and f.attr in BUILDERS:
            found.add(f.attr)
    return found


def offenders(root: Path = REPO) -> dict[str, set[str]]:
    """Module → builders it calls that the rule does not allow it."""
    bad = {}
    for path in sorted((root / "pipeline").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        calls = builder_calls(path.read_text(encoding="utf-8"))
        allowed = set(ALLOWED.get(rel, (set(),))[0]) | set(PENDING.get(rel, (set(),))[0])
        if rel.startswith(COMMANDS):
            allowed.add("entry_settings")
        if calls - allowed:
            bad[rel] = calls - allowed
    return bad


def test_only_the_entry_points_build_settings():
    assert offenders() == {}, "build Settings at the entry point and pass them down (see docs/architecture.md)"


def test_the_exceptions_are_real_and_reasoned():
    for rel, (names, why) in {**ALLOWED, **PENDING}.items():
        assert (REPO / rel).is_file(), f"{rel}: no such module (remove it from the list)"
        assert why.strip()
        assert names <= BUILDERS


def test_the_check_sees_every_way_of_calling_them():
    assert builder_calls("from pipeline.config import load_settings\nload_settings().home") == {"load_settings"}
    assert builder_calls("from pipeline.config import load_settings as ls\ndef f():\n    return ls(home='x')") \
        == {"load_settings"}
    assert builder_calls("import pipeline.config as c\nc.load_settings()\nc.entry_settings(None)") == BUILDERS
    # imported, not called:
    assert builder_calls("from pipeline.config import Settings, load_settings\nSettings()") == set()
    assert builder_calls("def load(): pass\nload()") == set()


def test_a_library_module_that_builds_settings_is_caught(tmp_path):
    lib = tmp_path / "pipeline" / "eval"
    lib.mkdir(parents=True)
    (lib / "x.py").write_text("def f():\n    from pipeline.config import load_settings\n    return load_settings()\n")
    cmd = tmp_path / "pipeline" / "commands"
    cmd.mkdir()
    (cmd / "y.py").write_text("from pipeline.config import entry_settings, load_settings\n"
                              "def a(args):\n    return entry_settings(args)\n"
                              "def b(args):\n    return load_settings()\n")
    (tmp_path / "pipeline" / "z.py").write_text("from pipeline.config import entry_settings\nentry_settings()\n")
    assert offenders(tmp_path) == {"pipeline/commands/y.py": {"load_settings"}, "pipeline/eval/x.py": {"load_settings"},
                                   "pipeline/z.py": {"entry_settings"}}


# ---- HOTLINE_ASR_* reaches every decode, not only the flow's ----------------------------------------

def _tone(path: Path) -> Path:
    import numpy as np
    import soundfile as sf

    t = np.arange(8000) / 8000
    sf.write(path, (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32), 8000)
    return path


def test_process_recording_and_stages_decode_with_the_settings_options(tmp_path, monkeypatch):
    import pipeline.stages.process as process
    from pipeline.config import load_settings
    from pipeline.stages.transcribe import TranscribeOptions, options_for

    settings = load_settings(environ={"HOTLINE_ASR_BEAM_SIZE": "2", "HOTLINE_ASR_VAD_FILTER": "false"}, home=tmp_path)
    assert options_for(settings) != TranscribeOptions()
    models = process.Models(settings, asr=object())
    assert process.Stages(models, settings).options == options_for(settings)
    given = TranscribeOptions(beam_size=1)
    assert process.Stages(models, settings, given).options is given  # an explicit choice still wins
    seen = []
    monkeypatch.setattr(process, "run_call", lambda rec, stages: seen.append(stages.options))
    process.process_recording(object(), models, settings)
    assert seen == [options_for(settings)] and seen[0].beam_size == 2 and seen[0].vad_filter is False


def test_hotline_eval_asr_decodes_with_the_settings_options(tmp_path, monkeypatch, capsys):
    import pipeline.stages.transcribe as transcribe_mod
    from pipeline.cli import main
    from pipeline.records import Segment, Transcript, TranscriptInfo

    _tone(tmp_path / "a.wav")
    (tmp_path / "m.tsv").write_text("file\treference\na.wav\txin chào\n", encoding="utf-8")
    seen = []

    def fake_transcribe_call(audio, asr, options):
        seen.append(options)
        return (Transcript((Segment(0.0, 1.0, "xin chào", confidence=0.9),), TranscriptInfo("vi", 1.0, 1.0)),)

    monkeypatch.setattr("models.registry.load_recognizer", lambda *a, **k: object())
    monkeypatch.setattr(transcribe_mod, "transcribe_call", fake_transcribe_call)
    monkeypatch.setenv("HOTLINE_ASR_BEAM_SIZE", "3")
    monkeypatch.setenv("HOTLINE_ASR_NO_REPEAT_NGRAM_SIZE", "4")
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path / "home"))
    assert main(["eval", "asr", str(tmp_path / "m.tsv"), "-q"]) == 0
    assert [(o.beam_size, o.no_repeat_ngram_size) for o in seen] == [(3, 4)]
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("wer=0.000 ")


def test_hotline_bench_runs_on_the_entry_points_settings(tmp_path, monkeypatch):
    import pipeline.eval.bench as bench
    from pipeline.cli import main
    from pipeline.errors import HotlineError

    src = tmp_path / "src"
    src.mkdir()
    _tone(src / "rec_20261103_082512_ext101.wav")
    seen = []

    def fake_bench(recordings, models, settings, **kw):
        seen.append((len(recordings), models.settings, settings))
        raise HotlineError("stop here: the settings are what this test checks")

    monkeypatch.setattr(bench, "bench_recordings", fake_bench)
    monkeypatch.setenv("HOTLINE_ASR_BEAM_SIZE", "2")
    monkeypatch.setenv("HOTLINE_AGENCY_NAME", "from the environment")
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path / "home"))
    assert main(["bench", str(src), "--asr-model", "base"]) == 1
    ((n, model_settings, settings),) = seen
    assert n == 1 and model_settings is settings
    assert settings.transcription.beam_size == 2 and settings.agency_name == "from the environment"
    assert settings.asr_model == "base" and settings.home != tmp_path / "home"  # a temporary home, as before
