"""Call categories by rule on stored calls: the rules in force, saving a version, trying a rule on
past calls, applying rules (back-apply and per call) and the alerts urgent hits raise.

The rules and their evaluation are :mod:`pipeline.analysis.rules` (pure); the SQL is
:mod:`pipeline.warehouse.rules`. Applying is idempotent: a call's hits for a rule version are
replaced, never duplicated, and a call raises at most one alert per rule.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import duckdb

from pipeline.analysis.rules import DEFAULTS, CallFacts, Hit, Rule, RuleError, Segment, check_rule, evaluate, hits
from pipeline.warehouse import rules as store

SHIPPED = "shipped"  # saved_by of the defaults


@dataclass(frozen=True)
class Trial:
    """What a rule would have matched among the last calls."""

    rule: str
    n_calls: int  # calls looked at
    n_matched: int
    examples: tuple[tuple[str, float], ...]  # (call id, moment s), newest first


@dataclass(frozen=True)
class Applied:
    n_calls: int  # calls evaluated by this call of apply_rules
    n_hits: int
    n_new_alerts: int
    n_left: int = 0  # calls left when a time budget ran out (apply again from start + n_calls)


def _from_row(row: dict) -> Rule:
    return Rule(name=row["name"], title=row["title"], condition=json.loads(row["condition"]), urgent=row["urgent"],
                enabled=row["enabled"], version=row["version"], saved_by=row["saved_by"], saved_at=row["saved_at"])


def rules_in_force(con: duckdb.DuckDBPyConnection) -> list[Rule]:
    """The latest stored version of each rule, and the shipped defaults never stored (version 0), by name."""
    stored = {r.name: r for r in (_from_row(row) for row in store.latest_versions(con))}
    for rule in DEFAULTS:
        stored.setdefault(rule.name, rule)
    return sorted(stored.values(), key=lambda r: r.name)


def find_rule(con: duckdb.DuckDBPyConnection, name: str) -> Rule:
    for rule in rules_in_force(con):
        if rule.name == name:
            return rule
    raise RuleError(f"no rule named {name!r}: `hotline rules list` shows them")


def draft_rule(name: str, condition_text: str, *, title: str | None = None, urgent: bool = False) -> Rule:
    """A rule from its JSON condition as typed (not stored); :class:`RuleError` names what is wrong."""
    try:
        condition = json.loads(condition_text)
    except ValueError as exc:
        raise RuleError(f"the condition is not JSON: {exc}") from None
    return check_rule(Rule(name=name, title=title or name, condition=condition, urgent=urgent))


def save_rule(con: duckdb.DuckDBPyConnection, rule: Rule, user: str, *, now: datetime | None = None) -> Rule:
    """Store ``rule`` as its next version, saved by ``user``; returns it with its version."""
    check_rule(rule)
    at = now or datetime.now()
    version = store.insert_version(con, {"name": rule.name, "title": rule.title, "condition": rule.condition_json(),
                                         "urgent": rule.urgent, "enabled": rule.enabled, "saved_by": user,
                                         "saved_at": at})
    return replace(rule, version=version, saved_by=user, saved_at=at)


def store_defaults(con: duckdb.DuckDBPyConnection, *, now: datetime | None = None) -> list[Rule]:
    """Store version 1 of each shipped default not stored yet; returns the rules in force."""
    for rule in rules_in_force(con):
        if rule.version == 0:
            save_rule(con, rule, SHIPPED, now=now)
    return rules_in_force(con)


def _facts(con: duckdb.DuckDBPyConnection, call_ids: Sequence[str]) -> list[CallFacts]:
    rows = store.call_facts(con, call_ids)
    out = []
    for cid in call_ids:
        row = rows.get(cid)
        if row is None:
            continue
        segments = tuple(Segment(float(s), float(e), role or "unknown", text or "", label)
                         for s, e, role, text, label in row["segments"])
        duration = row["duration_s"] or max((s.end_s for s in segments), default=0.0)
        out.append(CallFacts(cid, float(duration), segments, frozenset(row["topics"]), bool(row["urgent"]),
                             dict(row["pii"]), frozenset(row["places"]), dict(row["metrics"]), dict(row["calllog"])))
    return out


def try_rule(con: duckdb.DuckDBPyConnection, rule: Rule, *, last: int = 500, n_examples: int = 5) -> Trial:
    """How many of the ``last`` processed calls ``rule`` would have matched, with examples (nothing stored)."""
    check_rule(rule)
    calls = _facts(con, store.last_done_calls(con, last))
    matched = [(c.call_id, evaluate(rule.condition, c)) for c in calls]
    matched = [(cid, round(m, 2)) for cid, m in matched if m is not None]
    return Trial(rule.name, len(calls), len(matched), tuple(matched[:n_examples]))


def apply_rules(con: duckdb.DuckDBPyConnection, call_ids: Sequence[str] | None = None, *,
                now: datetime | None = None, start: int = 0, budget_s: float | None = None,
                chunk_size: int = 500) -> Applied:
    """Evaluate the rules in force on ``call_ids`` (None: every processed call, newest first), replace their
    hits and store an alert for each new urgent hit. Idempotent.

    ``start`` skips the first calls (a back-apply continued); with ``budget_s`` it stops after the chunk of
    ``chunk_size`` calls that used up the budget (a web request stays short) and says how many are left."""
    at = now or datetime.now()
    clock = time.monotonic()
    rules = [r for r in store_defaults(con, now=at)]
    ids = store.last_done_calls(con, None) if call_ids is None else list(call_ids)
    ids = ids[max(0, start):]
    by_name = {r.name: r for r in rules}
    n_hits = n_alerts = done = 0
    for first in range(0, len(ids), chunk_size):
        if budget_s is not None and first and time.monotonic() - clock >= budget_s:
            break
        chunk = ids[first:first + chunk_size]
        done += len(chunk)
        found: list[tuple[str, Hit]] = [(c.call_id, h) for c in _facts(con, chunk) for h in hits(rules, c)]
        store.replace_hits(con, chunk, [(r.name, r.version) for r in rules],
                           [(cid, h.rule, h.version, h.moment_s) for cid, h in found], at)
        n_hits += len(found)
        n_alerts += store.insert_alerts(con, [_alert_row(con, cid, h, by_name[h.rule], at) for cid, h in found
                                              if h.urgent])
    return Applied(done, n_hits, n_alerts, len(ids) - done)


def _alert_row(con: duckdb.DuckDBPyConnection, call_id: str, hit: Hit, rule: Rule, at: datetime) -> dict:
    topic, ward = store.alert_context(con, call_id)
    return {"alert_id": f"AL-{call_id}-{rule.name}", "call_id": call_id, "rule_name": rule.name,
            "rule_version": hit.version, "reason": rule.title, "moment_s": hit.moment_s, "topic": topic,
            "ward": ward, "created_at": at}
