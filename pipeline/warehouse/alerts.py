"""SQL of alerts beyond the urgent rules (migration 024): spikes, overdue cases, category alerts,
subscriptions, e-mail deliveries, reads and the audit of acknowledging. Bind parameters only;
the logic is :mod:`pipeline.casework.alerts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import duckdb

from pipeline.warehouse.db import transaction

ALERT_COLUMNS = ("alert_id, kind, call_id, rule_name, rule_version, reason, moment_s, topic, ward, unit, trigger, "
                 "created_at, sent_at, acknowledged_by, acknowledged_at")


def _dicts(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    keys = [d[0] for d in cur.description]
    return [dict(zip(keys, r)) for r in cur.fetchall()]


# ---- what raises alerts ------------------------------------------------------------------------

def topic_ward_counts(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> dict[tuple[str, str], int]:
    """Processed calls per (main topic, first ward/commune said) started in [start, end)."""
    rows = con.execute(
        """
        WITH topic AS (
            SELECT call_id, topic FROM call_topics WHERE assigned AND topic <> 'other'
            QUALIFY row_number() OVER (PARTITION BY call_id ORDER BY source = 'qa' DESC, score DESC NULLS LAST) = 1
        ), ward AS (
            SELECT call_id, name AS ward FROM call_places
            WHERE kind IN ('ward', 'commune', 'town') AND name IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY call_id ORDER BY seq) = 1
        ), final AS (
            SELECT t.topic, w.ward, count(*) AS n FROM calls c JOIN topic t USING (call_id) JOIN ward w USING (call_id)
            WHERE c.status = 'done' AND c.started_at >= ? AND c.started_at < ?
            GROUP BY ALL
        )
        SELECT topic, ward, n FROM final
        """, [start, end]).fetchall()
    return {(t, w): n for t, w, n in rows}


def overdue_by_unit(con: duckdb.DuckDBPyConnection, today: date) -> list[dict]:
    """Per handling unit: open cases past their due date on ``today`` (counts only), the urgent among
    them and the oldest due date."""
    return _dicts(con.execute(
        """
        SELECT coalesce(unit, '?') AS unit, count(*) AS n_overdue, count(*) FILTER (WHERE urgent) AS n_urgent,
               min(due_date) AS oldest_due
        FROM cases WHERE status IN ('new', 'forwarded', 'in_progress') AND due_date < ?
        GROUP BY ALL ORDER BY unit
        """, [today]))


def hits_of_rules(con: duckdb.DuckDBPyConnection, call_ids: Sequence[str], rule_names: Sequence[str]) -> list[dict]:
    """Hits on ``call_ids`` of urgent rules and of the rules named ``rule_names`` (their latest version), with the
    rule's title and urgency."""
    if not call_ids:
        return []
    return _dicts(con.execute(
        """
        WITH latest AS (
            SELECT name, version, title, urgent FROM rule_versions
            QUALIFY row_number() OVER (PARTITION BY name ORDER BY version DESC) = 1
        )
        SELECT h.call_id, h.rule_name, h.rule_version, h.moment_s, l.title, l.urgent FROM rule_hits h
        JOIN latest l ON l.name = h.rule_name AND l.version = h.rule_version
        WHERE h.call_id IN (SELECT unnest(?)) AND (l.urgent OR h.rule_name IN (SELECT unnest(?)))
        ORDER BY h.call_id, h.rule_name
        """, [list(call_ids), list(rule_names)]))


def insert_alerts(con: duckdb.DuckDBPyConnection, rows: Sequence[dict]) -> int:
    """Store new alerts (kind, trigger, unit included); one stored under the same id is kept. Returns how many are new."""
    new = 0
    with transaction(con):
        for r in rows:
            cur = con.execute(
                "INSERT INTO alerts (alert_id, kind, call_id, rule_name, rule_version, reason, moment_s, topic, ward, "
                "unit, trigger, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [r["alert_id"], r["kind"], r.get("call_id"), r.get("rule_name"), r.get("rule_version"), r["reason"],
                 r.get("moment_s"), r.get("topic"), r.get("ward"), r.get("unit"), r.get("trigger"), r["created_at"]])
            new += cur.fetchone()[0]
    return new


def set_trigger(con: duckdb.DuckDBPyConnection, alert_id: str, kind: str, trigger: str) -> None:
    """Record what raised an urgent-rule alert (stored by :mod:`pipeline.casework.categories` without it)."""
    con.execute("UPDATE alerts SET kind = ?, trigger = ? WHERE alert_id = ? AND trigger IS NULL",
                [kind, trigger, alert_id])


# ---- reading alerts --------------------------------------------------------------------------------

def visible_alerts(con: duckdb.DuckDBPyConnection, *, kinds: Sequence[str], unit: str | None, user: str,
                   limit: int = 200, only_unread: bool = False) -> list[dict]:
    """Alerts of ``kinds`` (only those for ``unit`` when it is given), newest first, with whether ``user`` read them."""
    if not kinds:
        return []
    return _dicts(con.execute(
        f"""
        SELECT {', '.join('a.' + c.strip() for c in ALERT_COLUMNS.split(','))}, r.read_at IS NOT NULL AS is_read
        FROM alerts a LEFT JOIN alert_reads r ON r.alert_id = a.alert_id AND r.user_name = $user
        WHERE coalesce(a.kind, 'urgent') IN (SELECT unnest($kinds)) AND ($unit IS NULL OR a.unit = $unit)
          AND (NOT $only_unread OR r.read_at IS NULL)
        ORDER BY a.created_at DESC, a.alert_id LIMIT $limit
        """, {"user": user, "kinds": list(kinds), "unit": unit, "only_unread": only_unread, "limit": limit}))


def count_unread(con: duckdb.DuckDBPyConnection, *, kinds: Sequence[str], unit: str | None, user: str) -> int:
    if not kinds:
        return 0
    return con.execute(
        """
        SELECT count(*) FROM alerts a LEFT JOIN alert_reads r ON r.alert_id = a.alert_id AND r.user_name = $user
        WHERE coalesce(a.kind, 'urgent') IN (SELECT unnest($kinds)) AND ($unit IS NULL OR a.unit = $unit)
          AND r.read_at IS NULL AND a.acknowledged_at IS NULL
        """, {"user": user, "kinds": list(kinds), "unit": unit}).fetchone()[0]


def alert_row(con: duckdb.DuckDBPyConnection, alert_id: str) -> dict | None:
    rows = _dicts(con.execute(f"SELECT {ALERT_COLUMNS} FROM alerts WHERE alert_id = ?", [alert_id]))
    return rows[0] if rows else None


def mark_read(con: duckdb.DuckDBPyConnection, alert_ids: Sequence[str], user: str, at: datetime) -> None:
    if alert_ids:
        con.executemany("INSERT INTO alert_reads VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                        [(a, user, at) for a in alert_ids])


def acknowledge(con: duckdb.DuckDBPyConnection, alert_id: str, user: str, note: str | None, at: datetime) -> bool:
    """Acknowledge an alert once (the first acknowledgement stays on the alert); every one is in ``alert_events``.
    Returns whether the alert was still unacknowledged."""
    with transaction(con):
        fresh = con.execute("UPDATE alerts SET acknowledged_by = ?, acknowledged_at = ? "
                            "WHERE alert_id = ? AND acknowledged_at IS NULL", [user, at, alert_id]).fetchone()[0]
        con.execute("INSERT INTO alert_events VALUES (?, ?, 'acknowledged', ?, ?)", [alert_id, user, note, at])
        con.execute("INSERT INTO alert_reads VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [alert_id, user, at])
    return bool(fresh)


def alert_events(con: duckdb.DuckDBPyConnection, alert_id: str | None = None) -> list[dict]:
    return _dicts(con.execute("SELECT alert_id, user_name, action, note, acted_at FROM alert_events "
                              "WHERE ? IS NULL OR alert_id = ? ORDER BY acted_at", [alert_id, alert_id]))


# ---- subscriptions and deliveries ------------------------------------------------------------------

def subscriptions(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every subscription with the user's role and (role unit) unit; disabled accounts left out."""
    return _dicts(con.execute(
        """
        SELECT s.*, u.role, uu.unit FROM alert_subscriptions s JOIN users u USING (user_name)
        LEFT JOIN user_units uu USING (user_name) WHERE NOT u.disabled ORDER BY s.user_name
        """))


def subscription(con: duckdb.DuckDBPyConnection, user: str) -> dict | None:
    rows = _dicts(con.execute("SELECT * FROM alert_subscriptions WHERE user_name = ?", [user]))
    return rows[0] if rows else None


def save_subscription(con: duckdb.DuckDBPyConnection, row: dict) -> None:
    """Create or replace a user's subscription; ``since`` stays as first saved."""
    con.execute(
        """
        INSERT INTO alert_subscriptions (user_name, email, kinds, categories, quiet_from, quiet_to, since, updated_at)
        VALUES ($user_name, $email, $kinds, $categories, $quiet_from, $quiet_to, $now, $now)
        ON CONFLICT (user_name) DO UPDATE SET email = excluded.email, kinds = excluded.kinds,
            categories = excluded.categories, quiet_from = excluded.quiet_from, quiet_to = excluded.quiet_to,
            updated_at = excluded.updated_at
        """, row)


def subscribed_categories(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Rule names some enabled account subscribed to (kind "category")."""
    names: set[str] = set()
    for (text,) in con.execute(
            "SELECT s.categories FROM alert_subscriptions s JOIN users u USING (user_name) "
            "WHERE NOT u.disabled AND list_contains(string_split(s.kinds, ','), 'category')").fetchall():
        names.update(n for n in text.split(",") if n)
    return names


def undelivered(con: duckdb.DuckDBPyConnection, user: str, since: datetime) -> list[dict]:
    """Alerts raised since ``since`` that have no delivery for ``user`` yet, or were held for them; oldest first."""
    return _dicts(con.execute(
        f"""
        SELECT {', '.join('a.' + c.strip() for c in ALERT_COLUMNS.split(','))}, d.state AS delivery_state
        FROM alerts a LEFT JOIN alert_deliveries d ON d.alert_id = a.alert_id AND d.user_name = ?
        WHERE a.created_at >= ? AND (d.state IS NULL OR d.state IN ('held', 'failed'))
        ORDER BY a.created_at, a.alert_id
        """, [user, since]))


def sent_since(con: duckdb.DuckDBPyConnection, user: str, since: datetime) -> int:
    """E-mails sent to ``user`` since ``since`` (a digest counts once)."""
    return con.execute(
        "SELECT count(DISTINCT coalesce(digest_id, alert_id)) FROM alert_deliveries "
        "WHERE user_name = ? AND state IN ('sent', 'digest') AND sent_at >= ?", [user, since]).fetchone()[0]


def record_deliveries(con: duckdb.DuckDBPyConnection, rows: Sequence[tuple]) -> None:
    """(alert_id, user, state, decided_at, sent_at, digest_id, error) rows; a later decision replaces an earlier one."""
    if rows:
        con.executemany(
            "INSERT INTO alert_deliveries VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (alert_id, user_name) DO UPDATE "
            "SET state = excluded.state, decided_at = excluded.decided_at, sent_at = excluded.sent_at, "
            "digest_id = excluded.digest_id, error = excluded.error", list(rows))


def deliveries(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return _dicts(con.execute("SELECT * FROM alert_deliveries ORDER BY decided_at, alert_id, user_name"))
