"""The import rule of docs/architecture.md, checked on the source (ast, no imports run).

Each rule says which modules a layer may not import. Known breaches still to mend are
listed in KNOWN with the reason; the test fails on any new breach, and also when a
listed one is gone (so the list only shrinks).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import REPO

STAGES = ("pipeline.stages.process", "pipeline.stages.analyse", "pipeline.stages.transcribe", "pipeline.stages.speakers")

# The folders of docs/architecture.md, as import prefixes.
INTAKE = ("pipeline.intake",)
STAGES_ALL = ("pipeline.stages",)
ANALYSIS = ("pipeline.analysis",)
CASEWORK = ("pipeline.casework",)
REPORT = ("pipeline.report",)
WAREHOUSE = ("pipeline.warehouse",)
EVAL = ("pipeline.eval",)
LIBRARY_EDGE = ("pipeline.commands", "pipeline.cli")  # entry points: they may import any layer

# (layer prefix, forbidden import prefixes, unless the importing module starts with one of these)
RULES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    # models/: adapters; they share only the vocabulary modules of pipeline (records, errors, textnorm, config)
    ("models", ("flows", "prefect", "pipeline.web", "pipeline.warehouse", "pipeline.commands", "pipeline.cli",
                "pipeline.stages.process", "pipeline.stages.analyse", "pipeline.stages.transcribe", "pipeline.stages.speakers",
                "pipeline.intake.ingest", "pipeline.report.reports"), ()),
    # pipeline/: the library runs and tests without an orchestrator; only the CLI reaches up into flows/
    ("pipeline", ("flows", "prefect"), ("pipeline.cli", "pipeline.commands")),
    ("pipeline", ("pipeline.commands", "pipeline.cli"), ("pipeline.cli", "pipeline.commands")),
    # the web app is one consumer of the library, not part of it
    ("pipeline", ("pipeline.web",), ("pipeline.web", "pipeline.commands", "pipeline.cli")),
    # evaluations (pipeline/eval/) measure the library from above: nothing but the CLI imports them
    ("pipeline", ("pipeline.eval",), ("pipeline.eval", "pipeline.commands", "pipeline.cli")),
    ("models", ("pipeline.eval",), ()),
    # storage sits below the stages: it stores records, it does not know who made them
    ("pipeline.warehouse", STAGES, ()),
    # flows/ wire stages; nothing below imports them
    # folders by job (docs/architecture.md): analysis reads text and knows no stage, storage, report or evaluation
    *[(layer, INTAKE + STAGES_ALL + CASEWORK + REPORT + WAREHOUSE + EVAL, ()) for layer in ANALYSIS],
    *[(layer, ANALYSIS + CASEWORK + REPORT + WAREHOUSE + EVAL, ()) for layer in INTAKE],
    *[(layer, CASEWORK + REPORT + EVAL, ()) for layer in STAGES_ALL],
    *[(layer, INTAKE + STAGES_ALL + REPORT + EVAL, ()) for layer in CASEWORK],
    *[(layer, INTAKE + STAGES_ALL + EVAL, ()) for layer in REPORT],
    *[(layer, INTAKE + REPORT + EVAL, ()) for layer in WAREHOUSE],
    # evaluations and the benchmark measure the library; only they and the entry points import them
    ("pipeline", EVAL, EVAL + ("pipeline.eval",) + LIBRARY_EDGE),
]

KNOWN = {
    # issue 18: the SFTP source reads its password from a Prefect Secret block; that look-up belongs in flows/
    ("pipeline.intake.sources", "prefect"),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _breaches() -> set[tuple[str, str]]:
    breaches = set()
    for folder in ("pipeline", "models", "flows"):
        for path in (REPO / folder).rglob("*.py"):
            module = _module_name(path)
            for imported in _imports(path):
                for layer, forbidden, exempt in RULES:
                    if not _within(module, layer) or any(_within(module, e) for e in exempt):
                        continue
                    for bad in forbidden:
                        if _within(imported, bad) and not _within(imported, module):
                            breaches.add((module, bad))
    return breaches


def test_imports_follow_the_layer_rule():
    breaches = _breaches()
    new = sorted(breaches - KNOWN)
    assert not new, "imports against docs/architecture.md: " + ", ".join(f"{m} → {b}" for m, b in new)


def test_known_breaches_are_still_there_or_are_struck_off():
    gone = sorted(KNOWN - _breaches())
    assert not gone, "mended, strike them off KNOWN: " + ", ".join(f"{m} → {b}" for m, b in gone)
