"""SQL of call categories and alerts (migration 016): rule versions, hits, alerts, and the facts of a call a rule reads.

The logic lives in :mod:`pipeline.casework.categories` and :mod:`pipeline.casework.alerts`;
these functions are its SQL, with bind parameters only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb

from pipeline.warehouse.db import transaction


def _dicts(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    keys = [d[0] for d in cur.description]
    return [dict(zip(keys, r)) for r in cur.fetchall()]


# ---- rules ------------------------------------------------------------------------------------

def latest_versions(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The latest stored version of every rule, by name."""
    return _dicts(con.execute(
        "SELECT name, version, title, condition, urgent, enabled, saved_by, saved_at FROM rule_versions "
        "QUALIFY row_number() OVER (PARTITION BY name ORDER BY version DESC) = 1 ORDER BY name"))


def rule_history(con: duckdb.DuckDBPyConnection, name: str) -> list[dict]:
    """Every stored version of one rule, oldest first."""
    return _dicts(con.execute(
        "SELECT name, version, title, condition, urgent, enabled, saved_by, saved_at FROM rule_versions "
        "WHERE name = ? ORDER BY version", [name]))


def insert_version(con: duckdb.DuckDBPyConnection, row: dict) -> int:
    """Store ``row`` as the next version of its rule; returns the version number."""
    with transaction(con):
        version = con.execute("SELECT coalesce(max(version), 0) + 1 FROM rule_versions WHERE name = ?",
                              [row["name"]]).fetchone()[0]
        con.execute("INSERT INTO rule_versions (name, version, title, condition, urgent, enabled, saved_by, saved_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [row["name"], version, row["title"], row["condition"], row["urgent"], row["enabled"],
                     row["saved_by"], row["saved_at"]])
    return version


# ---- the calls a rule reads -----------------------------------------------------------------------

def last_done_calls(con: duckdb.DuckDBPyConnection, n: int | None) -> list[str]:
    """Ids of the ``n`` most recent processed calls (None: all), newest first."""
    return [r[0] for r in con.execute(
        "SELECT call_id FROM calls WHERE status = 'done' ORDER BY started_at DESC NULLS LAST, call_id DESC LIMIT ?",
        [n if n is not None else 2 ** 62]).fetchall()]


def call_facts(con: duckdb.DuckDBPyConnection, call_ids: Sequence[str]) -> dict[str, dict]:
    """For each call: duration, urgency, segments (redacted text, role, the turn's sentiment label),
    assigned topics, PII counts, the places named (canonical names), talk metrics ((scope, name) -> value)
    and the call-log fields (extension, direction)."""
    ids = list(call_ids)
    if not ids:
        return {}
    out: dict[str, dict] = {}
    for cid, duration, urgent, ext, direction in con.execute(
            "SELECT call_id, duration_s, coalesce(urgent, FALSE), operator_ext, direction FROM calls "
            "WHERE call_id IN (SELECT unnest(?))", [ids]).fetchall():
        out[cid] = {"duration_s": duration, "urgent": urgent, "segments": [], "topics": set(), "pii": {},
                    "places": set(), "metrics": {},
                    "calllog": {k: v for k, v in (("extension", ext), ("direction", direction)) if v}}
    for cid, start, end, role, text, label in con.execute(
            "SELECT s.call_id, s.start_s, s.end_s, s.role, s.text, t.label FROM segments s "
            "LEFT JOIN turn_sentiment t USING (call_id, seq) WHERE s.call_id IN (SELECT unnest(?)) "
            "ORDER BY s.call_id, s.start_s, s.seq", [ids]).fetchall():
        if cid in out:
            out[cid]["segments"].append((start, end, role, text, label))
    for cid, topic in con.execute(
            "SELECT call_id, topic FROM call_topics WHERE assigned AND call_id IN (SELECT unnest(?))", [ids]).fetchall():
        if cid in out:
            out[cid]["topics"].add(topic)
    for cid, kind, n in con.execute(
            "SELECT call_id, kind, n FROM pii_counts WHERE call_id IN (SELECT unnest(?))", [ids]).fetchall():
        if cid in out:
            out[cid]["pii"][kind] = n
    for cid, name in con.execute(
            "SELECT call_id, name FROM call_places WHERE name IS NOT NULL AND call_id IN (SELECT unnest(?))",
            [ids]).fetchall():
        if cid in out:
            out[cid]["places"].add(name)
    for cid, scope, name, value in con.execute(
            "SELECT call_id, scope, name, value FROM call_metrics WHERE value IS NOT NULL "
            "AND call_id IN (SELECT unnest(?))", [ids]).fetchall():
        if cid in out:
            out[cid]["metrics"][scope, name] = value
    return out


# ---- hits -----------------------------------------------------------------------------------------

def replace_hits(con: duckdb.DuckDBPyConnection, call_ids: Sequence[str], versions: Sequence[tuple[str, int]],
                 rows: Sequence[tuple[str, str, int, float]], now: datetime) -> None:
    """Replace the hits of ``call_ids`` for the rule ``versions`` with ``rows`` (call, rule, version, moment)."""
    with transaction(con):
        for name, version in versions:
            con.execute("DELETE FROM rule_hits WHERE rule_name = ? AND rule_version = ? "
                        "AND call_id IN (SELECT unnest(?))", [name, version, list(call_ids)])
        if rows:
            con.executemany("INSERT INTO rule_hits (call_id, rule_name, rule_version, moment_s, found_at) "
                            "VALUES (?, ?, ?, ?, ?)", [(*r, now) for r in rows])


def hits_of_call(con: duckdb.DuckDBPyConnection, call_id: str) -> list[dict]:
    """The call's hits with the rule's title, by moment."""
    return _dicts(con.execute(
        "SELECT h.rule_name, h.rule_version, h.moment_s, v.title, v.urgent FROM rule_hits h "
        "JOIN rule_versions v ON v.name = h.rule_name AND v.version = h.rule_version "
        "WHERE h.call_id = ? ORDER BY h.moment_s, h.rule_name", [call_id]))


def hits_in_force(con: duckdb.DuckDBPyConnection, call_id: str) -> list[dict]:
    """The call's hits of the rules in force (``stg_rule_hits``), by moment."""
    return _dicts(con.execute(
        "SELECT rule_name, rule_version, moment_s, title, urgent FROM stg_rule_hits WHERE call_id = ? "
        "ORDER BY moment_s, rule_name", [call_id]))


def categories_of_calls(con: duckdb.DuckDBPyConnection, call_ids: Sequence[str]) -> dict[str, list[dict]]:
    """call id -> its hits of the rules in force (rule_name, title, moment_s), by moment."""
    out: dict[str, list[dict]] = {}
    for cid, name, title, moment in con.execute(
            "SELECT call_id, rule_name, title, moment_s FROM stg_rule_hits WHERE call_id IN (SELECT unnest(?)) "
            "ORDER BY call_id, moment_s, rule_name", [list(call_ids)]).fetchall():
        out.setdefault(cid, []).append({"rule_name": name, "title": title, "moment_s": moment})
    return out


def category_counts(con: duckdb.DuckDBPyConnection, start, end) -> list[dict]:
    """Calls per rule in force between the local dates ``start`` and ``end`` (inclusive), most first."""
    return _dicts(con.execute(
        "WITH counted AS (SELECT h.rule_name, count(DISTINCT h.call_id) AS n FROM stg_rule_hits h "
        "JOIN stg_calls c USING (call_id) WHERE c.call_date BETWEEN ? AND ? GROUP BY h.rule_name), "
        "in_force AS (SELECT name, title, urgent, enabled FROM rule_versions "
        "QUALIFY row_number() OVER (PARTITION BY name ORDER BY version DESC) = 1) "
        "SELECT v.name AS rule_name, v.title, v.urgent, coalesce(n, 0) AS n FROM in_force v "
        "LEFT JOIN counted ON counted.rule_name = v.name WHERE v.enabled ORDER BY n DESC, v.name", [start, end]))


def hits_per_rule(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Calls each rule in force matched, all time."""
    return dict(con.execute("SELECT rule_name, count(*) FROM stg_rule_hits GROUP BY rule_name").fetchall())


def n_hits(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM rule_hits").fetchone()[0]


# ---- alerts ---------------------------------------------------------------------------------------

def alert_context(con: duckdb.DuckDBPyConnection, call_id: str) -> tuple[str | None, str | None]:
    """(main assigned topic, first ward or commune said) of a call."""
    topic = con.execute(
        "SELECT topic FROM call_topics WHERE call_id = ? AND assigned AND topic <> 'other' "
        "ORDER BY source = 'qa' DESC, score DESC NULLS LAST LIMIT 1", [call_id]).fetchone()
    ward = con.execute(
        "SELECT name FROM call_places WHERE call_id = ? AND kind IN ('ward', 'commune', 'town') AND name IS NOT NULL "
        "ORDER BY seq LIMIT 1", [call_id]).fetchone()
    return (topic[0] if topic else None, ward[0] if ward else None)


def insert_alerts(con: duckdb.DuckDBPyConnection, rows: Sequence[dict]) -> int:
    """Store new alerts; one already stored for the same call and rule is kept as it is. Returns how many are new."""
    new = 0
    with transaction(con):
        for row in rows:
            cur = con.execute(
                "INSERT INTO alerts (alert_id, call_id, rule_name, rule_version, reason, moment_s, topic, ward, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [row["alert_id"], row["call_id"], row["rule_name"], row["rule_version"], row["reason"],
                 row["moment_s"], row["topic"], row["ward"], row["created_at"]])
            new += cur.fetchone()[0]
    return new


def unsent_alerts(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return _dicts(con.execute(
        "SELECT alert_id, call_id, rule_name, reason, moment_s, topic, ward, trigger, created_at FROM alerts "
        "WHERE sent_at IS NULL AND coalesce(kind, 'urgent') = 'urgent' ORDER BY created_at, alert_id"))


def alerts(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return _dicts(con.execute("SELECT * FROM alerts ORDER BY created_at, alert_id"))


def mark_sent(con: duckdb.DuckDBPyConnection, alert_id: str, to: str, at: datetime) -> None:
    con.execute("UPDATE alerts SET sent_to = ?, sent_at = ?, send_error = NULL WHERE alert_id = ?", [to, at, alert_id])


def mark_failed(con: duckdb.DuckDBPyConnection, alert_id: str, error: str) -> None:
    con.execute("UPDATE alerts SET send_error = ? WHERE alert_id = ?", [error, alert_id])


# ---- the early urgent pass (issue 30 #3) -------------------------------------------------------------

def call_settled(con: duckdb.DuckDBPyConnection, call_id: str) -> bool:
    """The call is already loaded or quarantined (an early pass on it again would only repeat the full pass)."""
    return con.execute("SELECT count(*) FROM calls WHERE call_id = ? AND status IN ('done', 'quarantined')",
                       [call_id]).fetchone()[0] > 0


def alert_ids_of_call(con: duckdb.DuckDBPyConnection, call_id: str) -> set[str]:
    return {r[0] for r in con.execute("SELECT alert_id FROM alerts WHERE call_id = ?", [call_id]).fetchall()}


def fill_alert_context(con: duckdb.DuckDBPyConnection, call_id: str, topic: str | None, ward: str | None) -> None:
    """Give a call's alerts raised before it was stored (the early pass) the topic and ward the full pass found,
    where they have none; what was e-mailed is not changed."""
    con.execute("UPDATE alerts SET topic = coalesce(topic, ?), ward = coalesce(ward, ?) WHERE call_id = ? "
                "AND (topic IS NULL OR ward IS NULL)", [topic, ward, call_id])
