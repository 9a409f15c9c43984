"""Handling units (issue 29): the names routing can give, checking a unit typed by a person against them,
and an admin renaming or merging a unit.

A unit's name is what routing gives (``agency_vi`` of ``models/data/routing.csv``; a ``{unit}`` row stands
for each ward, commune and town of the gazetteer in force today), followed through the renames an admin
made (``unit_renames``, migration 018), or a unit cases are already routed to. A unit account tied to a misspelt name would see "Không có phiếu
nào" forever, so :func:`check_unit` refuses any other name and lists the valid ones.
"""

from __future__ import annotations

import difflib
from datetime import date, datetime

import duckdb

from pipeline.analysis.places import default_gazetteer
from pipeline.analysis.routing import LOCAL_KINDS, RoutingTable, default_routing_table
from pipeline.errors import HotlineError
from pipeline.textnorm import nfc
from pipeline.warehouse import cases as case_rows
from pipeline.warehouse import users as rows
from pipeline.warehouse.db import transaction


class UnknownUnit(HotlineError):
    """A unit name routing never gives (nor an admin's rename); the message lists valid ones."""

    exit_code = 2

    def __init__(self, message: str, *, name: str = "", suggestions: tuple[str, ...] = (), n_valid: int = 0):
        super().__init__(message)
        self.name, self.suggestions, self.n_valid = name, suggestions, n_valid


def routing_units(table: RoutingTable | None = None, today: date | None = None) -> set[str]:
    """Every unit name the routing table can give, ``{unit}`` rows expanded over today's local units."""
    table = table or default_routing_table()
    today = today or date.today()
    locals_ = [u.label for u in default_gazetteer().units if u.kind in LOCAL_KINDS and u.valid_on(today)]
    out: set[str] = set()
    for rule in table.rules:
        if "{unit}" in rule.agency_vi:
            out.update(rule.agency_vi.replace("{unit}", label) for label in locals_)
        else:
            out.add(rule.agency_vi)
    return out


def renamed(renames: dict[str, str], unit: str | None) -> str | None:
    """The name in use for ``unit`` after the renames (``old → new``)."""
    return renames.get(unit, unit) if unit else unit


def known_units(con: duckdb.DuckDBPyConnection, table: RoutingTable | None = None) -> list[str]:
    """The valid unit names now: routing's, followed through renames, the renames' new names, and the units
    cases are routed to (an older routing table's, or one a person chose); sorted. A unit account's own
    unit does not count: a misspelt one must not vouch for itself."""
    renames = rows.unit_renames(con)
    return sorted({renamed(renames, u) for u in routing_units(table)} | set(renames.values())
                  | rows.case_unit_names(con))


def _key(name: str) -> str:
    return " ".join(nfc(name).split()).casefold()


def check_unit(con: duckdb.DuckDBPyConnection, name: str, table: RoutingTable | None = None) -> str:
    """``name`` as the valid unit it spells (spacing and case aside, an old name followed to the new one), or
    :class:`UnknownUnit` naming the closest valid units."""
    valid = known_units(con, table)
    by_key = {_key(u): u for u in valid}
    renames = {_key(o): n for o, n in rows.unit_renames(con).items()}
    key = _key(name or "")
    if key in by_key:
        return by_key[key]
    if key in renames:
        return renames[key]
    close = difflib.get_close_matches(key, list(by_key), n=8, cutoff=0.5)
    shown = [by_key[k] for k in close] or valid[:12]
    raise UnknownUnit(f"unknown unit {name!r}: not a unit the routing table (models/data/routing.csv) gives. "
                      f"{'Closest' if close else 'Some'} valid units: {'; '.join(shown)} "
                      f"({len(valid)} in all: `hotline users units`)",
                      name=name or "", suggestions=tuple(shown), n_valid=len(valid))


def rename_unit(con: duckdb.DuckDBPyConnection, old: str, new: str, actor: str,
                now: datetime | None = None) -> list[str]:
    """Rename ``old`` to ``new``, or merge it into ``new`` when that is a unit already: open and closed cases and
    unit accounts move, each moved case gets a ``unit`` event, later routing to ``old`` gives ``new``.
    Returns the moved case ids. ``old`` must be a unit in use or a valid one; ``new`` must not be empty."""
    old, new = " ".join(nfc(old).split()), " ".join(nfc(new).split())
    if not new:
        raise UnknownUnit("the new unit name is empty")
    in_use = {_key(u): u for u in rows.unit_names_in_use(con)}
    old = in_use.get(_key(old)) or check_unit(con, old)
    if _key(old) == _key(new):
        raise UnknownUnit(f"{old!r} is already called so")
    now = now or datetime.now()
    with transaction(con):
        moved = rows.rename_unit_rows(con, old, new, actor, now)
        for case_id in moved:
            case_rows.insert_event(con, case_id, now, actor, "unit", note=f"{old} → {new} (đổi tên/gộp đơn vị)")
    return moved
