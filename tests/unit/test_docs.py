"""The README and the docs pages, parsed: the README stays a short front door (≤ 8 KB, the two
make commands first, no settings table); no page leaves a code fence open; every link and every
repository path a page names exists; every ``hotline …`` command they show exists in ``hotline --help``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import REPO

README = REPO / "README.md"
PAGES = [README, *sorted((REPO / "docs").glob("*.md"))]
MAX_README_BYTES = 8 * 1024

# a repository path as the pages write it: a top folder, then a file with a known extension or a folder
_PATH = re.compile(r"(?<![\w./<-])((?:pipeline|models|flows|tests|scripts|docs|notebooks|samples)/"
                   r"[\w./-]*?(?:\.(?:py|md|csv|tsv|sql|json|sh|wav|ipynb|txt|toml|jsonl)\b|/(?=[\s`),:;]|$)))")
_PLACEHOLDER = re.compile(r"NN|NAME|\bX\b")  # views/NN_name.sql, scripts/research/NAME.py
_LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")
_HOTLINE = re.compile(r"(?:^|[`\s(])(?:\.venv/bin/)?hotline ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)")


def _fences(text: str) -> list[tuple[int, str]]:
    """(line number, fence line) of every code fence (```), in order."""
    return [(i, ln.strip()) for i, ln in enumerate(text.splitlines(), 1) if ln.lstrip().startswith("```")]


def _code_spans_and_blocks(text: str) -> list[str]:
    blocks = re.findall(r"```[^\n]*\n(.*?)```", text, flags=re.S)
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    return blocks + spans


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_code_fence_is_left_open(page):
    fences = _fences(page.read_text(encoding="utf-8"))
    opened = None
    for line, fence in fences:
        if opened is None:
            opened = line
        elif fence == "```":
            opened = None
        else:
            pytest.fail(f"{page.name}:{line}: a fence opens ({fence!r}) while the one of line {opened} is open")
    assert opened is None, f"{page.name}:{opened}: code fence never closed (the rest renders as code)"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_links_and_paths_point_at_files_that_exist(page):
    text = page.read_text(encoding="utf-8")
    missing = [f"link {t}" for t in _LINK.findall(text)
               if not t.startswith(("http://", "https://", "mailto:")) and not (page.parent / t).exists()]
    missing += [f"path {p}" for p in _PATH.findall(text) if not _PLACEHOLDER.search(p) and not (REPO / p).exists()]
    assert missing == [], f"{page.relative_to(REPO)} names what does not exist"


def test_readme_is_a_short_front_door():
    raw = README.read_bytes()
    assert len(raw) <= MAX_README_BYTES, f"README.md is {len(raw)} bytes: details go in docs/<topic>.md"
    text = raw.decode("utf-8")
    first_block = re.search(r"```[^\n]*\n(.*?)```", text, flags=re.S).group(1)
    assert [ln.split()[:2] for ln in first_block.splitlines()] == [["make", "demo"], ["make", "test"]]
    assert text.index("```") < text.index("\n## "), "the two commands come before any section"
    assert not re.search(r"^\|\s*`HOTLINE_", text, flags=re.M), "settings tables live in docs/settings.md"
    for heading in ("## What you get", "## Use", "## To change X, open Y"):
        assert heading in text
    # every docs page is reachable from the front door
    linked = {(README.parent / t).resolve() for t in _LINK.findall(text)}
    assert [p.name for p in PAGES[1:] if p.resolve() not in linked] == []


def _commands() -> dict[str, set[str]]:
    """``hotline --help``'s commands → their subcommands (empty when none)."""
    import argparse

    from pipeline.cli import build_parser

    parser = build_parser()
    top = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = {}
    for name, sub in top.choices.items():
        subs = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
        out[name] = set(subs[0].choices) if subs else set()
    return out


@pytest.mark.parametrize("page", [README, REPO / "docs" / "figures.md"], ids=lambda p: p.name)
def test_the_hotline_commands_shown_exist(page):
    from pipeline.cli import build_parser

    commands = _commands()
    help_text = build_parser().format_help()
    shown = [m for chunk in _code_spans_and_blocks(page.read_text(encoding="utf-8")) for m in _HOTLINE.findall(chunk)]
    assert shown, f"{page.name} shows no hotline command"
    wrong = []
    for words in shown:
        name, *rest = words.split()
        if name not in commands or f"  {name} " not in help_text:
            wrong.append(words)
        elif commands[name] and rest and rest[0] not in commands[name]:
            wrong.append(words)
    assert wrong == [], f"{page.name} shows commands `hotline --help` does not list"


def test_each_evaluation_is_listed_once_in_the_figures_page():
    text = (REPO / "docs" / "figures.md").read_text(encoding="utf-8")
    table = text[text.index("## Measuring each stage"):]
    rows = re.findall(r"^\| `hotline eval ([a-z-]+)", table, flags=re.M)
    assert len(rows) == len(set(rows)), "an evaluation listed twice"
    assert set(rows) == _commands()["eval"], "the table and `hotline eval --help` list different evaluations"


def test_the_architecture_tree_lists_the_modules_each_folder_holds():
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = re.search(r"```\n(pipeline/intake/.*?)```", text, flags=re.S).group(1)
    entries = re.findall(r"^(pipeline/ \(top\)|pipeline/\S*)\s+(.*?)(?=^\S)", block + "end\n", flags=re.M | re.S)
    listed = {}
    for folder, description in entries:
        names = re.search(r"\(([a-z0-9_, \s]+)\)\s*$", " ".join(description.split()))
        if names:
            listed[folder] = sorted(n.strip() for n in names.group(1).split(","))
    wanted = {}
    for folder in listed:
        path = REPO / ("pipeline" if folder == "pipeline/ (top)" else folder)
        wanted[folder] = sorted(p.stem for p in path.glob("*.py")
                                if p.stem != "__init__" and not (folder == "pipeline/ (top)" and p.stem == "cli"))
    assert len(listed) >= 8, "the tree lists each folder's modules"
    assert listed == wanted, "docs/architecture.md's tree differs from the files: write the lists as they are"
