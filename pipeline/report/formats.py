"""How the reports, exports and pages name topics (durations: :mod:`pipeline.clock`)."""

from __future__ import annotations

import json
from functools import lru_cache

from pipeline.config import REPO_ROOT


@lru_cache(maxsize=1)
def _taxonomy() -> tuple[dict, ...]:
    return tuple(json.loads((REPO_ROOT / "models" / "taxonomy.json").read_text(encoding="utf-8"))["topics"])


def topic_labels(lang: str = "vi") -> dict[str, str]:
    """Taxonomy key → label in ``lang`` (vi | en), from models/taxonomy.json, in taxonomy order."""
    return {t["key"]: t.get(lang) or t["key"] for t in _taxonomy()}
