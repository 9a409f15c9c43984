"""Format of tests/data/topics_independent2.tsv, the second topic test file written from
docs/topics-guideline.md alone (issue 31). Checks only the file's shape and labels against
the guideline's own rules; it never loads a model."""
import csv
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "topics_independent2.tsv"
GUIDELINE = ROOT / "docs" / "topics-guideline.md"
README = ROOT / "tests" / "data" / "README.md"


def _keys():
    # the guideline's topic headings: "### environment — Môi trường, vệ sinh"
    text = GUIDELINE.read_text(encoding="utf-8")
    keys = re.findall(r"^### ([a-z_]+) — ", text, flags=re.M)
    assert len(keys) == 10, keys
    return set(keys)


def _rows():
    lines = DATA.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "text\tlabels"
    rows = []
    for n, line in enumerate(lines[1:], start=2):
        parts = line.split("\t")
        assert len(parts) == 2, f"line {n}: {len(parts)} fields"
        text, labels = parts
        assert text.strip() == text and text, f"line {n}: empty or padded text"
        rows.append((text, labels.split(", ")))
    return rows


def test_labels_are_guideline_keys_and_follow_its_rules():
    keys = _keys()
    rows = _rows()
    assert len({t for t, _ in rows}) == len(rows), "duplicate text"
    for text, labels in rows:
        assert set(labels) <= keys, (text, labels)
        assert len(labels) == len(set(labels)) and 1 <= len(labels) <= 3, (text, labels)
        assert "other" not in labels or labels == ["other"], (text, labels)


def test_coverage_meets_section_5():
    rows = _rows()
    single = Counter(ls[0] for _, ls in rows if len(ls) == 1)
    every = Counter(k for _, ls in rows for k in ls)
    for key in _keys():
        assert single[key] >= 8, (key, single[key])
        assert every[key] >= 12, (key, every[key])
    assert sum(len(ls) >= 2 for _, ls in rows) >= 30


def test_readme_counts_match_the_file():
    rows = _rows()
    text = README.read_text(encoding="utf-8")
    m = re.search(r"`topics_independent2\.tsv` \((\d+) rows, (\d+) with two labels", text)
    assert m, "tests/data/README.md does not describe topics_independent2.tsv"
    assert int(m.group(1)) == len(rows)
    assert int(m.group(2)) == sum(len(ls) == 2 for _, ls in rows)
    every = Counter(k for _, ls in rows for k in ls)
    for key, n in every.items():
        assert f"{key} {n}" in text, (key, n)
