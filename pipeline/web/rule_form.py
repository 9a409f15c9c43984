"""The rule editor's form (issue 30 #1): rows of conditions picked without code, to and from a rule's JSON.

A form is a list of rows joined by AND (``all``) or OR (``any``); a row is one condition of
:mod:`pipeline.analysis.rules` (its ``kind``), optionally negated (NOT). The fields a row uses
depend on its kind:

========== ==========================================================================
kind       fields
========== ==========================================================================
said       by, words (phrases, one per line or comma), window first/last + seconds, meant
pii        by, choice (kinds of number)
silence    number (s)
sentiment  choice (labels), seconds (last N s, default 60)
topic      choice (topic keys)
place      words (place names)
urgent     (none)
overlap    by, number (min s of talking together, default 1)
metric     by, field (metric name), compare (over/under), number
calllog    field (extension/direction/line), words (values)
========== ==========================================================================

Pure: no request, no database. :func:`condition_of` raises :class:`FormError` naming the row
(1-based) that is not complete, as a message key of :mod:`pipeline.i18n`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from pipeline.analysis.pii import TAGS
from pipeline.analysis.rules import PARTIES, RuleError, validate
from pipeline.analysis.sentiment import CITIZEN_LABELS
from pipeline.textnorm import fold_accents

# form kind -> condition key
KIND_KEYS = {"said": "said", "pii": "pii", "silence": "silence_over_s", "sentiment": "sentiment_end",
             "topic": "topic", "place": "place", "urgent": "urgent", "overlap": "overlap", "metric": "metric",
             "calllog": "calllog"}
FORM_KINDS = tuple(KIND_KEYS)
PII_KINDS = tuple(k for k in TAGS if k != "person_name")
SENTIMENTS = CITIZEN_LABELS
MAX_ROWS = 12


class FormError(RuleError):
    """A row of the form is not complete: ``key`` and ``values`` are the message (pipeline.i18n)."""

    def __init__(self, key: str, **values):
        super().__init__(f"{key} {values}")
        self.key, self.values = key, values


@dataclass
class Row:
    kind: str = ""  # one of FORM_KINDS, "" for an unused row
    negate: bool = False
    by: str = "anyone"
    words: str = ""  # phrases / place names / values, one per line or comma-separated
    window: str = ""  # "" | first | last
    seconds: str = ""  # the window's N s (said), or last N s (sentiment)
    number: str = ""  # silence s, overlap min s, metric threshold
    field: str = ""  # metric name or call-log field
    compare: str = "over"  # over | under (metric)
    meant: bool = False  # said: only mentions meant (the urgency detector's negation handling)
    choice: list[str] = dc_field(default_factory=list)  # pii kinds, sentiment labels, topic keys


@dataclass
class RuleForm:
    name: str = ""
    title: str = ""
    urgent: bool = False
    enabled: bool = True
    join: str = "all"  # all (AND) | any (OR)
    rows: list[Row] = dc_field(default_factory=list)
    complex_json: str | None = None  # a stored condition the rows cannot show (written by `hotline rules save`)


def slug(title: str) -> str:
    """An ascii rule name from a Vietnamese title: "Khói rác" -> "khoi-rac"."""
    text = fold_accents(title.casefold()).replace("đ", "d")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:63]


def _split(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[\n,;]+", text or "") if p.strip()]


def _num(text: str, where: int, *, positive: bool = True) -> float:
    try:
        value = float((text or "").strip().replace(",", "."))
    except ValueError:
        raise FormError("rf_err_number", row=where) from None
    if value != value or value in (float("inf"), float("-inf")) or value < 0 or (positive and value == 0):
        raise FormError("rf_err_number", row=where)
    return int(value) if value.is_integer() else value


def _leaf(row: Row, where: int) -> dict:
    kind = row.kind
    by = row.by if row.by in PARTIES else "anyone"
    if kind == "said":
        arg: dict[str, Any] = {"by": by, "phrases": _split(row.words)}
        if row.window in ("first", "last"):
            arg[f"{row.window}_s"] = _num(row.seconds, where)
        if row.meant:
            arg["meant"] = True
        return {"said": arg}
    if kind == "pii":
        return {"pii": {"by": by, "kinds": [k for k in row.choice if k in PII_KINDS] or list(PII_KINDS[:2])}}
    if kind == "silence":
        return {"silence_over_s": _num(row.number, where)}
    if kind == "sentiment":
        arg = {"labels": [k for k in row.choice if k in SENTIMENTS] or ["angry"]}
        arg["last_s"] = _num(row.seconds, where) if (row.seconds or "").strip() else 60
        return {"sentiment_end": arg}
    if kind == "topic":
        return {"topic": [k for k in row.choice if k not in PII_KINDS and k not in SENTIMENTS]}
    if kind == "place":
        return {"place": _split(row.words)}
    if kind == "urgent":
        return {"urgent": True}
    if kind == "overlap":
        return {"overlap": {"by": by, "min_s": _num(row.number, where, positive=False) if row.number.strip() else 1}}
    if kind == "metric":
        return {"metric": {"name": row.field, "by": by,
                           ("under" if row.compare == "under" else "over"): _num(row.number, where, positive=False)}}
    if kind == "calllog":
        return {"calllog": {"field": row.field, "values": _split(row.words)}}
    raise FormError("rf_err_row", row=where, detail=kind)


def condition_of(form: RuleForm) -> dict:
    """The rule condition the form's rows say; :class:`FormError` names the row that is not complete."""
    parts = []
    for i, row in enumerate(form.rows, 1):
        if not row.kind:
            continue
        leaf = _leaf(row, i)
        try:
            validate(leaf)
        except RuleError as exc:
            raise FormError("rf_err_row", row=i, detail=str(exc)) from None
        parts.append({"not": leaf} if row.negate else leaf)
    if not parts:
        raise FormError("rf_err_empty")
    if len(parts) == 1:
        return parts[0]
    return {"any" if form.join == "any" else "all": parts}


def _row_of(leaf: Mapping[str, Any]) -> Row | None:
    """The row showing one condition (NOT included), None when it is not one a row can show."""
    negate = False
    if "not" in leaf:
        negate, leaf = True, leaf["not"]
    (key, arg), = leaf.items()
    kinds = {v: k for k, v in KIND_KEYS.items()}
    if key not in kinds:
        return None
    row = Row(kind=kinds[key], negate=negate)
    if isinstance(arg, Mapping):
        row.by = arg.get("by", "anyone")
    if key == "said":
        row.words = "\n".join(arg["phrases"])
        for w in ("first", "last"):
            if f"{w}_s" in arg:
                row.window, row.seconds = w, _fmt(arg[f"{w}_s"])
        row.meant = bool(arg.get("meant"))
    elif key == "pii":
        row.choice = list(arg["kinds"])
    elif key == "silence_over_s":
        row.number = _fmt(arg)
    elif key == "sentiment_end":
        row.choice, row.seconds = list(arg["labels"]), _fmt(arg.get("last_s", 60))
    elif key == "topic":
        row.choice = list(arg)
    elif key == "place":
        row.words = "\n".join(arg)
    elif key == "urgent":
        if arg is False:
            row.negate = not row.negate
    elif key == "overlap":
        row.number = _fmt(arg.get("min_s", 1))
    elif key == "metric":
        row.field = arg["name"]
        row.compare = "under" if "under" in arg else "over"
        row.number = _fmt(arg[row.compare])
    elif key == "calllog":
        row.field, row.words = arg["field"], "\n".join(arg["values"])
    return row


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def form_of(rule) -> RuleForm:
    """The editor's form for a stored rule; a condition deeper than one AND/OR of (NOT) conditions
    keeps its JSON in ``complex_json`` and gets no rows."""
    form = RuleForm(name=rule.name, title=rule.title, urgent=rule.urgent, enabled=rule.enabled)
    cond = rule.condition
    join, parts = "all", [cond]
    if set(cond) <= {"all", "any"}:
        (join, parts), = cond.items()
    rows = [_row_of(p) for p in parts]
    if any(r is None for r in rows):
        form.complex_json = json.dumps(cond, ensure_ascii=False)
        return form
    form.join, form.rows = join, rows
    return form


def form_from_fields(fields: Mapping[str, Any], getlist) -> RuleForm:
    """A :class:`RuleForm` from posted fields (``fields.get``; ``getlist(name)`` for multi-selects).
    Row ``i`` is posted as ``kind_i``, ``by_i``, ``words_i`` … (0-based, at most :data:`MAX_ROWS`)."""
    def text(key: str, limit: int = 2000) -> str:
        return str(fields.get(key) or "")[:limit]

    form = RuleForm(name=text("name", 63).strip(), title=text("title", 200).strip(),
                    urgent=bool(fields.get("urgent")), enabled=bool(fields.get("enabled")),
                    join="any" if fields.get("join") == "any" else "all")
    n = 0
    while n < MAX_ROWS and f"kind_{n}" in fields:
        n += 1
    for i in range(n):
        kind = text(f"kind_{i}", 20)
        form.rows.append(Row(
            kind=kind if kind in FORM_KINDS else "", negate=bool(fields.get(f"negate_{i}")),
            by=text(f"by_{i}", 20), words=text(f"words_{i}"), window=text(f"window_{i}", 10),
            seconds=text(f"seconds_{i}", 20), number=text(f"number_{i}", 20), field=text(f"field_{i}", 40),
            compare=text(f"compare_{i}", 10) or "over", meant=bool(fields.get(f"meant_{i}")),
            choice=[str(v)[:40] for v in getlist(f"choice_{i}")][:50]))
    return form


def blank_form() -> RuleForm:
    """A new rule: one phrase row said by the citizen, and one unused row."""
    return RuleForm(rows=[Row(kind="said", by="citizen"), Row()])



def describe(condition: Mapping[str, Any], t, topics: Mapping[str, str] | None = None,
             depth: int = 0) -> list[tuple[int, str]]:
    """A condition the rows cannot show, as readable lines: (depth, text), AND/OR/NOT heading their parts.

    ``t`` is a :func:`pipeline.i18n.translator`; ``topics`` maps topic keys to labels. Pure."""
    (key, arg), = condition.items()
    if key in ("all", "any"):
        return [(depth, t(f"rf_desc_{key}"))] + [line for part in arg for line in describe(part, t, topics, depth + 1)]
    if key == "not":
        return [(depth, t("rf_desc_not"))] + describe(arg, t, topics, depth + 1)
    return [(depth, _leaf_text(key, arg, t, topics or {}))]


def _leaf_text(key: str, arg: Any, t, topics: Mapping[str, str]) -> str:
    def quoted(items) -> str:
        return ", ".join(f"«{x}»" for x in items)

    by = t(f"rf_by_{arg.get('by', 'anyone')}") if isinstance(arg, Mapping) else ""
    if key == "said":
        where = next((" " + t(f"rf_desc_{w}", n=_fmt(arg[f"{w}_s"])) for w in ("first", "last") if f"{w}_s" in arg), "")
        meant = " " + t("rf_desc_meant") if arg.get("meant") else ""
        return t("rf_desc_said", by=by, words=quoted(arg["phrases"]), where=where, meant=meant)
    if key == "pii":
        return t("rf_desc_pii", by=by, kinds=", ".join(t(f"rf_pii_{k}", default=k) for k in arg["kinds"]))
    if key == "silence_over_s":
        return t("rf_desc_silence", n=_fmt(arg))
    if key == "sentiment_end":
        return t("rf_desc_sentiment", labels=", ".join(t(f"mood_{x}", default=x) for x in arg["labels"]),
                 n=_fmt(arg.get("last_s", 60)))
    if key == "topic":
        return f"{t('rf_kind_topic')}: " + ", ".join(topics.get(k, k) for k in arg)
    if key == "place":
        return f"{t('rf_kind_place')}: " + quoted(arg)
    if key == "urgent":
        return t("rf_desc_urgent" if arg else "rf_desc_not_urgent")
    if key == "overlap":
        return t("rf_desc_overlap", by=by, n=_fmt(arg.get("min_s", 1)))
    if key == "metric":
        compare = "under" if "under" in arg else "over"
        return t("rf_desc_metric", metric=t(f"rf_metric_{arg['name']}"), by=by, compare=t(f"rf_{compare}"),
                 n=_fmt(arg[compare]))
    if key == "calllog":
        return f"{t('rf_field_' + arg['field'])}: " + quoted(arg["values"])
    return json.dumps({key: arg}, ensure_ascii=False)
