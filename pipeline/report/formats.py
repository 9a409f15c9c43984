"""How the reports, exports and pages name topics (durations: :mod:`pipeline.clock`)."""

from __future__ import annotations

import json
import re
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


# --- program text stored in the warehouse, as a person reads it (issue 29 item 4) ---------------------
# Routing reasons (pipeline/analysis/routing.py) and case history notes (pipeline/casework/cases.py) are
# stored as the program writes them ("topic utilities; keyword điện", "call 5acc…", "None → Tân Tiến").
# Pages, exports and documents show them through these: known parts are put into words, topic keys become
# labels, anything else (what a person typed) stays as it is.

_SYSTEM_USERS = {"pipeline": "actor_pipeline", "cli": "actor_cli"}


def _topics_text(keys: str, labels: dict[str, str]) -> str:
    keys = keys.strip()
    if keys in ("", "—", "None"):
        return "—"
    # each label in «»: labels hold commas ("Điện, nước, chiếu sáng công cộng"), so a bare list would not say
    # where one topic ends
    return ", ".join(f"«{labels.get(k.strip(), k.strip())}»" for k in keys.split(",") if k.strip())


def _none(value: str, t) -> str:
    value = value.strip()
    return t("note_none") if value in ("None", "", "—") else value


def route_reason(reason: str | None, lang: str = "vi") -> str:
    """"topic utilities; keyword điện" → "chủ đề Điện, nước, chiếu sáng công cộng; từ khóa «điện»"."""
    if not reason:
        return ""
    t, labels = translator(lang), topic_labels(lang)
    out = []
    for part in (p.strip() for p in reason.split(";")):
        if part == "any topic":
            out.append(t("why_any_topic"))
        elif part.startswith("topic "):
            out.append(t("why_topic", topic=_topics_text(part[6:], labels)))
        elif part.startswith("keyword "):
            out.append(t("why_keyword", word=part[8:]))
        elif part.startswith("place "):
            m = re.fullmatch(r"place (.+) \(said as (.+)\)", part)
            out.append(t("why_place_old", place=m[1], old=m[2]) if m else t("why_place", place=part[6:]))
        elif part == "no ward or commune said":
            out.append(t("why_no_place"))
        elif part in labels:
            out.append(labels[part])
        elif part:
            out.append(part)
    return "; ".join(out)


_NOTE_PATTERNS = (  # (regex on one "; "-part of a note, message key, how the groups are named)
    (r"call ([0-9a-f]{6,})", "note_call", ("call",)),
    (r"question answered on the line", "note_answered", ()),
    (r"result: (.*)", "note_result", ("text",)),
    (r"topics (.*) → (.*)", "note_topics", ("old", "new")),
    (r"unit (.*) → (.*?)( \(forward again\))?", "note_unit", ("old", "new", "again")),
    (r"QA topic correction on call ([0-9a-f]{6,})", "note_qa_topic", ("call",)),
    (r"call reloaded", "note_reloaded", ()),
    (r"place corrected", "note_place_corrected", ()),
    (r"not the incident of (\S+)", "note_not_incident", ("case",)),
    (r"into (\S+)", "note_into", ("case",)),
    (r"calls of (\S+) joined", "note_joined", ("case",)),
    (r"split from (\S+)", "note_split_from", ("case",)),
    (r"call ([0-9a-f]{6,}) → (\S+)", "note_call_split", ("call", "case")),
    (r"(same_caller|same_place_topic): may be the incident of (\S+)", "note_proposal", ("why", "case")),
)


def case_note(note: str | None, lang: str = "vi") -> str:
    """A case history note in words: "call 5acc1234…" → "từ cuộc gọi 5acc1234", "result: …" → "kết quả: …",
    "None → Tân Tiến" → "(chưa có) → Tân Tiến", topic keys → labels; a person's own words stay."""
    if not note:
        return ""
    t, labels = translator(lang), topic_labels(lang)
    out = []
    for part in (p.strip() for p in note.split("; ")):
        for pattern, key, names in _NOTE_PATTERNS:
            m = re.fullmatch(pattern, part, re.S)
            if m:
                values = dict(zip(names, m.groups()))
                if "call" in values:
                    values["call"] = values["call"][:8]
                if key == "note_topics":
                    values = {"old": _topics_text(values["old"], labels), "new": _topics_text(values["new"], labels)}
                if key == "note_unit":
                    values = {"old": _none(values["old"], t), "new": _none(values["new"], t),
                              "again": t("note_forward_again") if values["again"] else ""}
                if key == "note_proposal":
                    values["why"] = t(f"case_reason_{values['why']}")
                out.append(t(key, **values))
                break
        else:
            m = re.fullmatch(r"(None|.*?) → (.*)", part, re.S)
            out.append(f"{_none(m[1], t)} → {_none(m[2], t)}" if m else part)
    return "; ".join(out)


def operator(ext: str | None, lang: str = "vi") -> str:
    """The operator's extension, or in words when the call log did not say (stored NULL; the views write "?"):
    "chưa rõ (không có nhật ký cuộc gọi)" rather than "Tổng đài viên ?" (issue 29)."""
    ext = (ext or "").strip()
    return translator(lang)("operator_unknown") if ext in ("", "?") else ext


def actor(user: str | None, lang: str = "vi") -> str:
    """Who did it: an account's name, or the program in words ("pipeline" → "Hệ thống")."""
    if user in _SYSTEM_USERS:
        return translator(lang)(_SYSTEM_USERS[user])
    return user or ""
