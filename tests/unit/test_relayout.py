"""scripts/relayout.py on a small throw-away repository: moves, rewrites, idempotence, the check;
and the test folders of this repository follow the script's one principle."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO


def _script():
    spec = importlib.util.spec_from_file_location("relayout", REPO / "scripts" / "relayout.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


relayout = _script()

FILES = {
    "pipeline/__init__.py": "",
    "pipeline/config.py": "REPO_ROOT = 1\n",
    "pipeline/records.py": "class Segment:\n    pass\n",
    "pipeline/search.py": "from .records import Segment\n\n\ndef search_calls():\n    return Segment\n",
    "pipeline/places.py": (
        "from pathlib import Path\n\nDATA = Path(__file__).resolve().parent.parent / 'models' / 'data.txt'\n\n\n"
        "def read():\n    return DATA.read_text()\n"
    ),
    "pipeline/reports.py": (
        "from pipeline import config, search\nfrom pipeline.places import read\n\n\n"
        "def report():\n    return search.search_calls(), read(), config.REPO_ROOT\n"
    ),
    "pipeline/retention.py": "def purge_old():\n    return 0\n",  # renamed on the way: warehouse/purge.py
    "pipeline/newthing.py": "X = 1\n",  # in no table: left at the top and reported
    "pipeline/web/__init__.py": "",
    "pipeline/web/app.py": "import pipeline.search as s\nfrom pipeline.reports import report\n\nR = (s, report)\n",
    "models/__init__.py": "",
    "models/data.txt": "ok\n",
    "flows/__init__.py": "",
    "flows/run.py": "from pipeline.search import search_calls\n\nF = search_calls\n",
    "flows/purge.py": "from pipeline import retention\n\nP = retention.purge_old\n",
    "tests/helpers.py": "from pathlib import Path\n\nREPO = Path(__file__).resolve().parent.parent\n",
    "tests/conftest.py": "import pytest  # noqa: E402\n\nfrom tests.helpers import REPO  # noqa: E402\n",
    "tests/unit/test_places.py": "from pipeline.places import read\n\n\ndef test_read():\n    assert read() == 'ok\\n'\n",
    "tests/web/__init__.py": "",
    "tests/web/conftest.py": "import pytest\n\n\n@pytest.fixture\ndef web_db():\n    return 'db'\n",
    "tests/web/test_page.py": (
        "from tests.web.conftest import web_db  # noqa: F401\n\n\ndef test_page(web_db, monkeypatch):\n"
        "    monkeypatch.setattr('pipeline.search.search_calls', lambda: 1)\n"
        "    from pipeline.reports import report\n    assert report()[0] == 1\n"
    ),
    "tests/web/test_slow.py": "import pytest\n\npytestmark = pytest.mark.integration\n\n\ndef test_x():\n    pass\n",
    "tests/faults/__init__.py": "",
    "tests/faults/killrun.py": "print('killrun')\n",
    "tests/faults/test_kill.py": (
        "import subprocess, sys\n\n\ndef test_kill(prefect_harness):\n"
        "    subprocess.run([sys.executable, '-m', 'tests.faults.killrun'])\n"
    ),
    "docs/map.md": "See `pipeline/search.py` and `tests/web/test_page.py`; `pipeline.reports` renders.\n",
    "Makefile": "FAULTS ?= tests/faults/test_kill.py\n",
    "notebooks/n.ipynb": json.dumps({"cells": [{"cell_type": "code", "source": ["from pipeline import reports\n",
                                                                               "reports.report()"]}],
                                     "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n",
}


@pytest.fixture
def repo(tmp_path):
    for rel, text in FILES.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(tmp_path)]
    subprocess.run(git[:5] + ["init", "-q", str(tmp_path)], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-qm", "x"], check=True)
    return tmp_path


def _snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in root.rglob("*")
            if p.is_file() and ".git" not in p.parts and "__pycache__" not in p.parts}


def test_moves_rewrite_every_kind_of_reference_and_a_second_run_changes_nothing(repo, capsys):
    assert relayout.main(["--repo", str(repo), "--no-check"]) == 0
    out = capsys.readouterr().out
    assert "left at the top of pipeline/" in out and "newthing" in out
    files = _snapshot(repo)
    for gone in ("pipeline/search.py", "pipeline/places.py", "pipeline/reports.py", "tests/web/test_page.py",
                 "tests/web/conftest.py", "tests/faults/killrun.py"):
        assert gone not in files
    assert "pipeline/newthing.py" in files
    assert not (repo / "tests" / "web").exists() and not (repo / "tests" / "faults").exists()
    assert "from pipeline.records import Segment" in files["pipeline/warehouse/search.py"]  # relative made absolute
    assert "parents[2] / 'models'" in files["pipeline/analysis/places.py"]  # still reaches the repo root
    reports = files["pipeline/report/reports.py"]
    assert "from pipeline import config\nfrom pipeline.analysis.places import read\nfrom pipeline.warehouse import search\n" in reports
    assert "import pipeline.warehouse.search as s" in files["pipeline/web/app.py"]
    assert "from pipeline.warehouse.search import search_calls" in files["flows/run.py"]
    assert files["flows/purge.py"].startswith("from pipeline.warehouse import purge as retention\n")
    page = files["tests/unit/test_page.py"]  # a unit test: in-process, no heavy fixture
    assert "'pipeline.warehouse.search.search_calls'" in page and "tests.support.web_fixtures" in page
    assert "tests/integration/test_slow.py" in files and "tests/integration/test_kill.py" in files
    assert "'tests.support.killrun'" in files["tests/integration/test_kill.py"]
    assert 'pytest_plugins = ["tests.support.web_fixtures"]' in files["tests/conftest.py"]
    assert files["docs/map.md"].startswith("See `pipeline/warehouse/search.py` and `tests/unit/test_page.py`")
    assert "`pipeline.report.reports`" in files["docs/map.md"]
    assert files["Makefile"] == "FAULTS ?= tests/integration/test_kill.py\n"
    cell = json.loads(files["notebooks/n.ipynb"])["cells"][0]["source"]
    assert cell == ["from pipeline.report import reports\n", "reports.report()"]
    assert (repo / "pipeline" / "stages").exists() is False  # only folders that receive a module
    assert relayout.leftovers(repo, {}) == []

    before = _snapshot(repo)
    assert relayout.main(["--repo", str(repo), "--no-check"]) == 0
    assert "0 moved, 0 files edited" in capsys.readouterr().out
    assert _snapshot(repo) == before


def test_the_check_passes_on_the_moved_tree_and_finds_an_old_reference(repo, capsys):
    assert relayout.main(["--repo", str(repo), "--python", sys.executable]) == 0
    out = capsys.readouterr().out
    assert "check import" in out and "check pytest collects: ok" in out and "none left" in out
    # a branch merged after the re-layout still says pipeline.search: the check names it ...
    (repo / "flows" / "late.py").write_text("from pipeline.search import search_calls  # old\n", encoding="utf-8")
    subprocess.run(["git", "-C", str(repo), "add", "flows/late.py"], check=True)
    assert [line.split(": ")[0] for line in relayout.leftovers(repo, {})] == ["flows/late.py:1"]
    # ... and running the script again rewrites it
    assert relayout.main(["--repo", str(repo), "--no-check"]) == 0
    assert "pipeline.warehouse.search" in (repo / "flows" / "late.py").read_text(encoding="utf-8")
    assert relayout.leftovers(repo, {}) == []


def test_an_existing_target_stops_the_run_before_anything_moves(repo, capsys):
    (repo / "pipeline" / "warehouse").mkdir()
    (repo / "pipeline" / "warehouse" / "search.py").write_text("X = 2\n", encoding="utf-8")
    before = _snapshot(repo)
    assert relayout.main(["--repo", str(repo), "--no-check"]) == 1
    assert "target exists" in capsys.readouterr().out
    assert _snapshot(repo) == before


def test_the_test_folders_follow_one_principle():
    """unit/: no real model, Prefect server or browser; integration/: every file that needs one."""
    wrong = [f"{p.relative_to(REPO)} is {relayout.test_kind(p)}"
             for folder in ("unit", "integration") for p in sorted((REPO / "tests" / folder).glob("test_*.py"))
             if relayout.test_kind(p) != folder]
    assert not wrong, wrong
    assert relayout.test_kind(REPO / "tests" / "integration" / "test_asr_real.py") == "integration"


def test_a_shim_left_by_another_branch_is_reported_and_skip_leaves_it(repo, capsys):
    (repo / "pipeline" / "similar.py").write_text('"""Moved."""\nfrom pipeline.places import read  # noqa: F401\n',
                                                  encoding="utf-8")
    assert relayout.main(["--repo", str(repo), "--no-check", "--dry-run"]) == 0
    assert "pipeline/similar.py only re-exports" in capsys.readouterr().out
    assert relayout.main(["--repo", str(repo), "--no-check", "--skip", "pipeline.similar"]) == 0
    assert (repo / "pipeline" / "similar.py").is_file() and not (repo / "pipeline" / "warehouse" / "similar.py").exists()
