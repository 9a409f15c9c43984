"""The import rule of docs/architecture.md, checked on the source (ast: no import runs).

Every import counts, at the top of a module or inside a function. Three checks, none
with a list of exceptions:

- no import circle between modules;
- each layer imports only layers below it (``LAYERS``), and Prefect, ``pipeline/eval/``
  and ``pipeline/web/`` only from where ``ONLY_FROM`` allows;
- an import inside a function is for a heavy third-party library only (``HEAVY``), or for
  a module of ours that imports one at its top (a command starts a Prefect flow, or the web
  app, only when it runs): loaded when first needed, so that ``hotline --help`` and every
  other command do not wait for it. Everything else is imported at the top of the module.
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

from tests.helpers import REPO

FOLDERS = ("pipeline", "models", "flows")

# Bottom to top. A module imports modules of its own layer or of a layer on an earlier line;
# layers on one line are peers and import none of each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("vocabulary",),  # pipeline/*.py: records, errors, config, textnorm, logsafe, files, salt, …
    ("models",),  # adapters and shipped artefacts
    ("analysis", "warehouse", "intake"),  # text → facts; DuckDB; where recordings come from
    ("stages", "casework", "report"),  # the per-call stages; cases; reports and exports
    ("runs",),  # the run book and the watch loop
    ("eval", "web"),  # measuring the library; the web app
    ("flows",),  # Prefect wiring
    ("commands",),  # pipeline/commands/ and pipeline/cli.py: the entry points
)
RANK = {layer: rank for rank, layers in enumerate(LAYERS) for layer in layers}

# (imported prefix, the layers that may import it): stricter than the ranks above.
ONLY_FROM = (
    ("prefect", ("flows",)),  # pipeline/ runs and tests without an orchestrator
    ("prefect_dask", ("flows",)),
    ("pipeline.eval", ("eval", "commands")),  # evaluations measure the library from above
    ("pipeline.web", ("web", "commands")),  # the web app is one consumer of the library
)

# Third-party libraries that take long to import or load native code: the only ones a function
# may import where it needs them. Anything else (our own modules, the standard library) is
# imported at the top of the module.
HEAVY = frozenset({
    "torch", "torchaudio", "pyannote", "faster_whisper", "ctranslate2", "onnxruntime", "vietasr",  # models
    "sklearn", "scipy", "librosa", "joblib", "threadpoolctl",  # numerics
    "soundfile", "av",  # audio decoding
    "pandas", "openpyxl", "docx",  # tables, spreadsheets, documents (python-docx loads lxml)
    "paramiko",  # SFTP
    "prefect", "prefect_dask", "uvicorn", "fastapi",  # the orchestrator, the web server and framework
})


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for folder in FOLDERS for p in sorted((REPO / folder).rglob("*.py"))}


def _layer(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "pipeline":
        return parts[0]  # models, flows
    if len(parts) == 1 or (REPO / "pipeline" / f"{parts[1]}.py").is_file():
        return "commands" if parts[1:] == ["cli"] else "vocabulary"
    return parts[1]


def _is_project(name: str) -> bool:
    return name.split(".")[0] in FOLDERS


def _own(name: str) -> str | None:
    """The module of ours an imported name lives in: ``pipeline.warehouse.db.connect`` → ``pipeline.warehouse.db``."""
    modules = _modules()
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


@cache
def _statements(module: str) -> tuple[tuple[tuple[str, ...], int, bool], ...]:
    """(imported names, line, inside a function) per import statement of the module, relative ones resolved.

    ``from pipeline.warehouse import db, load`` names ``pipeline.warehouse`` and its submodules
    ``pipeline.warehouse.db`` and ``pipeline.warehouse.load``.
    """
    path = _modules()[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    local = {id(node) for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
             for node in ast.walk(fn) if isinstance(node, (ast.Import, ast.ImportFrom))}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = tuple(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            names = (base,) + tuple(f"{base}.{alias.name}" for alias in node.names
                                    if _is_project(base) and _own(f"{base}.{alias.name}") != _own(base))
        else:
            continue
        out.append((names, node.lineno, id(node) in local))
    return tuple(out)


def _imports(module: str) -> list[tuple[str, int, bool]]:
    """(imported name, line, inside a function) for every name :func:`_statements` finds."""
    return [(name, line, local) for names, line, local in _statements(module) for name in names]


@cache
def _loads_heavy(module: str) -> bool:
    """Whether importing a module of ours loads a heavy library: it, or a module it imports at its top,
    imports one at the top (the Prefect flows, the web app)."""
    _VISITING.add(module)  # a circle (reported by its own test) must not recurse for ever
    try:
        for name, _, local in _imports(module):
            if local:
                continue
            if name.split(".")[0] in HEAVY:
                return True
            target = _own(name) if _is_project(name) else None
            if target and target not in _VISITING and _loads_heavy(target):
                return True
        return False
    finally:
        _VISITING.discard(module)


_VISITING: set[str] = set()


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in _modules()}
    for module in graph:
        for name, _, _ in _imports(module):
            target = _own(name) if _is_project(name) else None
            if target and target != module:
                graph[module].add(target)
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_every_module_is_in_a_layer():
    unknown = sorted({_layer(m) for m in _modules()} - set(RANK))
    assert not unknown, f"folders in no layer of LAYERS (add them, and to docs/architecture.md): {unknown}"


def test_no_import_circles():
    circles = _circles(_graph())
    assert not circles, "import circles: " + "; ".join(" ↔ ".join(c) for c in circles)


def test_imports_point_down():
    upward = []
    for module in _modules():
        layer = _layer(module)
        for name, line, _ in _imports(module):
            for prefix, allowed in ONLY_FROM:
                if _within(name, prefix) and layer not in allowed:
                    upward.append(f"{module}:{line} imports {name} (only {', '.join(allowed)} may)")
            target = _own(name) if _is_project(name) else None
            if target is None or _layer(target) == layer:
                continue
            if RANK[_layer(target)] >= RANK[layer]:
                upward.append(f"{module}:{line} ({layer}) imports {target} ({_layer(target)})")
    assert not upward, "imports against the layers of docs/architecture.md:\n" + "\n".join(sorted(set(upward)))


def test_function_local_imports_are_heavy_libraries_only():
    lazy = []
    for module in _modules():
        for names, line, local in _statements(module):
            if not local:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in HEAVY:
                    continue
                if _is_project(name):
                    target = _own(name)
                    if _loads_heavy(target) or any(n != name and _within(n, name) for n in names):
                        continue  # a module that loads a heavy library; or the package of one named with it
                    kind = "project module"
                else:
                    kind = "standard library" if top in sys.stdlib_module_names else "light library"
                lazy.append(f"{module}:{line} imports {name} inside a function ({kind}): import it at the top")
    assert not lazy, "\n".join(sorted(set(lazy)))


def test_the_checks_see_what_they_check():
    """The checks above pass on an empty world too: make sure they read real imports, local ones included."""
    imports = {name: local for name, _, local in _imports("pipeline.stages.audio")}
    assert imports.get("numpy") is False and imports.get("soundfile") is True
    assert _loads_heavy("flows.process_calls") and not _loads_heavy("flows.environment")
    assert _layer("pipeline.config") == "vocabulary" and _layer("pipeline.cli") == "commands"
    assert _layer("pipeline.warehouse.db") == "warehouse" and _layer("flows.pull") == "flows"
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert "pipeline.warehouse.db" in _graph()["pipeline.warehouse.load"]
