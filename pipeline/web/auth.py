"""Accounts, password hashes, sessions and log-in lockout, stored in the warehouse.

Passwords are hashed with scrypt (``hashlib.scrypt``, RFC 7914) and a random salt.
The session cookie holds a random token; the database keeps only its SHA-256, so a
copy of the database does not let anyone log in. Each session carries its own
CSRF token, which every state-changing request must echo. The rows are read and
written by :mod:`pipeline.warehouse.users`.
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
from pipeline.warehouse import users

ROLES = ("qa", "manager", "admin", "unit")  # unit: a handling unit's member (pipeline.casework.cases)


class UnknownRole(HotlineError):
    """A role that is not one of :data:`ROLES`."""

    exit_code = 2


@dataclass(frozen=True)
class AuthOptions:
    scrypt_n: int = 2**14  # CPU/memory cost (16 MiB per hash with r=8)
    scrypt_r: int = 8
    scrypt_p: int = 1
    session_hours: float = 12.0  # a working day; log in again after
    max_failures: int = 5  # failed log-ins for one user name from one client within the window lock it there
    lockout_minutes: float = 15.0  # the window, and how long the lock lasts
    max_client_failures: int = 20  # failed log-ins from one client, any names, within the window: client refused
    max_account_failures: int = 20  # failed log-ins for one name from all clients: only trusted browsers may try it
    failure_delay_s: float = 1.0  # s; a failed or refused log-in is answered after this (no thread, no CPU held)


@dataclass(frozen=True)
class User:
    name: str
    role: str  # qa | manager | admin
    lines: tuple[str, ...] | None = None  # line keys the user sees (user_lines, issue 32); None: every line


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
    users.replace_user(con, name, hash_password(password, options), role)
    return User(name, role)


def is_locked(con: duckdb.DuckDBPyConnection, name: str, options: AuthOptions = AuthOptions()) -> bool:
    """True when ``name`` had ``max_failures`` failed log-ins since its last success within the window."""
    since = datetime.now() - timedelta(minutes=options.lockout_minutes)
    return users.failures_since_last_success(con, name.strip().lower(), since) >= options.max_failures


MAX_NAME_LENGTH = 64  # characters; longer names are refused without a database row
ATTEMPTS_KEPT_DAYS = 30  # log-in attempts older than this are pruned


def normalise_name(name: str) -> str | None:
    """The stored form of a user name (trimmed, lower case), or None when it is too long to be one."""
    name = name.strip().lower()
    return name if 0 < len(name) <= MAX_NAME_LENGTH else None


def stored_login(con: duckdb.DuckDBPyConnection, name: str) -> tuple[str, str, bool] | None:
    """(password hash, role, disabled) of an account, or None. Cheap: no scrypt."""
    return users.login_row(con, name)


def account_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every account's name: the web app's log-in skips the database and the hash for other names."""
    return users.account_names(con)


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
    users.record_attempt(con, name, ok, ATTEMPTS_KEPT_DAYS)


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
    users.insert_session(con, _token_hash(token), user.name, secrets.token_urlsafe(24), now,
                         now + timedelta(hours=options.session_hours))
    return token


def lookup_session(con: duckdb.DuckDBPyConnection, token: str | None) -> Session | None:
    """The live session for a cookie token, or None (unknown, expired, user disabled)."""
    if not token:
        return None
    row = users.live_session(con, _token_hash(token))
    return Session(User(row[0], row[1], tuple(row[3]) if row[3] else None), row[2]) if row else None


def end_session(con: duckdb.DuckDBPyConnection, token: str | None) -> None:
    if token:
        users.delete_session(con, _token_hash(token))


_DUMMY_HASH = hash_password(secrets.token_hex(8), AuthOptions())


class UnknownUser(HotlineError):
    """No account of that name."""


def list_users(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every account: name, role, created, disabled, last successful log-in (None if never)."""
    return users.user_rows(con)


def set_disabled(con: duckdb.DuckDBPyConnection, name: str, disabled: bool = True) -> None:
    """Disable (or enable again) an account; disabling also ends its sessions."""
    name = name.strip().lower()
    if not users.user_exists(con, name):
        raise UnknownUser(f"no account named {name!r} (see `hotline users list`)")
    users.set_disabled(con, name, disabled)


def remove_user(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Delete an account and its sessions (audit rows that name it stay)."""
    name = name.strip().lower()
    if not users.user_exists(con, name):
        raise UnknownUser(f"no account named {name!r} (see `hotline users list`)")
    users.delete_user(con, name)
