"""Which agency should handle a call, from its topics, places and words.

The rules are data: ``models/data/routing.csv``, which operators edit. Columns
``topic,condition,agency,agency_vi,priority``:

- ``topic``: a taxonomy key, or ``*`` for every call.
- ``condition``: empty (always); ``keyword:a|b`` (the call text says one of them,
  accent-insensitively, see :meth:`pipeline.analysis.places.Token.says`); ``place:k1|k2`` (a
  place of one of these kinds was extracted); ``place:none`` (no ward, commune or
  town was extracted). Several conditions are joined with `` & ``.
- ``agency`` / ``agency_vi``: English and Vietnamese names; ``{unit}`` stands for
  the first ward, commune or town said ("phường Tân Tiến"), and a row using it is
  skipped when there is none.
- ``priority``: smaller first.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.analysis.places import DATA_DIR, KINDS, KIND_WORDS, Place
from pipeline.errors import HotlineError
from pipeline.records import Route
from pipeline.textnorm import find_phrases, tokenize

ROUTING_CSV = DATA_DIR / "routing.csv"
LOCAL_KINDS = ("ward", "commune", "town")  # units whose People's Committee handles a call


class RoutingTableError(HotlineError):
    """The routing table is unreadable or has a bad row."""

    exit_code = 2


@dataclass(frozen=True)
class Rule:
    topic: str  # taxonomy key or "*"
    keywords: tuple[str, ...]  # any of them must be said; () = no keyword condition
    place_kinds: tuple[str, ...]  # a place of one of these kinds; () = no place condition
    no_place: bool  # no ward/commune/town was extracted
    agency: str
    agency_vi: str
    priority: int
    line: int  # line in the CSV, for error messages and stable order


@dataclass(frozen=True)
class RoutingTable:
    rules: tuple[Rule, ...]


def _parse_condition(cond: str, path: Path, line: int) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    keywords: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    no_place = False
    for part in (p.strip() for p in cond.split("&")):
        if not part:
            continue
        name, _, value = part.partition(":")
        values = tuple(v.strip() for v in value.split("|") if v.strip())
        if name.strip() == "keyword" and values:
            keywords = values
        elif name.strip() == "place" and values == ("none",):
            no_place = True
        elif name.strip() == "place" and values and all(v in KINDS for v in values):
            kinds = values
        else:
            raise RoutingTableError(
                f"{path}:{line}: condition {part!r} is not keyword:a|b, place:KIND|KIND or place:none "
                f"(kinds: {', '.join(KINDS)})"
            )
    return keywords, kinds, no_place


def load_routing_table(path: str | Path = ROUTING_CSV) -> RoutingTable:
    """Read a routing CSV (``#`` lines are comments). Raises :class:`RoutingTableError` naming the line."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            numbered = [(n, line) for n, line in enumerate(f, start=1) if line.strip() and not line.lstrip().startswith("#")]
    except OSError as exc:
        raise RoutingTableError(f"{path}: cannot read ({exc.strerror}); restore it from git or pass another file") from exc
    if not numbered:
        raise RoutingTableError(f"{path}: empty; it needs the header topic,condition,agency,agency_vi,priority")
    reader = csv.DictReader(line for _, line in numbered)
    need = {"topic", "condition", "agency", "agency_vi", "priority"}
    if not need <= set(reader.fieldnames or ()):
        raise RoutingTableError(f"{path}: header must have the columns {', '.join(sorted(need))}")
    rules = []
    for (line, _), row in zip(numbered[1:], reader):
        row = {k: (v or "").strip() for k, v in row.items() if k}
        if not row["topic"] or not row["agency_vi"]:
            raise RoutingTableError(f"{path}:{line}: topic and agency_vi must not be empty")
        try:
            priority = int(row["priority"] or 5)
        except ValueError:
            raise RoutingTableError(f"{path}:{line}: priority {row['priority']!r} is not a whole number") from None
        keywords, kinds, no_place = _parse_condition(row["condition"], path, line)
        rules.append(Rule(row["topic"], keywords, kinds, no_place, row["agency"] or row["agency_vi"], row["agency_vi"], priority, line))
    return RoutingTable(tuple(rules))


@functools.lru_cache(maxsize=1)
def default_routing_table() -> RoutingTable:
    """The table shipped in ``models/data/routing.csv``, loaded once per process."""
    return load_routing_table()


def _kind_and_label(place: Place | Mapping) -> tuple[str, str]:
    if isinstance(place, Place):
        return place.kind, place.label
    kind = place.get("kind", "")
    label = place.get("label") or (f"{KIND_WORDS[kind]} {place.get('name', '')}" if kind in KIND_WORDS else place.get("name", ""))
    return kind, label


def route_call(
    topics: Sequence[str],
    places: Sequence[Place | Mapping],
    table: RoutingTable | None = None,
    *,
    text: str = "",
) -> tuple[Route, ...]:
    """Agencies for a call, most urgent first, each agency once.

    ``topics``: assigned taxonomy keys. ``places``: :class:`~pipeline.analysis.places.Place`
    records or their ``as_row()`` dicts. ``text``: the transcript, for keyword
    conditions (rows with a keyword condition never match without it).
    """
    table = table or default_routing_table()
    kinds_said = {_kind_and_label(p)[0] for p in places}
    local = next((p for p in places if _kind_and_label(p)[0] in LOCAL_KINDS), None)
    unit = _kind_and_label(local)[1] if local is not None else None
    old = (local.resolved_from if isinstance(local, Place) else local.get("resolved_from")) if local is not None else None
    unit_why = f"{unit} (said as {old})" if old else unit
    words = [t for t in tokenize(text) if t.is_word] if text else []
    wanted = [(r.priority, r.line, r) for r in table.rules if r.topic == "*" or r.topic in topics]
    routes: list[tuple[int, int, Route]] = []
    seen: set[str] = set()
    for priority, line, rule in sorted(wanted, key=lambda x: (x[0], x[1])):
        why = [f"topic {rule.topic}" if rule.topic != "*" else "any topic"]
        if rule.keywords:
            hits = find_phrases(words, rule.keywords)
            if not hits:
                continue
            why.append(f"keyword {hits[0][2]}")
        if rule.place_kinds:
            if not kinds_said & set(rule.place_kinds):
                continue
            why.append("place " + (unit_why or next(lbl for k, lbl in map(_kind_and_label, places) if k in rule.place_kinds)))
        if rule.no_place:
            if unit is not None:
                continue
            why.append("no ward or commune said")
        uses_unit = "{unit}" in rule.agency or "{unit}" in rule.agency_vi
        if uses_unit and unit is None:
            continue
        agency_vi = rule.agency_vi.replace("{unit}", unit or "")
        if agency_vi in seen:
            continue
        seen.add(agency_vi)
        routes.append((priority, line, Route(rule.agency.replace("{unit}", unit or ""), agency_vi, "; ".join(why))))
    return tuple(r for _, _, r in routes)
