"""scripts/research/README.md names every research script, what it measures and the docs claim it backs."""

from __future__ import annotations

import re

from tests.helpers import REPO

RESEARCH = REPO / "scripts" / "research"


def _index() -> dict[str, tuple[str, str]]:
    lines = [ln[2:] for ln in (RESEARCH / "README.md").read_text(encoding="utf-8").splitlines()
             if ln.startswith("- scripts/research/")]
    out = {}
    for line in lines:
        parts = line.split(" — ")
        assert len(parts) == 3, f"not 'path — what it measures — docs claim': {line}"
        out[parts[0]] = (parts[1], parts[2])
    return out


def test_every_research_script_has_one_line_and_every_line_a_script():
    index = _index()
    scripts = {str(p.relative_to(REPO)) for p in RESEARCH.iterdir() if p.is_file() and p.name != "README.md"}
    assert scripts - index.keys() == set(), "research scripts without a line in scripts/research/README.md"
    assert index.keys() - scripts == set(), "lines in scripts/research/README.md naming no script"


def test_each_line_names_a_docs_page_that_exists_and_points_back_at_the_script():
    for path, (measures, claim) in _index().items():
        assert measures.strip(), path
        pages = re.findall(r"docs/[\w.-]+\.md", claim)
        assert pages, f"{path}: no docs page named in {claim!r}"
        for page in pages:
            assert (REPO / page).is_file(), f"{path}: {page} does not exist"
            assert path in (REPO / page).read_text(encoding="utf-8"), f"{page} does not name {path}"
