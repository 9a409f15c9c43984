"""The early urgent pass's alerts: urgent rules checked on the first seconds of a call, before it is stored.

The watcher hears the beginning of each new recording first (:mod:`pipeline.stages.early`,
:mod:`pipeline.runs.early`); what it heard becomes :class:`~pipeline.analysis.rules.CallFacts`
for the urgent rules that the beginning of a call can decide
(:func:`pipeline.analysis.rules.early_checkable`). A hit is stored as the same alert the full pass
would store for that call and rule (``AL-<call id>-<rule>``, kind ``urgent``), with a trigger
saying it came from the early pass and how many seconds had been heard. So the full pass, when it
tags the call, finds the alert already stored and adds none (``ON CONFLICT DO NOTHING``), and the
dispatch, which e-mails only alerts not sent yet (and records each subscriber's delivery), never
sends it twice: one call, one reason, one alert, one e-mail.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from pipeline.analysis.places import extract_places
from pipeline.analysis.rules import CallFacts, Hit, Rule, Segment, early_checkable, early_hits
from pipeline.analysis.urgency import detect_urgency
from pipeline.casework.categories import store_defaults
from pipeline.warehouse import alerts as alert_store
from pipeline.warehouse import rules as store

EARLY = "early"  # the trigger's "pass" of an alert the early pass raised


@dataclass(frozen=True)
class EarlyRules:
    """What the early pass needs from the warehouse for one recording, read in one short open."""

    rules: tuple[Rule, ...]  # urgent, enabled, early-checkable rules in force
    settled: bool  # the call is already stored (or quarantined): nothing to do early
    alerted: frozenset[str]  # rule names that already raised an alert for this call


def alert_id(call_id: str, rule_name: str) -> str:
    """The one id of a call's alert for a rule, shared by the early and the full pass (their dedupe)."""
    return f"AL-{call_id}-{rule_name}"


def rules_for_early(con: duckdb.DuckDBPyConnection, call_id: str) -> EarlyRules:
    """The urgent rules the early pass checks on ``call_id``, and whether there is anything left to do.
    The shipped defaults are stored as version 1 first, as the full pass does, so both name one version."""
    rules = tuple(r for r in store_defaults(con) if r.enabled and r.urgent and early_checkable(r.condition))
    done = store.alert_ids_of_call(con, call_id)
    alerted = frozenset(r.name for r in rules if alert_id(call_id, r.name) in done)
    return EarlyRules(rules, store.call_settled(con, call_id), alerted)


def early_facts(call_id: str, heard_s: float, turns: Sequence[tuple[float, float, str, str]]) -> CallFacts:
    """The facts of a call's beginning: its turns (start, end, role, text), the urgency detector on the
    citizen's words; the call's length is what was heard. Pure."""
    segments = tuple(Segment(float(a), float(b), role, text) for a, b, role, text in turns)
    said = " ".join(s.text for s in segments if s.role == "citizen")
    return CallFacts(call_id, float(heard_s), segments, urgent=detect_urgency(said).urgent)


def check_early(rules: Sequence[Rule], facts: CallFacts, already: frozenset[str] = frozenset()) -> list[Hit]:
    """The urgent hits on the beginning ``facts`` holds, less the rules that already alerted. Pure."""
    return [h for h in early_hits(rules, facts) if h.rule not in already]


def ward_said(facts: CallFacts) -> str | None:
    """The first ward or commune the citizen named in what was heard (for the e-mail), or None."""
    said = " ".join(s.text for s in facts.segments if s.role == "citizen")
    return next((p.name for p in extract_places(said) if p.kind in ("ward", "commune", "town") and p.name), None)


def raise_early(con: duckdb.DuckDBPyConnection, facts: CallFacts, hits: Sequence[Hit], rules: Sequence[Rule], *,
                now: datetime | None = None) -> int:
    """Store one urgent alert per hit, under the id the full pass would use; returns how many are new (an alert
    already stored for the call and rule is kept as it was). The trigger records the early pass, the rule
    version, the moment and the seconds heard; no text."""
    at = now or datetime.now()
    by_name = {r.name: r for r in rules}
    ward = ward_said(facts) if hits else None
    rows = []
    for h in hits:
        trigger = {"rule": h.rule, "version": h.version, "moment_s": h.moment_s, "pass": EARLY,
                   "heard_s": round(facts.duration_s, 1)}
        rows.append({"alert_id": alert_id(facts.call_id, h.rule), "kind": "urgent", "call_id": facts.call_id,
                     "rule_name": h.rule, "rule_version": h.version, "reason": by_name[h.rule].title,
                     "moment_s": h.moment_s, "topic": None, "ward": ward, "trigger": json.dumps(trigger),
                     "created_at": at})
    return alert_store.insert_alerts(con, rows)
