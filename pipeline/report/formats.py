"""How the reports, exports and pages write numbers and names: durations, topic labels."""

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


def m_ss(seconds: float | None) -> str:
    """187.4 → "3:07" (rounded to the second); hours as "1:02:03"; None → ""."""
    if seconds is None:
        return ""
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"
