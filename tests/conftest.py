"""Shared fixtures. Prefect keeps its state in a temporary folder, never ~/.prefect."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

_PREFECT_HOME = tempfile.mkdtemp(prefix="hotline-test-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_API_DATABASE_CONNECTION_URL", f"sqlite+aiosqlite:///{_PREFECT_HOME}/prefect.db")
os.environ["PYANNOTE_METRICS_ENABLED"] = "0"
# The test process is an entry point: the process-wide defaults (telemetry off, passive OpenMP
# threads) that imports used to set as a side effect.
from pipeline.config import apply_environment  # noqa: E402

apply_environment()

import pytest  # noqa: E402

from tests.helpers import REPO  # noqa: E402

# Fixtures shared by unit and integration tests (once folder conftests of tests/web, tests/faults).
pytest_plugins = ["tests.support.web_fixtures"]
# The assembled Whisper model is reused across runs (assembling takes ~1 s, 145 MB).
MODEL_CACHE = Path(os.environ.get("HOTLINE_MODEL_CACHE", REPO / "var" / "models"))


@pytest.fixture(scope="session")
def model_cache() -> Path:
    return MODEL_CACHE


@pytest.fixture
def settings(tmp_path):
    from pipeline.config import load_settings

    return load_settings(home=tmp_path, db_path=tmp_path / "test.duckdb")


@pytest.fixture(scope="session")
def asr(model_cache):
    """The real bundled Whisper base model, loaded once for the session."""
    from models.asr import load_asr

    return load_asr("base", cache_dir=model_cache, device="cpu", compute_type="int8", cpu_threads=2)


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect server and database for every flow test (~15 s once)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_PREFECT_HOME, ignore_errors=True)


# The folder decides what a test may need and how it is marked (docs/testing.md): a file never marks
# itself. A unit test asking for one of these fixtures belongs in tests/integration/ (or tests/browser/).
FOLDER_MARKS = {"unit": "unit", "integration": "integration", "browser": "browser"}
NOT_IN_UNIT = frozenset({"prefect_harness", "asr", "model_cache", "browser", "_chromium"})


def _folder(item) -> str | None:
    parts = Path(str(item.fspath)).resolve().relative_to(REPO / "tests").parts
    return parts[0] if len(parts) > 1 else None


def pytest_collection_modifyitems(config, items):
    misplaced = []
    for item in items:
        folder = _folder(item)
        if folder not in FOLDER_MARKS:
            misplaced.append(f"{item.nodeid}: tests live in tests/unit, tests/integration or tests/browser")
            continue
        foreign = [m for m in FOLDER_MARKS.values() if m != FOLDER_MARKS[folder] and item.get_closest_marker(m)]
        if foreign:
            misplaced.append(f"{item.nodeid}: marked {', '.join(foreign)} in tests/{folder}: move it to that folder")
        item.add_marker(getattr(pytest.mark, FOLDER_MARKS[folder]))
        heavy = NOT_IN_UNIT.intersection(getattr(item, "fixturenames", ()))
        if folder == "unit" and heavy:
            misplaced.append(f"{item.nodeid}: a unit test using {', '.join(sorted(heavy))} belongs in tests/integration")
    if misplaced:
        raise pytest.UsageError("misplaced tests (docs/testing.md):\n" + "\n".join(misplaced))
