"""One Settings (issue 12 #4): every knob from HOTLINE_* variables, sections, secrets never serialised,
flows that take the object, side effects only in apply_environment(), the settings page (docs/settings.md) in step."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import config
from pipeline.config import Settings, TranscriptionSettings, apply_environment, env_names, load_settings
from pipeline.errors import SetupError
from tests.helpers import REPO

SIDE_EFFECT_VARS = (*config.QUIET_ENV, *config.PREFECT_ENV, "PREFECT_HOME")


@pytest.fixture
def clean_env(monkeypatch):
    """No HOTLINE_* variable and none of those apply_environment sets (monkeypatch restores them)."""
    for key in list(os.environ):
        if key.startswith("HOTLINE_") or key in SIDE_EFFECT_VARS:
            monkeypatch.delenv(key)
    return monkeypatch


# ---- values from the environment -----------------------------------------------------------------

def test_every_section_reads_its_variables(clean_env, tmp_path):
    clean_env.setenv("HOTLINE_HOME", str(tmp_path))
    clean_env.setenv("HOTLINE_CPU_THREADS", "3")
    clean_env.setenv("HOTLINE_KEEP_RAW_TEXT", "off")
    clean_env.setenv("HOTLINE_MODEL_CACHE", str(tmp_path / "cache"))
    clean_env.setenv("HOTLINE_RAW_TEXT_ROLES", "admin, manager")
    clean_env.setenv("HOTLINE_SECURE_COOKIES", "1")
    clean_env.setenv("HOTLINE_ALLOWED_HOSTS", "hotline.example,localhost")
    clean_env.setenv("HOTLINE_BUSY_WAIT_S", "0.5")
    clean_env.setenv("HOTLINE_PORT", "8123")
    clean_env.setenv("HOTLINE_ASR_BEAM_SIZE", "1")
    clean_env.setenv("HOTLINE_ASR_TEMPERATURE", "0,0.4")
    clean_env.setenv("HOTLINE_ASR_NO_SPEECH_THRESHOLD", "0.6")
    clean_env.setenv("HOTLINE_ASR_COMPRESSION_RATIO_THRESHOLD", "none")
    clean_env.setenv("HOTLINE_WATCH_INTERVAL_S", "30")
    s = load_settings()
    assert (s.home, s.cpu_threads, s.keep_raw_text, s.model_cache) == (tmp_path, 3, False, tmp_path / "cache")
    assert s.database == tmp_path / "hotline.duckdb" and s.watch_interval_s == 30.0
    assert s.web.raw_text_roles == ("admin", "manager") and s.web.secure_cookies
    assert s.web.allowed_hosts == ("hotline.example", "localhost") and s.web.busy_wait_s == 0.5 and s.web.port == 8123
    t = s.transcription
    assert (t.beam_size, t.temperature, t.no_speech_threshold, t.compression_ratio_threshold) == (1, (0.0, 0.4), 0.6, None)


def test_overrides_win_over_the_environment_and_none_is_ignored(clean_env, tmp_path):
    clean_env.setenv("HOTLINE_ASR_MODEL", "base")
    s = load_settings(asr_model="viet-asr-16k", db_path=None, home=tmp_path)
    assert s.asr_model == "viet-asr-16k" and s.db_path is None and s.home == tmp_path
    assert load_settings().asr_model == "base"
    assert s.with_(db_path=str(tmp_path / "x.duckdb")).database == tmp_path / "x.duckdb"  # strings become paths


def test_a_bad_value_is_one_line_naming_the_variable(clean_env):
    clean_env.setenv("HOTLINE_CPU_THREADS", "two")
    with pytest.raises(SetupError, match="HOTLINE_CPU_THREADS"):
        load_settings()
    clean_env.delenv("HOTLINE_CPU_THREADS")
    clean_env.setenv("HOTLINE_SECURE_COOKIES", "maybe")
    with pytest.raises(SetupError, match="HOTLINE_SECURE_COOKIES"):
        load_settings()
    clean_env.delenv("HOTLINE_SECURE_COOKIES")
    clean_env.setenv("HOTLINE_ASR_BEAM_SIZE", "wide")
    with pytest.raises(SetupError, match="HOTLINE_ASR_BEAM_SIZE"):
        load_settings()


def test_the_notebooks_old_variable_still_works_with_a_warning(clean_env, tmp_path):
    clean_env.setenv("HOTLINE_DB", str(tmp_path / "old.duckdb"))
    with pytest.warns(FutureWarning, match="HOTLINE_DB is deprecated: set HOTLINE_DB_PATH"):
        assert load_settings().database == tmp_path / "old.duckdb"
    clean_env.setenv("HOTLINE_DB_PATH", str(tmp_path / "new.duckdb"))
    with pytest.warns(FutureWarning, match="HOTLINE_DB_PATH wins"):
        assert load_settings().database == tmp_path / "new.duckdb"


def test_variable_names_are_unique_and_keep_the_old_ones():
    names = env_names()  # raises if two fields read one variable
    for old in ("HOTLINE_HOME", "HOTLINE_DB_PATH", "HOTLINE_ASR_MODEL", "HOTLINE_MODEL_CACHE", "HOTLINE_CALLER_SALT",
                "HOTLINE_RAW_TEXT_ROLES", "HOTLINE_SECURE_COOKIES", "HOTLINE_ALLOWED_HOSTS", "HOTLINE_SETTLE_S",
                "HOTLINE_SFTP_PASSWORD", "HOTLINE_REPORT_DIR", "HOTLINE_REVIEW_CONFIDENCE"):
        assert old in names
    assert names["HOTLINE_BUSY_WAIT_S"] == ("web", "busy_wait_s")
    assert names["HOTLINE_ASR_BEAM_SIZE"] == ("transcription", "beam_size")


def test_web_options_are_built_from_settings(clean_env):
    from pipeline.web.context import WebOptions

    clean_env.setenv("HOTLINE_RAW_TEXT_ROLES", "manager")
    clean_env.setenv("HOTLINE_SESSION_HOURS", "1.5")
    clean_env.setenv("HOTLINE_PAGE_SIZE", "20")
    opts = WebOptions.from_settings(load_settings())
    assert opts.raw_text_roles == ("manager",) and opts.page_size == 20 and opts.auth.session_hours == 1.5
    defaults = WebOptions.from_settings(Settings())
    assert defaults == WebOptions()  # the web section's defaults are the app's


# ---- transcription options --------------------------------------------------------------------------

def test_transcription_section_mirrors_transcribe_options():
    from dataclasses import fields

    from pipeline.stages.transcribe import TranscribeOptions, options_for

    assert set(TranscriptionSettings.model_fields) == {f.name for f in fields(TranscribeOptions)}
    assert options_for(Settings()) == TranscribeOptions()  # defaults unchanged: figures unchanged
    chosen = Settings(transcription=TranscriptionSettings(beam_size=1, vad_filter=False))
    assert options_for(chosen) == TranscribeOptions(beam_size=1, vad_filter=False)


def test_the_flow_decodes_with_the_settings_options_and_caches_by_them(monkeypatch, tmp_path):
    from types import SimpleNamespace

    import flows.tasks as tasks

    monkeypatch.setattr(tasks, "get_models", lambda s: SimpleNamespace())
    seen = {}
    monkeypatch.setattr(tasks, "transcribe_stage", lambda audio, models, options: seen.setdefault("options", options))
    base = load_settings(home=tmp_path)
    greedy = base.with_(transcription=base.transcription.with_(beam_size=1))
    tasks.transcribe_task.fn(None, None, greedy)
    assert seen["options"].beam_size == 1

    def no_model(settings):
        raise AssertionError("the cache key loaded a model")

    monkeypatch.setattr(tasks, "get_models", no_model)  # the fingerprint comes from models.registry.fingerprint_of
    rec = SimpleNamespace(sha256="abc")
    context = SimpleNamespace(task=SimpleNamespace(name="transcribe"))
    keys = {tasks.stage_cache_key(context, {"rec": rec, "settings": s})
            for s in (base, greedy, load_settings(home=tmp_path))}
    assert len(keys) == 2  # another beam is another cache entry; equal settings share one


# ---- secrets, serialisation, Prefect -----------------------------------------------------------------

def test_secrets_never_leave_the_process(clean_env, tmp_path):
    from fastapi.encoders import jsonable_encoder

    clean_env.setenv("HOTLINE_CALLER_SALT", "salt-from-env")
    clean_env.setenv("HOTLINE_SFTP_PASSWORD", "hunter2")
    s = load_settings(home=tmp_path)
    assert (s.caller_salt, s.sftp_password) == ("salt-from-env", "hunter2")
    stored = json.dumps(jsonable_encoder(s))  # what Prefect stores for a flow parameter
    assert "salt-from-env" not in stored and "hunter2" not in stored and "hunter2" not in repr(s)
    # Another process validating the JSON back reads the secrets from its own environment.
    clean_env.setenv("HOTLINE_CALLER_SALT", "other-host-salt")
    back = Settings.model_validate(json.loads(stored))
    assert back.caller_salt == "other-host-salt" and back.with_(caller_salt="salt-from-env") == s


def test_flows_take_settings_as_a_parameter_prefect_can_serialise(tmp_path):
    from fastapi.encoders import jsonable_encoder
    from prefect.utilities.callables import parameter_schema

    from flows.backfill import backfill
    from flows.process_calls import process_calls
    from flows.pull import pull_and_process
    from flows.weekly_report import weekly_report

    s = load_settings(home=tmp_path, db_path=tmp_path / "w.duckdb", asr_model="base")
    for flow in (process_calls, pull_and_process, weekly_report, backfill):
        assert "settings" in parameter_schema(flow.fn).properties  # a deployment can describe it
        params = {"settings": jsonable_encoder(s)}
        if flow is backfill:
            params.update(date_from="2026-11-01", date_to="2026-11-30")
        elif flow is not weekly_report:
            params["source" if flow is pull_and_process else "source_dir"] = str(tmp_path)
        validated = flow.validate_parameters(params)  # what a deployment's run does with the stored JSON
        assert isinstance(validated["settings"], Settings) and validated["settings"].database == s.database
        assert validated["settings"].asr_model == "base"
        assert "settings_overrides" not in inspect.signature(flow.fn).parameters and "db_path" not in inspect.signature(flow.fn).parameters


def test_settings_are_hashable_so_one_set_of_models_serves_a_process(tmp_path):
    a, b = load_settings(home=tmp_path), load_settings(home=tmp_path)
    assert a == b and hash(a) == hash(b) and a.with_(cpu_threads=1) != a


# ---- side effects: only in apply_environment, called at the entry points ---------------------------

def test_importing_pipeline_models_and_flows_leaves_the_environment_alone(tmp_path):
    probe = """
import importlib, json, os, pkgutil, sys
before = dict(os.environ)
for pkg in ("pipeline", "models", "flows"):
    importlib.import_module(pkg)
    for info in pkgutil.walk_packages(importlib.import_module(pkg).__path__, prefix=pkg + "."):
        importlib.import_module(info.name)
after = dict(os.environ)
print(json.dumps({k: after.get(k) for k in set(before) | set(after) if before.get(k) != after.get(k)}))
"""
    env = {k: v for k, v in os.environ.items() if k not in SIDE_EFFECT_VARS and not k.startswith("HOTLINE_")}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(REPO))  # Prefect may create ~/.prefect on import: keep it here
    out = subprocess.run([sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {}


def test_apply_environment_sets_defaults_once_and_never_overrides(clean_env, tmp_path):
    clean_env.setenv("OMP_WAIT_POLICY", "ACTIVE")  # the operator's choice stays
    changed = apply_environment()
    assert os.environ["PYANNOTE_METRICS_ENABLED"] == "0" and os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
    assert "OMP_WAIT_POLICY" not in changed and "PREFECT_HOME" not in os.environ  # no settings: no Prefect home
    changed = apply_environment(load_settings(home=tmp_path))
    assert os.environ["PREFECT_HOME"] == str(tmp_path / "prefect") and changed["PREFECT_HOME"] == str(tmp_path / "prefect")
    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert (tmp_path / "prefect").is_dir()  # made before Prefect is imported: it cannot make missing parents
    assert apply_environment(load_settings(home=tmp_path)) == {}  # idempotent


def test_the_cli_builds_settings_once_and_applies_them_first(clean_env, monkeypatch, tmp_path, capsys):
    from pipeline import cli

    clean_env.setenv("HOTLINE_HOME", str(tmp_path))
    calls, built = [], []
    real_load = config.load_settings
    monkeypatch.setattr(config, "apply_environment", lambda s=None: calls.append(s))
    monkeypatch.setattr(config, "load_settings", lambda *a, **k: built.append(1) or real_load(*a, **k))
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert len(calls) == 1 and calls[0].home == tmp_path and built == [1]
    clean_env.setenv("HOTLINE_MAX_CHANNELS", "many")
    assert cli.main(["models"]) == SetupError.exit_code
    assert "HOTLINE_MAX_CHANNELS" in capsys.readouterr().err


def test_the_web_app_factory_applies_the_environment_when_it_builds_settings(clean_env, monkeypatch, tmp_path):
    import pipeline.web.app as app_mod

    calls = []
    monkeypatch.setattr(app_mod, "apply_environment", lambda s=None: calls.append(s))
    clean_env.setenv("HOTLINE_PAGE_SIZE", "7")
    app = app_mod.create_app(tmp_path / "w.duckdb")
    assert len(calls) == 1 and app.state.settings == calls[0] and app.state.options.page_size == 7
    app_mod.create_app(tmp_path / "w.duckdb", calls[0])  # given settings: the caller's entry point applied them
    assert len(calls) == 1


def test_flows_build_their_settings_through_one_function(clean_env, monkeypatch, tmp_path):
    import flows.environment as environment
    import flows.process_calls as pc
    from flows.backfill import backfill
    from flows.pull import pull_and_process
    from flows.watch import watch_source
    from flows.weekly_report import weekly_report

    calls = []
    monkeypatch.setattr(environment, "apply_environment", lambda s=None: calls.append(s))
    given = load_settings(home=tmp_path)
    assert environment.flow_settings(given) is given and calls == [given]
    clean_env.setenv("HOTLINE_HOME", str(tmp_path / "env"))
    assert environment.flow_settings(None).home == tmp_path / "env"
    for fn in (pc.process_calls.fn, pull_and_process.fn, weekly_report.fn, watch_source, backfill.fn):
        assert "flow_settings(settings)" in inspect.getsource(fn), fn.__name__


def test_the_notebooks_read_the_same_settings():
    for name in ("qa_review.ipynb", "topic_trends.ipynb"):
        nb = json.loads((REPO / "notebooks" / name).read_text(encoding="utf-8"))
        code = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        # the database: settings' one when set, else the demo warehouse (pipeline/report/notebook.py, issue 29)
        assert "load_settings()" in code and "apply_environment(settings)" in code
        assert "notebook.open_warehouse(settings)" in code
        assert "os.environ" not in code and "HOTLINE_DB" not in code


# ---- watch: the interval, named as such ---------------------------------------------------------------

def test_watch_polls_at_its_interval_and_waits_one_interval_for_another_run(monkeypatch, tmp_path):
    import flows.watch as watch
    from pipeline.intake.ingest import name_key
    from pipeline.runs.book import RunSummary
    from pipeline.salt import caller_salt

    (tmp_path / "a.wav").write_bytes(b"RIFF")
    os.utime(tmp_path / "a.wav", (1, 1))
    seen = []

    def fake_run(source_dir, settings, calls_csv=None, **kw):
        seen.append((settings, kw))
        return RunSummary(run_id="r", db_path=str(settings.database), processed=1)

    monkeypatch.setattr(watch, "run_process_calls", fake_run)
    s = load_settings(home=tmp_path / "home", watch_interval_s=0.05)
    assert watch.watch_source(tmp_path, s, settle_s=0, max_polls=2) == 1
    ((settings, kw),) = seen
    assert settings is s and kw["wait_s"] == 0.05 and "interval_s" not in kw
    assert kw["only_keys"] == [name_key("a.wav", caller_salt(s))]  # keyed ids, never file names
    from pipeline.cli import build_parser

    assert build_parser().parse_args(["watch", str(tmp_path)]).interval is None  # None: settings.watch_interval_s


# ---- the settings page (docs/settings.md) ------------------------------------------------------

def _readme_rows() -> dict[str, str]:
    """``HOTLINE_*`` variable → its default cell, from every table of docs/settings.md with a ``variable`` column."""
    rows = {}
    for line in (REPO / "docs" / "settings.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`HOTLINE_"):
            continue
        for name in re.findall(r"`(HOTLINE_[A-Z0-9_]+)`", cells[0]):
            rows[name] = cells[1].strip("`")
    return rows


def _default_text(value) -> str | None:
    """How docs/settings.md writes a default, or None when it describes it in words (paths, empty, generated)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, tuple) and value:
        return ",".join(_default_text(v) for v in value)
    if isinstance(value, str) and value:
        return value
    return None


def _field_comments() -> dict[tuple[str, str], str]:
    """(class, field) → the one-line comment after the field in pipeline/config.py."""
    import ast
    import io
    import tokenize

    source = (REPO / "pipeline" / "config.py").read_text(encoding="utf-8")
    comments = {tok.start[0]: tok.string.lstrip("# ").strip()
                for tok in tokenize.generate_tokens(io.StringIO(source).readline) if tok.type == tokenize.COMMENT}
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    out[(node.name, item.target.id)] = comments.get(item.end_lineno, "")
    return out


def _suggested_row(env: str) -> str:
    section, field = env_names()[env]
    model = {None: Settings, "web": config.WebSettings, "transcription": TranscriptionSettings}[section]
    default = _default_text(model.model_fields[field].get_default(call_default_factory=True))
    return f"| `{env}` | {f'`{default}`' if default is not None else 'empty'} | {_field_comments()[(model.__name__, field)]} |"


def test_every_setting_has_a_one_line_comment():
    comments = _field_comments()
    for model in (Settings, config.WebSettings, TranscriptionSettings):
        missing = [f for f in model.model_fields if not comments.get((model.__name__, f))]
        assert missing == [], f"{model.__name__}: fields without a one-line unit comment"


def test_settings_page_matches_settings():
    rows = _readme_rows()
    names = env_names()
    missing = sorted(set(names) - set(rows))
    assert missing == [], "settings missing from docs/settings.md; rows to start from:\n" + "\n".join(
        _suggested_row(env) for env in missing)
    assert sorted(set(rows) - set(names)) == [], "docs/settings.md rows for variables Settings does not read"
    sections = {None: Settings(), "web": Settings().web, "transcription": Settings().transcription}
    wrong = {}
    for env, (section, field) in names.items():
        model = type(sections[section])
        if model.model_fields[field].exclude:  # secrets: the page says "generated" / "empty"
            continue
        expected = _default_text(getattr(sections[section], field))
        if expected is not None and rows[env] != expected:
            wrong[env] = (rows[env], expected)
    assert wrong == {}, "docs/settings.md default ≠ Settings default (docs, Settings)"


def test_a_served_flow_pickled_by_value_still_validates_its_settings(tmp_path):
    """``serve`` pickles the flow by value into each run's process: parameter types must survive
    without the module's globals (a string annotation "Settings" did not: every deployment run failed)."""
    import cloudpickle

    import flows.process_calls
    import flows.pull
    import flows.weekly_report
    from fastapi.encoders import jsonable_encoder

    modules = (flows.pull, flows.weekly_report, flows.process_calls)
    for module in modules:
        cloudpickle.register_pickle_by_value(module)
    try:
        blob = cloudpickle.dumps([flows.pull.pull_and_process, flows.weekly_report.weekly_report,
                                  flows.process_calls.process_calls])
    finally:
        for module in modules:
            cloudpickle.unregister_pickle_by_value(module)
    (tmp_path / "flows.pkl").write_bytes(blob)
    (tmp_path / "settings.json").write_text(json.dumps(jsonable_encoder(load_settings(home=tmp_path))))
    child = """
import json, pickle, sys
pull, weekly, process = pickle.loads(open(sys.argv[1], "rb").read())
s = json.loads(open(sys.argv[2]).read())
for flow, extra in ((pull, {"source": "x"}), (weekly, {}), (process, {"source_dir": "x"})):
    print(type(flow.validate_parameters({"settings": s, **extra})["settings"]).__name__)
"""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", child, str(tmp_path / "flows.pkl"), str(tmp_path / "settings.json")],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["Settings"] * 3
