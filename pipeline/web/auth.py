"""Accounts, password hashes, sessions and log-in lockout, stored in the warehouse.

Passwords are hashed with scrypt (``hashlib.scrypt``, RFC 7914) and a random salt.
The session cookie holds a random token; the database keeps only its SHA-256, so a
copy of the database does not let anyone log in. Each session carries its own
CSRF token, which every state-changing request must echo.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from pipeline.errors import HotlineError

ROLES = ("qa", "manager", "admin", "unit")  # unit: a handling unit's member (pipeline.cases)


class UnknownRole(HotlineError):
    """A role that is not one of :data:`ROLES`."""

    exit_code = 2


@dataclass(frozen=True)
class AuthOptions:
    scrypt_n: int = 2**14  # CPU/memory cost (16 MiB per hash with r=8)
    scrypt_r: int = 8
    scrypt_p: int = 1
    session_hours: float = 12.0  # a working day; log in again after
    max_failures: int = 5  # failed log-ins for one user name within the window lock it
    lockout_minutes: float = 15.0  # the window, and how long the lock lasts


@dataclass(frozen=True)
class User:
    name: str
    role: str  # qa | manager | admin


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, options: AuthOptions = AuthOptions()) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64 parts) for storing in ``users.password_hash``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=options.scrypt_n, r=options.scrypt_r,
                            p=options.scrypt_p, dklen=32)
    return f"scrypt${options.scrypt_n}${options.scrypt_r}${options.scrypt_p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of ``password`` against a :func:`hash_password` string."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = base64.b64decode(digest)
    got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                         dklen=len(expected))
    return hmac.compare_digest(got, expected)


def add_user(con: duckdb.DuckDBPyConnection, name: str, role: str, password: str,
             options: AuthOptions = AuthOptions()) -> User:
    """Create or replace an account (replacing resets the password and role)."""
    if role not in ROLES:
        raise UnknownRole(f"role {role!r} is not one of {', '.join(ROLES)}")
    name = name.strip().lower()
    con.execute("DELETE FROM users WHERE user_name = ?", [name])
    con.execute("INSERT INTO users VALUES (?, ?, ?, now(), FALSE)", [name, hash_password(password, options), role])
    con.execute("DELETE FROM sessions WHERE user_name = ?", [name])
    return User(name, role)


def is_locked(con: duckdb.DuckDBPyConnection, name: str, options: AuthOptions = AuthOptions()) -> bool:
    """True when ``name`` had ``max_failures`` failed log-ins since its last success within the window."""
    since = datetime.now() - timedelta(minutes=options.lockout_minutes)
    n = con.execute(
        """
        WITH last_ok AS (
            SELECT coalesce(max(attempted_at), TIMESTAMP '1970-01-01') AS t FROM login_attempts WHERE user_name = $u AND ok
        ), final AS (
            SELECT count(*) AS n FROM login_attempts, last_ok
            WHERE user_name = $u AND NOT ok AND attempted_at > last_ok.t AND attempted_at > $since
        )
        SELECT n FROM final
        """,
        {"u": name.strip().lower(), "since": since},
    ).fetchone()[0]
    return n >= options.max_failures


MAX_NAME_LENGTH = 64  # characters; longer names are refused without a database row
ATTEMPTS_KEPT_DAYS = 30  # log-in attempts older than this are pruned


def normalise_name(name: str) -> str | None:
    """The stored form of a user name (trimmed, lower case), or None when it is too long to be one."""
    name = name.strip().lower()
    return name if 0 < len(name) <= MAX_NAME_LENGTH else None


def stored_login(con: duckdb.DuckDBPyConnection, name: str) -> tuple[str, str, bool] | None:
    """(password hash, role, disabled) of an account, or None. Cheap: no scrypt."""
    return con.execute("SELECT password_hash, role, disabled FROM users WHERE user_name = ?", [name]).fetchone()


def check_login(name: str, password: str, stored: tuple[str, str, bool] | None) -> User | None:
    """The user when ``password`` matches ``stored`` and the account is enabled.

    This is the scrypt work (~50 ms): callers run it without holding the database.
    An unknown name costs the same work as a known one, so timing does not reveal
    which names exist.
    """
    ok = verify_password(password, stored[0] if stored else _DUMMY_HASH) and stored is not None and not stored[2]
    return User(name, stored[1]) if ok else None


def record_attempt(con: duckdb.DuckDBPyConnection, name: str, ok: bool) -> None:
    """Record a log-in attempt (the lockout counts them) and prune old ones."""
    con.execute("INSERT INTO login_attempts VALUES (?, now(), ?)", [name, ok])
    con.execute("DELETE FROM login_attempts WHERE attempted_at < now() - to_days(?)", [ATTEMPTS_KEPT_DAYS])


def authenticate(con: duckdb.DuckDBPyConnection, name: str, password: str,
                 options: AuthOptions = AuthOptions()) -> User | None:
    """The user when the password is right and the account is neither disabled nor locked.

    Every attempt is recorded. The web app runs the same steps with the scrypt work
    outside its database lock (:func:`stored_login`, :func:`check_login`, :func:`record_attempt`).
    """
    name = normalise_name(name)
    if name is None or is_locked(con, name, options):
        return None
    user = check_login(name, password, stored_login(con, name))
    record_attempt(con, name, user is not None)
    return user


def _token_hash(token: str) -> str:
    # A cookie is attacker-controlled: any character must hash (no UnicodeEncodeError, no 500).
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def tokens_equal(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of two tokens of any characters (``hmac.compare_digest``
    refuses non-ASCII ``str`` with a TypeError, which became a 500)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


MIN_PASSWORD_CHARS = 8  # characters, not counting spaces


def password_problem(password: str) -> str | None:
    """Why ``password`` is refused, or None: at least 8 non-space characters, not all the same."""
    core = "".join(password.split())
    if len(core) < MIN_PASSWORD_CHARS:
        return f"password too short: use at least {MIN_PASSWORD_CHARS} characters that are not spaces"
    if len(set(core)) < 2:
        return "password is one character repeated: choose another"
    return None


def create_session(con: duckdb.DuckDBPyConnection, user: User, options: AuthOptions = AuthOptions()) -> str:
    """Start a session; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = datetime.now()
    con.execute("DELETE FROM sessions WHERE expires_at < ?", [now])
    con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                [_token_hash(token), user.name, secrets.token_urlsafe(24), now,
                 now + timedelta(hours=options.session_hours)])
    return token


def lookup_session(con: duckdb.DuckDBPyConnection, token: str | None) -> Session | None:
    """The live session for a cookie token, or None (unknown, expired, user disabled)."""
    if not token:
        return None
    row = con.execute(
        """
        SELECT u.user_name, u.role, s.csrf_token FROM sessions s JOIN users u USING (user_name)
        WHERE s.token_sha256 = ? AND s.expires_at > now() AND NOT u.disabled
        """,
        [_token_hash(token)],
    ).fetchone()
    return Session(User(row[0], row[1]), row[2]) if row else None


def end_session(con: duckdb.DuckDBPyConnection, token: str | None) -> None:
    if token:
        con.execute("DELETE FROM sessions WHERE token_sha256 = ?", [_token_hash(token)])


_DUMMY_HASH = hash_password(secrets.token_hex(8), AuthOptions())


class UnknownUser(HotlineError):
    """No account of that name."""


def list_users(con: duckdb.DuckDBPyConnection) -> list[dict]:
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


def set_disabled(con: duckdb.DuckDBPyConnection, name: str, disabled: bool = True) -> None:
    """Disable (or enable again) an account; disabling also ends its sessions."""
    name = name.strip().lower()
    if not con.execute("SELECT 1 FROM users WHERE user_name = ?", [name]).fetchone():
        raise UnknownUser(f"no account named {name!r} (see `hotline users list`)")
    con.execute("UPDATE users SET disabled = ? WHERE user_name = ?", [disabled, name])
    if disabled:
        con.execute("DELETE FROM sessions WHERE user_name = ?", [name])


def remove_user(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Delete an account and its sessions (audit rows that name it stay)."""
    name = name.strip().lower()
    if not con.execute("SELECT 1 FROM users WHERE user_name = ?", [name]).fetchone():
        raise UnknownUser(f"no account named {name!r} (see `hotline users list`)")
    con.execute("DELETE FROM sessions WHERE user_name = ?", [name])
    con.execute("DELETE FROM users WHERE user_name = ?", [name])
