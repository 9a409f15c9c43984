"""How the reports, exports and pages name topics (durations: :mod:`pipeline.clock`)."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import lru_cache

from pipeline.config import REPO_ROOT
from pipeline.errors import HotlineError
from pipeline.i18n import translator


class UnknownTopic(HotlineError):
    """A topic filter that names no topic of the taxonomy."""

    exit_code = 2


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
    if value is None:
        return ""
    return f"{value:%d/%m/%Y}" if isinstance(value, (date, datetime)) else str(value)


def day_time(value, lang: str = "vi") -> str:
    """A datetime as dd/mm/yyyy hh:mm; "" for None."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%d/%m/%Y %H:%M}"
    return f"{value:%d/%m/%Y}" if isinstance(value, date) else str(value)


def topic_key(text: str, lang: str = "vi") -> str:
    """The taxonomy key a person means by ``text``: a key (``environment``) or a label in either language
    ("Môi trường, vệ sinh"), matched without regard to case or surrounding spaces. Raises
    :class:`UnknownTopic` (exit 2) listing the valid labels and keys otherwise: a filter on
    an unknown topic would silently select nothing (issue 29)."""
    wanted = " ".join(text.split()).casefold()
    for lg in ("vi", "en"):
        for key, label in topic_labels(lg).items():
            if wanted in (key.casefold(), " ".join(label.split()).casefold()):
                return key
    valid = "; ".join(f"{label} ({key})" for key, label in topic_labels(lang).items())
    raise UnknownTopic(translator(lang)("topic_unknown", value=text, valid=valid))
