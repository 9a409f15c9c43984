"""Paths the tests share (importable as ``tests.helpers``)."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
SAMPLES = REPO / "samples"
