"""Accounts managed by an admin (issue 29): create, disable or enable, reset a password, set the role and a
unit account's unit. Every change writes a ``user_events`` row (who, when, what; never a password); a unit
is checked against the routing table's units (:func:`pipeline.casework.units.check_unit`). The web page
(``/admin/users``) and ``hotline users`` call these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from pipeline.casework import cases, units
from pipeline.errors import HotlineError
from pipeline.warehouse import users as rows
from pipeline.warehouse.db import transaction
from pipeline.web.auth import ROLES, AuthOptions, UnknownUser, hash_password, normalise_name, password_problem


class AccountError(HotlineError):
    """An account change refused; ``key`` names the Vietnamese message (``acc_err_*`` in pipeline.i18n)."""

    exit_code = 2

    def __init__(self, message: str, key: str, **values):
        super().__init__(message)
        self.key, self.values = key, values


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    unit: str | None  # a unit account's unit
    disabled: bool
    created_at: datetime
    last_login: datetime | None


def list_accounts(con: duckdb.DuckDBPyConnection) -> list[Account]:
    """Every account with its unit (for role ``unit``), by name."""
    tied = rows.user_units(con)
    return [Account(u["name"], u["role"], tied.get(u["name"]) if u["role"] == "unit" else None, u["disabled"],
                    u["created_at"], u["last_login"]) for u in rows.user_rows(con)]


def _existing(con, name: str) -> str:
    norm = normalise_name(name or "")
    if not norm or not rows.user_exists(con, norm):
        raise UnknownUser(f"no account named {name!r} (see `hotline users list`)")
    return norm


def _check_role_unit(con, role: str, unit: str | None) -> str | None:
    if role not in ROLES:
        raise AccountError(f"role {role!r} is not one of {', '.join(ROLES)}", "acc_err_role")
    if role != "unit":
        return None
    if not (unit or "").strip():
        raise AccountError("a unit account needs its unit", "acc_err_unit_missing")
    return units.check_unit(con, unit)


def _password(password: str) -> None:
    if problem := password_problem(password or ""):
        raise AccountError(problem, "acc_err_password")


def create_account(con: duckdb.DuckDBPyConnection, actor: str, name: str, role: str, password: str,
                   unit: str | None = None, options: AuthOptions = AuthOptions()) -> str:
    """A new account (an existing name is refused: reset its password instead). Returns the stored name."""
    norm = normalise_name(name or "")
    if not norm or not all(c.isalnum() or c in "._-" for c in norm):
        raise AccountError(f"user name {name!r}: 1-64 letters, digits, '.', '_' or '-'", "acc_err_name")
    if rows.user_exists(con, norm):
        raise AccountError(f"an account named {norm!r} exists", "acc_err_exists", name=norm)
    unit = _check_role_unit(con, role, unit)
    _password(password)
    with transaction(con):
        rows.replace_user(con, norm, hash_password(password, options), role)
        if unit:
            cases.set_user_unit(con, norm, unit)
        rows.insert_user_event(con, datetime.now(), actor, norm, "created", role + (f" · {unit}" if unit else ""))
    return norm


def set_account_disabled(con: duckdb.DuckDBPyConnection, actor: str, name: str, disabled: bool) -> None:
    """Disable (sessions end) or enable an account; an admin cannot disable their own."""
    norm = _existing(con, name)
    if disabled and norm == actor:
        raise AccountError("you cannot disable your own account", "acc_err_self")
    with transaction(con):
        rows.set_disabled(con, norm, disabled)
        rows.insert_user_event(con, datetime.now(), actor, norm, "disabled" if disabled else "enabled")


def reset_password(con: duckdb.DuckDBPyConnection, actor: str, name: str, password: str,
                   options: AuthOptions = AuthOptions()) -> None:
    """A new password; the account's sessions end."""
    norm = _existing(con, name)
    _password(password)
    with transaction(con):
        rows.set_password_hash(con, norm, hash_password(password, options))
        rows.insert_user_event(con, datetime.now(), actor, norm, "password")


def set_role_and_unit(con: duckdb.DuckDBPyConnection, actor: str, name: str, role: str,
                      unit: str | None = None) -> None:
    """Change the role (sessions end) and, for a unit account, its unit; an admin keeps their own role."""
    norm = _existing(con, name)
    before = next(a for a in list_accounts(con) if a.name == norm)
    if norm == actor and role != before.role:
        raise AccountError("you cannot change your own role", "acc_err_self")
    unit = _check_role_unit(con, role, unit)
    with transaction(con):
        if role != before.role:
            rows.set_role(con, norm, role)
            rows.insert_user_event(con, datetime.now(), actor, norm, "role", f"{before.role} → {role}")
        if unit and unit != before.unit:
            cases.set_user_unit(con, norm, unit)
            rows.insert_user_event(con, datetime.now(), actor, norm, "unit", f"{before.unit or '—'} → {unit}")
