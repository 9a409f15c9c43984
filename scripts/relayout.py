"""Re-layout: move the flat ``pipeline/`` modules into folders by job, and the tests into
folders by one principle, rewriting every reference. Re-runnable: a second run changes nothing.

    python scripts/relayout.py [--repo DIR] [--dry-run] [--no-check] [--map OLD=NEW ...]

Written to run on main *after* the day's branches are merged, on code it has not seen:

1. Modules. ``MODULES`` maps a dotted module to its new home. A source that is not there is
   skipped (already moved, or renamed by someone else); a target that already exists is a
   conflict and stops the run. Top-level modules that are in no table are listed as
   "left at the top" so that a row can be added (``--map pipeline.x=pipeline.stages.x``).
2. Tests. Every ``tests/{unit,integration,web,faults}/test_*.py`` goes to ``tests/unit/`` or
   ``tests/integration/`` by what it needs (see :func:`test_kind`); the support modules of
   ``tests/web`` and ``tests/faults`` go to ``tests/support/`` (a folder ``conftest.py``
   becomes a plugin registered in ``tests/conftest.py``), and the emptied folders go.
3. References, in every tracked text file: dotted names (``from pipeline.x import``,
   ``import pipeline.x as``, ``mock.patch("pipeline.x.f")``, ``-m tests.faults.killrun``,
   entry points, notebooks), ``from pipeline import x, y`` (split by new parent), relative
   imports inside ``pipeline/`` (made absolute), and file paths (``pipeline/x.py``,
   ``tests/web/test_y.py``) in docs, README, Makefile and scripts. ``.ipynb`` cells are
   rewritten through their JSON. The layer blocks of ``tests/unit/test_layers.py``,
   ``docs/architecture.md`` and the README's Layout section are regenerated.
4. Check (unless ``--no-check``): ``compileall``, every module under pipeline/, models/ and
   flows/ imports in a fresh interpreter, pytest collects every test, and no reference to
   an old path or dotted name is left. Exit status 1 if any of it fails.

Moves are ``git mv`` so history follows; the script never commits.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

# --- the target layout ---------------------------------------------------------------------
# (folder, what it holds, modules that go there). The shared vocabulary stays at the top of
# pipeline/: records, errors, textnorm, config, logsafe, fsperm, salt, intervals, i18n (and cli.py).
# pipeline/warehouse/, web/ and commands/ exist already; pipeline/eval/ is created by issue 12
# package 12b: the eval rows below only move what that package left at the top.
FOLDERS: list[tuple[str, str, tuple[str, ...]]] = [
    ("intake", "where recordings and call-log rows come from", ("ingest", "sources", "calllog_asterisk", "quarantine")),
    ("stages", "the per-call stages and their sequence", ("audio", "transcribe", "speakers", "operators", "analyse",
                                                          "process")),
    ("analysis", "what the analyse stage reads out of a transcript",
     ("topics", "places", "routing", "pii", "names", "numerals", "urgency", "metrics", "sentiment", "summary")),
    ("casework", "cases (phiếu phản ánh) and the working days of their deadlines", ("cases", "workdays")),
    ("report", "reports, case reports, exports and charts for managers", ("reports", "case_reports", "exports",
                                                                          "charts")),
    ("warehouse", "DuckDB: schema, loader, queries, search, retention", ("search", "retention", "similar",
                                                                        "staged_retention")),
    ("eval", "measuring and tuning the stages, and the benchmark", ("eval_asr", "eval_topics", "search_eval",
                                                                  "diarization_errors", "rttm", "bench",
                                                                  "topic_training")),
]
VOCABULARY = ("__init__", "cli", "config", "errors", "records", "textnorm", "logsafe", "fsperm", "salt", "intervals",
              "i18n")  # i18n: the interface strings web and report both use (if it sits at the top)

# A new name where the plain one is taken: package 12d keeps the purge's SQL in
# pipeline/warehouse/retention.py, so the policy module (what and when, the files) becomes purge.py.
RENAMES = {"retention": "purge", "staged_retention": "staged_copies"}  # staged SFTP copies the purge removes
MODULES: dict[str, str] = {
    f"pipeline.{m}": f"pipeline.{folder}.{RENAMES.get(m, m)}" for folder, _, mods in FOLDERS for m in mods
}

TEST_DIRS = ("unit", "integration", "web", "faults")  # test_*.py here are sorted by test_kind
GONE_TEST_DIRS = ("web", "faults")  # emptied and removed
# hold the old names on purpose: never rewritten, never reported
SKIP = {"scripts/relayout.py", "tests/unit/test_relayout.py"}
SUPPORT = "tests/support"

# A test file needs something outside one Python process, or a model, when any of these holds.
_INTEGRATION_MARKS = re.compile(r"^pytestmark\s*=.*pytest\.mark\.(integration|browser)", re.M)
_HEAVY_FIXTURES = {"prefect_harness", "asr", "model_cache"}

# Prose that names a removed folder as a whole: rewritten word for word (extend when the check
# reports one). Applied before the path rewrite.
TEXT_FIXES: dict[str, str] = {
    "(tests/faults/test_hardening*.py,": "(tests/unit/test_hardening.py, tests/integration/test_hardening_flow.py,",
    ".venv/bin/pytest -q tests/web                       # all, including the browser test":
        ".venv/bin/pytest -q tests/unit                      # web app, search, reports (with the other unit tests)",
    '.venv/bin/pytest -q tests/web -m "not browser"': '.venv/bin/pytest -q tests/integration -m browser   # the browser tests',
}


def sh(repo: Path, *args: str, check: bool = True) -> str:
    out = subprocess.run(args, cwd=repo, capture_output=True, text=True)
    if check and out.returncode:
        raise SystemExit(f"{' '.join(args)}: {out.stderr.strip()}")
    return out.stdout


def is_package(d: Path) -> bool:
    return (d / "__init__.py").is_file()


def mod_to_path(repo: Path, dotted: str) -> Path:
    """``pipeline.x`` -> repo/pipeline/x.py (or the package folder if that is what exists)."""
    p = repo.joinpath(*dotted.split("."))
    return p if p.is_dir() else p.with_suffix(".py")


def path_to_mod(rel: str) -> str:
    parts = list(Path(rel).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


# --- tests: one principle ------------------------------------------------------------------


def test_kind(path: Path) -> str:
    """``integration`` when the file needs a real model, the Prefect test server or a browser
    (a module-level ``integration``/``browser`` mark, or a test or fixture taking
    ``prefect_harness``, ``asr`` or ``model_cache``); ``unit`` otherwise."""
    text = path.read_text(encoding="utf-8")
    if _INTEGRATION_MARKS.search(text):
        return "integration"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
            node.name.startswith("test") or any("fixture" in ast.unparse(d) for d in node.decorator_list)
        ):
            if {a.arg for a in node.args.args} & _HEAVY_FIXTURES:
                return "integration"
    return "unit"


def test_moves(repo: Path) -> tuple[dict[str, str], list[str]]:
    """Dotted moves of test modules and support files, and the folder conftests that become plugins."""
    moves: dict[str, str] = {}
    plugins: list[str] = []
    for d in TEST_DIRS:
        folder = repo / "tests" / d
        if not folder.is_dir():
            continue
        for f in sorted(folder.glob("*.py")):
            rel = f.relative_to(repo).as_posix()
            if f.name.startswith("test_"):
                kind = test_kind(f)
                if kind != d:
                    moves[path_to_mod(rel)] = f"tests.{kind}.{f.stem}"
            elif d in GONE_TEST_DIRS and f.name == "conftest.py":
                new = f"tests.support.{d}_fixtures"
                moves[path_to_mod(rel)] = new
                plugins.append(new)
            elif d in GONE_TEST_DIRS and f.name != "__init__.py":
                moves[path_to_mod(rel)] = f"tests.support.{f.stem}"
    # a folder conftest moved by an earlier run is still a plugin
    for d in GONE_TEST_DIRS:
        if (repo / SUPPORT / f"{d}_fixtures.py").is_file():
            plugins.append(f"tests.support.{d}_fixtures")
    return moves, sorted(set(plugins))


# --- rewriting -----------------------------------------------------------------------------


class Rewriter:
    def __init__(self, moves: dict[str, str]):
        self.moves = dict(moves)
        for new in self.moves.values():
            for old in self.moves:
                if re.search(rf"(?<![\w.]){re.escape(old)}(?!\w)", new):
                    raise SystemExit(f"mapping not idempotent: {new} contains the old name {old}")
        # longest first, so pipeline.eval_asr is not taken for pipeline.eval
        olds = sorted(self.moves, key=len, reverse=True)
        self._dotted = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, olds)) + r")(?!\w)") if olds else None
        paths = {self.path_of(o): self.path_of(n) for o, n in self.moves.items()}
        self.paths = paths
        self._path = re.compile(
            r"(?<![\w.])(" + "|".join(map(re.escape, sorted(paths, key=len, reverse=True))) + r")(?![\w/])"
        ) if paths else None
        parents = sorted({o.rsplit(".", 1)[0] for o in self.moves}, key=len, reverse=True)
        self._from = re.compile(
            r"^(?P<indent>[ \t]*)from[ \t]+(?P<pkg>" + "|".join(map(re.escape, parents)) + r")[ \t]+import[ \t]+"
            r"(?P<names>\([^)]*\)|[^\n#;]+?)(?P<tail>[ \t]*(#[^\n]*)?)$",
            re.M,
        ) if parents else None

    @staticmethod
    def path_of(dotted: str) -> str:
        return dotted.replace(".", "/") + ".py"

    def from_imports(self, text: str) -> str:
        """``from pkg import a, b as c`` where pkg.a moved: one line per new parent."""
        if not self._from:
            return text

        def repl(m: re.Match) -> str:
            pkg, raw = m["pkg"], m["names"]
            body = raw.strip()
            if body.startswith("("):
                body = body[1:-1]
            names = [n.strip() for n in re.sub(r"#[^\n]*", "", body).replace("\n", " ").split(",") if n.strip()]
            if not any(f"{pkg}.{n.split()[0]}" in self.moves for n in names):
                return m[0]
            groups: dict[str, list[str]] = {}
            for n in names:
                base, _, alias = n.partition(" as ")
                base, alias = base.strip(), alias.strip()
                new = self.moves.get(f"{pkg}.{base}")
                if new is None:
                    groups.setdefault(pkg, []).append(n)
                    continue
                parent, newbase = new.rsplit(".", 1)
                alias = alias or (base if newbase != base else "")
                groups.setdefault(parent, []).append(f"{newbase} as {alias}" if alias and alias != newbase else newbase)
            lines = [f"{m['indent']}from {parent} import {', '.join(ns)}" for parent, ns in groups.items()]
            lines[0] += m["tail"]
            return "\n".join(lines)

        return self._from.sub(repl, text)

    def relative_imports(self, text: str, module: str, is_package: bool) -> str:
        """``from .x import y`` in pipeline/ made absolute (the folders change under it)."""
        base = module.split(".") if is_package else module.split(".")[:-1]

        def repl(m: re.Match) -> str:
            dots, rest = len(m["dots"]), m["rest"] or ""
            anchor = base[: len(base) - (dots - 1)] if dots > 1 else base
            target = ".".join(anchor + ([rest] if rest else []))
            return f"{m['indent']}from {target} import"

        return re.sub(r"^(?P<indent>[ \t]*)from[ \t]+(?P<dots>\.+)(?P<rest>[\w.]*)[ \t]+import", repl, text, flags=re.M)

    def text(self, text: str) -> str:
        for old, new in TEXT_FIXES.items():
            text = text.replace(old, new)
        text = self.from_imports(text)
        if self._dotted:
            text = self._dotted.sub(lambda m: self.moves[m[1]], text)
        if self._path:
            text = self._path.sub(lambda m: self.paths[m[1]], text)
        return text

    def notebook(self, raw: str) -> str:
        nb = json.loads(raw)
        changed = False
        for cell in nb.get("cells", []):
            src = cell.get("source", [])
            joined = "".join(src) if isinstance(src, list) else src
            new = self.text(joined)
            if new != joined:
                cell["source"] = new.splitlines(keepends=True) if isinstance(src, list) else new
                changed = True
        if not changed:
            return raw
        indent = 1 if raw.startswith("{\n \"") else 2
        return json.dumps(nb, ensure_ascii=False, indent=indent) + ("\n" if raw.endswith("\n") else "")


# --- generated blocks ----------------------------------------------------------------------

LAYER_BEGIN = "# relayout:layers begin"
LAYER_NAMES = {"stages": "STAGES_ALL"}  # STAGES in test_layers.py is the older, narrower list
LAYER_END = "# relayout:layers end"


def layer_block(repo: Path) -> str:
    """The layer tuples of test_layers.py: each folder if it exists, plus the modules of the
    table still at their old place (so the rules hold before, during and after a re-layout)."""
    lines = [
        f"{LAYER_BEGIN} (scripts/relayout.py writes this block: module lists before the re-layout,",
        "# folders after; a folder's modules not yet moved are listed beside it)",
    ]
    for folder, _, mods in FOLDERS:
        names = []
        if is_package(repo / "pipeline" / folder):
            names.append(f"pipeline.{folder}")
        names += [f"pipeline.{m}" for m in mods if (repo / "pipeline" / f"{m}.py").is_file()]
        name = LAYER_NAMES.get(folder, folder.upper())
        items = [f'"{n}"' for n in names]
        line = f"{name} = (" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        if len(line) > 116:  # wrapped, several per line
            rows, row = [], "   "
            for item in items:
                if len(row) + len(item) + 2 > 112:
                    rows.append(row)
                    row = "   "
                row += f" {item},"
            line = f"{name} = (\n" + "\n".join(rows + [row]) + "\n)"
        lines.append(line)
    lines.append(LAYER_END)
    return "\n".join(lines)


def replace_block(text: str, begin: str, end: str, block: str) -> str:
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < 0:
        return text
    line_start = text.rfind("\n", 0, i) + 1
    j = text.find("\n", j)
    j = len(text) if j < 0 else j
    return text[:line_start] + block + text[j:]


def layout_table(repo: Path, width: int = 40) -> str:
    """The folder map of pipeline/ as it stands (README Layout, docs/architecture.md)."""
    rows = []
    for folder, what, _ in FOLDERS:
        d = repo / "pipeline" / folder
        if is_package(d):
            mods = sorted(p.stem for p in d.glob("*.py") if p.stem != "__init__")
            subs = sorted(p.name + "/" for p in d.iterdir() if p.is_dir() and (p / "__init__.py").exists())
            rows.append((f"pipeline/{folder}/", f"{what} ({', '.join(mods + subs)})"))
    top = sorted(p.stem for p in (repo / "pipeline").glob("*.py") if p.stem not in ("__init__", "cli"))
    rows += [
        ("pipeline/web/", "the web app (routes/ by area over one WebContext)"),
        ("pipeline/commands/, cli.py", "entry points: arguments, one library call, print"),
        ("pipeline/ (top)", "the shared vocabulary every layer may import (" + ", ".join(top) + ")"),
        ("models/", "adapters behind small protocols and the shipped artefacts; topic_model.py is "
                    "inference, topic_training.py training"),
        ("flows/", "Prefect wiring only"),
        ("notebooks/", "reporting and QA notebooks (no logic)"),
        ("tests/unit/", "no real model, Prefect server or browser: seconds"),
        ("tests/integration/", "real models, the Prefect test server, a browser (marked)"),
        ("tests/support/", "fixtures and helpers the tests share"),
        ("samples/, scripts/", "demo calls + call log; generators, install helpers, this re-layout"),
    ]
    out = []
    for a, b in rows:
        words, line = b.split(" "), f"{a:<{width}}"
        for w in words:
            if len(line) + len(w) + 1 > 100 and line.strip() != a:
                out.append(line.rstrip())
                line = " " * width
            line += w + " "
        out.append(line.rstrip())
    return "\n".join(out)


README_BEGIN = "<!-- relayout:layout begin -->"
README_END = "<!-- relayout:layout end -->"


def write_blocks(repo: Path, dry: bool) -> list[str]:
    changed = []
    targets = {
        "tests/unit/test_layers.py": (LAYER_BEGIN, LAYER_END, layer_block(repo)),
        "README.md": (README_BEGIN, README_END, f"{README_BEGIN}\n```\n{layout_table(repo, 28)}\n```\n{README_END}"),
        "docs/architecture.md": (README_BEGIN, README_END,
                                 f"{README_BEGIN}\n```\n{layout_table(repo)}\n```\n{README_END}"),
    }
    moved = any(is_package(repo / "pipeline" / f) for f, _, _ in FOLDERS if f not in ("warehouse", "eval"))
    for rel, (b, e, block) in targets.items():
        p = repo / rel
        if rel != "tests/unit/test_layers.py" and not moved:
            continue  # the hand-written map stays until the folders exist
        if not p.is_file():
            continue
        old = p.read_text(encoding="utf-8")
        new = replace_block(old, b, e, block)
        if new != old:
            changed.append(rel)
            if not dry:
                p.write_text(new, encoding="utf-8")
    return changed


# --- the run -------------------------------------------------------------------------------


def tracked_text_files(repo: Path) -> list[Path]:
    out = []
    for rel in sh(repo, "git", "ls-files", "-z").split("\0"):
        if not rel or rel.startswith(("tests/data/", "samples/")):
            continue
        p = repo / rel
        if not p.is_file() or p.is_symlink():
            continue
        if p.suffix in {".joblib", ".wav", ".flac", ".mp3", ".ogg", ".duckdb", ".png", ".pdf", ".bin", ".pt", ".onnx",
                        ".gz", ".zip", ".xlsx"}:
            continue
        try:
            p.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        out.append(p)
    return out


def plan(repo: Path, extra: dict[str, str]) -> tuple[dict[str, str], list[str], list[str]]:
    """(moves to make now, conflicts, top-level modules left unmapped)."""
    tmoves, _ = test_moves(repo)
    wanted = {**MODULES, **extra, **tmoves}
    moves, conflicts = {}, []
    for old, new in wanted.items():
        src, dst = mod_to_path(repo, old), mod_to_path(repo, new)
        if not src.exists():
            continue
        if dst.exists():
            conflicts.append(f"{src.relative_to(repo)} -> {dst.relative_to(repo)}: target exists")
            continue
        moves[old] = new
    mapped = {o.split(".", 1)[1] for o in wanted if o.startswith("pipeline.") and o.count(".") == 1}
    unmapped = sorted(p.stem for p in (repo / "pipeline").glob("*.py") if p.stem not in mapped | set(VOCABULARY))
    # test names must stay unique across unit/ and integration/ (no __init__.py: imported by base name)
    seen: dict[str, str] = {}
    for d in ("unit", "integration"):
        for f in (repo / "tests" / d).glob("test_*.py"):
            seen.setdefault(f.stem, d)
    for old, new in moves.items():
        if old.startswith("tests.") and new.split(".")[1] in ("unit", "integration"):
            stem = new.rsplit(".", 1)[1]
            if stem in seen and seen[stem] != old.split(".")[1]:
                conflicts.append(f"{old}: a tests/{seen[stem]}/{stem}.py exists already")
            seen[stem] = new.split(".")[1]
    return moves, conflicts, unmapped


def all_moves(repo: Path, extra: dict[str, str]) -> dict[str, str]:
    """This run's moves plus every mapping already in place (source gone, target there), so
    references to old names are rewritten even when the move was made by an earlier run,
    e.g. in a branch merged after the re-layout."""
    tmoves, _ = test_moves(repo)
    done = {}
    for old, new in {**MODULES, **extra}.items():
        if mod_to_path(repo, new).exists() and not mod_to_path(repo, old).exists():
            done[old] = new
    for d in GONE_TEST_DIRS:
        if (repo / "tests" / d).exists():
            continue
        for kind in ("unit", "integration"):
            for f in (repo / "tests" / kind).glob("test_*.py"):
                done[f"tests.{d}.{f.stem}"] = f"tests.{kind}.{f.stem}"
        for f in (repo / SUPPORT).glob("*.py"):
            if f.stem == f"{d}_fixtures":
                done[f"tests.{d}.conftest"] = f"tests.support.{f.stem}"
            elif f.stem != "__init__" and not f.stem.endswith("_fixtures"):
                done[f"tests.{d}.{f.stem}"] = f"tests.support.{f.stem}"
    return {**done, **tmoves}


INIT_DOC = '"""{what}."""\n'

_FILE_PATH = re.compile(r"(Path\(__file__\)(?:\.resolve\(\))?)((?:\.parent\b)+|\.parents\[(\d+)\])")


def deepen_file_paths(text: str, delta: int) -> tuple[str, list[str]]:
    """A moved module's ``Path(__file__).parent.parent`` / ``.parents[n]`` reach the same folder
    from ``delta`` levels deeper. A single ``.parent`` (a file beside the module) is reported."""
    warnings = []

    def repl(m: re.Match) -> str:
        hops = int(m[3]) + 1 if m[3] is not None else m[2].count(".parent")
        if hops < 2:
            warnings.append(m[0])
            return m[0]
        return f"{m[1]}.parents[{hops - 1 + delta}]"

    return (_FILE_PATH.sub(repl, text) if delta else text), warnings


def sort_first_party_imports(text: str) -> str:
    """Re-sort runs of one-line first-party imports that the rewrite left out of order
    (``import x`` before ``from x import``, then by module, as isort does)."""
    lines = text.split("\n")
    first = re.compile(r"^(?P<ind>[ \t]*)(?P<kind>from|import) (?P<mod>(pipeline|models|flows|tests)[\w.]*)\b[^(\\]*$")
    out, i = [], 0
    while i < len(lines):
        m = first.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        j, block = i, []
        while j < len(lines) and (mm := first.match(lines[j])) and mm["ind"] == m["ind"]:
            block.append((mm["kind"] == "from", mm["mod"], lines[j]))
            j += 1
        out += [line for *_, line in sorted(block, key=lambda b: (b[0], b[1], b[2]))]
        i = j
    return "\n".join(out)


def apply(repo: Path, extra: dict[str, str], dry: bool) -> int:
    moves, conflicts, unmapped = plan(repo, extra)
    if conflicts:
        print("conflicts (nothing moved):\n  " + "\n  ".join(conflicts))
        return 1
    what = {f"pipeline/{f}": w for f, w, _ in FOLDERS} | {SUPPORT: "Fixtures and helpers the tests share"}
    if not dry and moves:
        # relative imports in pipeline/ are made absolute first, from where each file is now
        rewriter = Rewriter({})
        for p in sorted((repo / "pipeline").rglob("*.py")):
            text = p.read_text(encoding="utf-8")
            new = rewriter.relative_imports(text, path_to_mod(p.relative_to(repo).as_posix()), p.name == "__init__.py")
            if new != text:
                p.write_text(new, encoding="utf-8")
    for old, new in sorted(moves.items()):
        src, dst = mod_to_path(repo, old), mod_to_path(repo, new)
        print(f"move  {src.relative_to(repo)} -> {dst.relative_to(repo)}")
        if src.suffix == ".py" and looks_like_a_shim(src):
            print(f"WARNING {src.relative_to(repo)} only re-exports: a compatibility shim? (--skip {old} keeps it)")
        if dry:
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        init = dst.parent / "__init__.py"
        if not init.exists() and dst.parent != repo / "tests" / "unit" and dst.parent != repo / "tests" / "integration":
            doc = what.get(dst.parent.relative_to(repo).as_posix(), dst.parent.name)
            init.write_text(INIT_DOC.format(what=doc[0].upper() + doc[1:]), encoding="utf-8")
            sh(repo, "git", "add", str(init.relative_to(repo)))
        sh(repo, "git", "mv", str(src.relative_to(repo)), str(dst.relative_to(repo)))
        delta = len(dst.relative_to(repo).parts) - len(src.relative_to(repo).parts)
        if dst.suffix == ".py" and delta:
            text, warnings = deepen_file_paths(dst.read_text(encoding="utf-8"), delta)
            dst.write_text(text, encoding="utf-8")
            for w in warnings:
                print(f"WARNING {dst.relative_to(repo)}: {w} names a file beside the old place; move it too")
    if not dry:
        for d in GONE_TEST_DIRS:
            folder = repo / "tests" / d
            if folder.is_dir() and not [p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                                        and p.name != "__init__.py"]:
                if (folder / "__init__.py").exists():
                    sh(repo, "git", "rm", "-q", str((folder / "__init__.py").relative_to(repo)))
                subprocess.run(["rm", "-rf", str(folder)])
                print(f"removed tests/{d}/")
    rewriter = Rewriter(all_moves(repo, extra) if not dry else {**all_moves(repo, extra), **moves})
    edited = []
    for p in tracked_text_files(repo):
        rel = p.relative_to(repo).as_posix()
        if rel in SKIP:
            continue  # holds the old names on purpose
        old = p.read_text(encoding="utf-8")
        if p.suffix == ".ipynb":
            new = rewriter.notebook(old)
        else:
            new = old
            new = rewriter.text(new)
            if p.suffix == ".py" and new != old:
                new = sort_first_party_imports(new)
        if new != old:
            edited.append(rel)
            if not dry:
                p.write_text(new, encoding="utf-8")
    if not dry:
        edited += register_plugins(repo)
    edited += write_blocks(repo, dry)
    for rel in sorted(set(edited)):
        print(f"edit  {rel}")
    if unmapped:
        print("left at the top of pipeline/ (in no table; add a row or --map if they belong in a folder): "
              + ", ".join(unmapped))
    print(f"{len(moves)} moved, {len(set(edited))} files edited" + (" (dry run)" if dry else ""))
    return 0


def looks_like_a_shim(path: Path) -> bool:
    """A module whose body is only a docstring, imports, ``__all__`` and ``__getattr__``."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    kinds = (ast.Import, ast.ImportFrom)
    rest = [n for n in body if not isinstance(n, kinds)
            and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
            and not (isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in n.targets))
            and not (isinstance(n, ast.FunctionDef) and n.name == "__getattr__")]
    return bool(body) and not rest and any(isinstance(n, kinds) for n in body)


def register_plugins(repo: Path) -> list[str]:
    """Folder conftests that became tests/support/*_fixtures.py, registered in tests/conftest.py."""
    _, plugins = test_moves(repo)
    conftest = repo / "tests" / "conftest.py"
    if not plugins or not conftest.is_file():
        return []
    text = conftest.read_text(encoding="utf-8")
    line = "pytest_plugins = [" + ", ".join(f'"{p}"' for p in plugins) + "]"
    m = re.search(r"^pytest_plugins = \[[^\]]*\]$", text, re.M)
    if m:
        new = text.replace(m[0], line)
    else:
        comment = "# Fixtures shared by unit and integration tests (once folder conftests of tests/web, tests/faults).\n"
        anchor = "from tests.helpers import REPO  # noqa: E402\n"
        new = text.replace(anchor, anchor + "\n" + comment + line + "\n", 1) if anchor in text else text + "\n" + line + "\n"
    if new != text:
        conftest.write_text(new, encoding="utf-8")
        return ["tests/conftest.py"]
    return []


# --- the check -----------------------------------------------------------------------------


def check(repo: Path, extra: dict[str, str], python: str) -> int:
    failures = 0
    prefect_home = repo / "var" / "prefect-relayout"  # var/ is ignored
    prefect_home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(repo), PYANNOTE_METRICS_ENABLED="0", PREFECT_HOME=str(prefect_home),
               PREFECT_SERVER_ANALYTICS_ENABLED="false")
    out = subprocess.run([python, "-m", "compileall", "-q", "pipeline", "models", "flows", "tests", "scripts"],
                         cwd=repo, capture_output=True, text=True)
    print(f"check compileall: {'ok' if out.returncode == 0 else 'FAILED'}")
    if out.returncode:
        print(out.stdout[-3000:], out.stderr[-3000:])
        failures += 1
    mods = sorted(path_to_mod(p.relative_to(repo).as_posix()) for folder in ("pipeline", "models", "flows")
                  for p in (repo / folder).rglob("*.py") if "__pycache__" not in p.parts)
    code = ("import importlib, sys, traceback\nbad = 0\n"
            f"for m in {mods!r}:\n"
            "    try:\n        importlib.import_module(m)\n"
            "    except Exception as e:\n        bad += 1; print(f'{m}: {type(e).__name__}: {e}')\n"
            "sys.exit(1 if bad else 0)\n")
    out = subprocess.run([python, "-c", code], cwd=repo, capture_output=True, text=True, env=env)
    print(f"check import {len(mods)} modules: {'ok' if out.returncode == 0 else 'FAILED'}")
    if out.returncode:
        print(out.stdout[-4000:], out.stderr[-2000:])
        failures += 1
    out = subprocess.run([python, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests"],
                         cwd=repo, capture_output=True, text=True, env=env)
    last = (out.stdout.strip().splitlines() or [""])[-1]
    print(f"check pytest collects: {'ok' if out.returncode == 0 else 'FAILED'} ({last})")
    if out.returncode:
        print(out.stdout[-4000:], out.stderr[-2000:])
        failures += 1
    left = leftovers(repo, extra)
    print(f"check old references: {'none left' if not left else f'{len(left)} left'}")
    for line in left[:60]:
        print("  " + line)
    failures += bool(left)
    return 1 if failures else 0


def leftovers(repo: Path, extra: dict[str, str]) -> list[str]:
    olds = [o for o in {**MODULES, **extra} if not mod_to_path(repo, o).exists() and mod_to_path(repo, {**MODULES, **extra}[o]).exists()]
    dotted = olds + [f"tests.{d}" for d in GONE_TEST_DIRS if not (repo / "tests" / d).exists()]
    paths = [Rewriter.path_of(o) for o in olds] + [f"tests/{d}/" for d in GONE_TEST_DIRS if not (repo / "tests" / d).exists()]
    pats = [re.compile(rf"(?<![\w.]){re.escape(d)}(?!\w)") for d in dotted]
    pats += [re.compile(rf"(?<![\w.]){re.escape(p)}") for p in paths]
    found = []
    for p in tracked_text_files(repo):
        rel = p.relative_to(repo).as_posix()
        if rel in SKIP:
            continue
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if any(pat.search(line) for pat in pats):
                found.append(f"{rel}:{n}: {line.strip()[:140]}")
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--dry-run", action="store_true", help="print what would move and which files would change")
    ap.add_argument("--no-check", action="store_true", help="skip compileall, imports, collection and leftovers")
    ap.add_argument("--check-only", action="store_true", help="only the check")
    ap.add_argument("--blocks-only", action="store_true",
                    help="only regenerate the layer blocks (test_layers.py, README, docs/architecture.md)")
    ap.add_argument("--map", action="append", default=[], metavar="OLD=NEW",
                    help="extra dotted move, e.g. pipeline.numerals=pipeline.analysis.numerals")
    ap.add_argument("--skip", action="append", default=[], metavar="OLD",
                    help="leave this dotted module where it is (e.g. a compatibility shim another branch kept)")
    ap.add_argument("--python", default=sys.executable, help="interpreter for the check (the project's venv)")
    args = ap.parse_args(argv)
    repo = args.repo.resolve()
    extra = dict(m.split("=", 1) for m in args.map)
    saved = dict(MODULES)
    try:
        for old in args.skip:
            MODULES.pop(old, None)
            extra.pop(old, None)
        if args.blocks_only:
            for rel in write_blocks(repo, args.dry_run):
                print(f"edit  {rel}")
            return 0
        if not args.check_only:
            rc = apply(repo, extra, args.dry_run)
            if rc or args.dry_run:
                return rc
        return 0 if args.no_check else check(repo, extra, args.python)
    finally:
        MODULES.clear()
        MODULES.update(saved)


if __name__ == "__main__":
    raise SystemExit(main())
