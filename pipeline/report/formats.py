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


def decimal(value: float | None, digits: int = 1, lang: str = "vi") -> str:
    """A figure as a person reads it: "0,52" in Vietnamese (decimal comma, "." between thousands),
    "0.52" in English; "—" for None."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".") if lang == "vi" else text


def percent(value: float | None, digits: int = 0, lang: str = "vi") -> str:
    """A share (0..1) as "42%" (no space, as the pages write it; "—" for None); ``digits`` after the comma."""
    if value is None:
        return "—"
    return decimal(100 * value, digits, lang) + "%"


def day(value, lang: str = "vi") -> str:
    """A date (or datetime's date) as dd/mm/yyyy, the one form pages, exports and reports use; "" for None."""
    return "" if value is None else f"{value:%d/%m/%Y}"


def day_time(value, lang: str = "vi") -> str:
    """A datetime as dd/mm/yyyy hh:mm; "" for None."""
    return "" if value is None else f"{value:%d/%m/%Y %H:%M}"
