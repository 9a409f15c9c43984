"""Accounts, sessions and log-in attempts: the SQL of :mod:`pipeline.web.auth` (bind parameters only).

Hashing, tokens, lockout rules and name checks stay in :mod:`pipeline.web.auth`; these
functions read and write the rows (migration 002). Names arrive already normalised.
"""

from __future__ import annotations

from datetime import datetime

import duckdb


def replace_user(con: duckdb.DuckDBPyConnection, name: str, password_hash: str, role: str) -> None:
    """Create or replace an account; its sessions end."""
    con.execute("DELETE FROM users WHERE user_name = ?", [name])
    con.execute("INSERT INTO users VALUES (?, ?, ?, now(), FALSE)", [name, password_hash, role])
    con.execute("DELETE FROM sessions WHERE user_name = ?", [name])


def failures_since_last_success(con: duckdb.DuckDBPyConnection, name: str, since: datetime) -> int:
    """Failed log-ins of ``name`` after ``since`` and after its last successful one."""
    return con.execute(
        """
        WITH last_ok AS (
            SELECT coalesce(max(attempted_at), TIMESTAMP '1970-01-01') AS t FROM login_attempts WHERE user_name = $u AND ok
        ), final AS (
            SELECT count(*) AS n FROM login_attempts, last_ok
            WHERE user_name = $u AND NOT ok AND attempted_at > last_ok.t AND attempted_at > $since
        )
        SELECT n FROM final
        """,
        {"u": name, "since": since},
    ).fetchone()[0]


def login_row(con: duckdb.DuckDBPyConnection, name: str) -> tuple[str, str, bool] | None:
    """(password hash, role, disabled) of an account, or None."""
    return con.execute("SELECT password_hash, role, disabled FROM users WHERE user_name = ?", [name]).fetchone()


def account_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every account's name (enabled or not)."""
    return {r[0] for r in con.execute("SELECT user_name FROM users").fetchall()}


def record_attempt(con: duckdb.DuckDBPyConnection, name: str, ok: bool, keep_days: int) -> None:
    """One log-in attempt; attempts older than ``keep_days`` days are pruned."""
    con.execute("INSERT INTO login_attempts VALUES (?, now(), ?)", [name, ok])
    con.execute("DELETE FROM login_attempts WHERE attempted_at < now() - to_days(?)", [keep_days])


def insert_session(con: duckdb.DuckDBPyConnection, token_sha256: str, name: str, csrf_token: str, now: datetime,
                   expires_at: datetime) -> None:
    """A new session row; expired sessions are pruned first."""
    con.execute("DELETE FROM sessions WHERE expires_at < ?", [now])
    con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)", [token_sha256, name, csrf_token, now, expires_at])


def live_session(con: duckdb.DuckDBPyConnection, token_sha256: str) -> tuple[str, str, str, list | None] | None:
    """(user name, role, csrf token, line scope) of an unexpired session of an enabled account, or None.
    The line scope (``user_lines``, migration 022) is None when the user sees every line."""
    return con.execute(
        """
        SELECT u.user_name, u.role, s.csrf_token,
               (SELECT list(l.line ORDER BY l.line) FROM user_lines l WHERE l.user_name = u.user_name)
        FROM sessions s JOIN users u USING (user_name)
        WHERE s.token_sha256 = ? AND s.expires_at > now() AND NOT u.disabled
        """,
        [token_sha256],
    ).fetchone()


def delete_session(con: duckdb.DuckDBPyConnection, token_sha256: str) -> None:
    con.execute("DELETE FROM sessions WHERE token_sha256 = ?", [token_sha256])


def user_rows(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every account: name, role, created, disabled, last successful log-in (None if never)."""
    rows = con.execute(
        """
        WITH last_ok AS (
            SELECT user_name, max(attempted_at) AS last_login FROM login_attempts WHERE ok GROUP BY user_name
        ), final AS (
            SELECT u.user_name, u.role, u.created_at, u.disabled, l.last_login
            FROM users u LEFT JOIN last_ok l USING (user_name)
        )
        SELECT * FROM final ORDER BY user_name
        """).fetchall()
    return [dict(zip(("name", "role", "created_at", "disabled", "last_login"), r)) for r in rows]


def user_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return con.execute("SELECT 1 FROM users WHERE user_name = ?", [name]).fetchone() is not None


def set_disabled(con: duckdb.DuckDBPyConnection, name: str, disabled: bool) -> None:
    """Disable (or enable again) an account; disabling also ends its sessions."""
    con.execute("UPDATE users SET disabled = ? WHERE user_name = ?", [disabled, name])
    if disabled:
        con.execute("DELETE FROM sessions WHERE user_name = ?", [name])


def delete_user(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Delete an account, its sessions and its line scope (a new account of that name starts unscoped)."""
    con.execute("DELETE FROM sessions WHERE user_name = ?", [name])
    con.execute("DELETE FROM user_lines WHERE user_name = ?", [name])
    con.execute("DELETE FROM users WHERE user_name = ?", [name])


# ---- issue 29: accounts managed by an admin (audited), units renamed or merged ----------------------

def set_role(con: duckdb.DuckDBPyConnection, name: str, role: str) -> None:
    """Change an account's role; its sessions end (the next log-in carries the new role)."""
    con.execute("UPDATE users SET role = ? WHERE user_name = ?", [role, name])
    con.execute("DELETE FROM sessions WHERE user_name = ?", [name])


def set_password_hash(con: duckdb.DuckDBPyConnection, name: str, password_hash: str) -> None:
    """Replace an account's password; its sessions end."""
    con.execute("UPDATE users SET password_hash = ? WHERE user_name = ?", [password_hash, name])
    con.execute("DELETE FROM sessions WHERE user_name = ?", [name])


def insert_user_event(con: duckdb.DuckDBPyConnection, at: datetime, actor: str, name: str, action: str,
                      note: str | None = None) -> None:
    con.execute("INSERT INTO user_events VALUES (?, ?, ?, ?, ?)", [at, actor, name, action, note])


def user_events(con: duckdb.DuckDBPyConnection, limit: int = 50) -> list[dict]:
    """The latest account changes, newest first."""
    rows = con.execute("SELECT acted_at, actor, user_name, action, note FROM user_events "
                       "ORDER BY acted_at DESC LIMIT ?", [limit]).fetchall()
    return [dict(zip(("acted_at", "actor", "user_name", "action", "note"), r)) for r in rows]


def user_units(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """user name → unit, of the accounts tied to a unit."""
    return dict(con.execute("SELECT user_name, unit FROM user_units").fetchall())


def unit_renames(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """old name → name in use, of every unit renamed or merged."""
    return dict(con.execute("SELECT old_name, new_name FROM unit_renames").fetchall())


def rename_unit_rows(con: duckdb.DuckDBPyConnection, old: str, new: str, actor: str, at: datetime) -> list[str]:
    """Record ``old`` → ``new`` (earlier renames to ``old`` follow it) and move cases and unit accounts;
    returns the ids of the cases moved. The caller holds the transaction and writes the case events."""
    moved = [r[0] for r in con.execute("SELECT case_id FROM cases WHERE unit = ? ORDER BY case_id", [old]).fetchall()]
    con.execute("UPDATE cases SET unit = ? WHERE unit = ?", [new, old])
    con.execute("UPDATE user_units SET unit = ? WHERE unit = ?", [new, old])
    con.execute("UPDATE unit_renames SET new_name = ? WHERE new_name = ?", [new, old])
    con.execute("DELETE FROM unit_renames WHERE old_name = ?", [new])  # renamed back: no loop
    con.execute("INSERT OR REPLACE INTO unit_renames VALUES (?, ?, ?, ?)", [old, new, actor, at])
    return moved


def unit_names_in_use(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every unit named by a case or a unit account, sorted."""
    return [r[0] for r in con.execute(
        "SELECT DISTINCT unit FROM (SELECT unit FROM cases UNION SELECT unit FROM user_units) "
        "WHERE unit IS NOT NULL ORDER BY 1").fetchall()]


def claim_row(con: duckdb.DuckDBPyConnection, call_id: str) -> tuple[str, datetime] | None:
    """(user name, claimed at) of the call's claim, or None."""
    return con.execute("SELECT user_name, claimed_at FROM call_claims WHERE call_id = ?", [call_id]).fetchone()


def put_claim(con: duckdb.DuckDBPyConnection, call_id: str, name: str, at: datetime) -> None:
    con.execute("INSERT OR REPLACE INTO call_claims VALUES (?, ?, ?)", [call_id, name, at])


def drop_claim(con: duckdb.DuckDBPyConnection, call_id: str, name: str) -> None:
    con.execute("DELETE FROM call_claims WHERE call_id = ? AND user_name = ?", [call_id, name])


def live_claims(con: duckdb.DuckDBPyConnection, since: datetime) -> dict[str, str]:
    """call_id → user name of the claims made after ``since``."""
    return dict(con.execute("SELECT call_id, user_name FROM call_claims WHERE claimed_at > ?", [since]).fetchall())


def case_unit_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every unit some case is routed to (by routing or by a person)."""
    return {r[0] for r in con.execute("SELECT DISTINCT unit FROM cases WHERE unit IS NOT NULL").fetchall()}
