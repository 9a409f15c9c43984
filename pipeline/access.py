"""Who sees what: one row per role, asked by every page, API answer and export (issue 25).

docs/security.md ("What each role can see") is this table in words; ``tests/unit/test_role_access.py``
checks every route and export against it, role by role.

- ``calls``: the call list, call pages, their API, transcripts and the audio.
- ``cases``: ``all`` cases, or only the ``own_unit``'s (a handling unit's member).
- ``caller_reference``: what leads to the caller: the last three digits of the number, the
  initials of the name the caller gave, the PBX call id (the switchboard's log holds the
  number), the caller hash (links repeat callers) and the masked file name (it ends in the
  last three digits). Staff who call citizens back and check calls against the switchboard
  need it; managers read trends and file exports, and get none of it.
- ``raw_text_allowed``: may be given unredacted transcripts and staff notes (case history,
  results). ``HOTLINE_RAW_TEXT_ROLES`` chooses among these roles (default qa, admin); every
  other reader gets the text through the same redaction as transcripts.
- ``case_history``: the whole history of a case, or only the ``own_part`` of it: from the
  last time the case was forwarded (or handed) to the unit.
- ``rules``: may write call categories (the rule editor, ``/rules``: preview, save a version,
  back-apply). Admins and managers; QA and units never (the unit fence refuses the routes too).
- ``dashboard_allowed`` / ``export_allowed`` / ``correct_allowed``: the most the settings
  ``HOTLINE_DASHBOARD_ROLES``, ``HOTLINE_EXPORT_ROLES``, ``HOTLINE_CORRECT_ROLES`` may grant.

A role not in the table sees nothing (:func:`of` answers :data:`NOTHING`).
"""

from __future__ import annotations

from dataclasses import dataclass

UNIT = "unit"


@dataclass(frozen=True)
class Access:
    calls: bool
    cases: str  # "all" | "own_unit" | "none"
    caller_reference: bool
    raw_text_allowed: bool
    case_history: str  # "all" | "own_part" | "none"
    dashboard_allowed: bool
    export_allowed: bool
    correct_allowed: bool
    rules: bool = False


ROLES: dict[str, Access] = {
    #                calls  cases       caller_ref raw_text  history     dashboard export correct rules
    "qa": Access(True, "all", True, True, "all", True, True, True, False),
    "admin": Access(True, "all", True, True, "all", True, True, True, True),
    "manager": Access(True, "all", False, True, "all", True, True, True, True),
    UNIT: Access(False, "own_unit", False, False, "own_part", False, False, False, False),
}
NOTHING = Access(False, "none", False, False, "none", False, False, False, False)

# What a unit may open: these route templates (path, as the app declares it) and nothing else.
# A route added to the app is closed to units until it is listed here.
UNIT_ROUTES = frozenset({
    "/login", "/logout", "/lang/{lang}", "/static/{name}", "/favicon.ico", "/favicon.svg",
    "/cases", "/api/cases", "/cases/{case_id}", "/api/cases/{case_id}", "/cases/of-call/{call_id}",
    "/cases/{case_id}/status",  # a unit takes a forwarded case on, resolves it, or sends it back
    # alerts: a unit sees only its own unit's overdue alerts (pipeline.casework.alerts.scope_of)
    "/alerts", "/api/alerts", "/alerts/{alert_id}/ack", "/alerts/subscription",
})
# Where a unit is sent instead of a 403: the pages a bookmark or the log-in form lead to.
UNIT_REDIRECTS = {"/": "/cases", "/calls": "/cases", "/dashboard": "/cases"}

# Who may open the clusters of calls the topic model could not place (/topics/discover, issue 31) and turn
# one into a category rule: it reads the text of many calls at once. Never a unit (not in UNIT_ROUTES).
TOPIC_DISCOVERY_ROLES = ("admin", "manager")
# What a user scoped to lines (``user_lines``, issue 32: the city's QA sees only the city's calls) may
# open: routes whose lists are filtered by the scope in the data layer, and routes of one call or case,
# which the gate (pipeline.web.security) opens only when its line is in the scope. Everything else
# (the dashboard and report read marts over every line; QA work lists; merges that name a second
# case) is closed to a scoped user until it is listed here.
LINE_ROUTES = frozenset({
    "/login", "/logout", "/lang/{lang}", "/static/{name}", "/favicon.ico", "/favicon.svg", "/",
    "/calls", "/api/calls", "/calls/{call_id}", "/api/calls/{call_id}", "/audio/{call_id}",
    "/calls/{call_id}/topics", "/calls/{call_id}/reviewed", "/export.csv", "/export.xlsx",
    "/cases", "/api/cases", "/cases/{case_id}", "/api/cases/{case_id}", "/cases/of-call/{call_id}",
    "/cases/{case_id}/status", "/cases/{case_id}/unit", "/cases/{case_id}/place",
})


def line_may_open(route_path: str | None) -> bool:
    """Whether a user scoped to lines may use the route declared as ``route_path``."""
    return route_path in LINE_ROUTES


def line_in_scope(line: str | None, scope: tuple[str, ...] | None) -> bool:
    """Whether a call on ``line`` is visible under ``scope`` (None: every line). A call with no line yet
    is visible only to users with every line (fail closed)."""
    return scope is None or (line is not None and line in scope)


# Fields of a row that are the caller reference (``caller_reference`` above).
CALLER_REFERENCE_FIELDS = ("caller_last3", "caller_initials", "pbx_call_id", "caller_hash", "source_path")


def of(role: str | None) -> Access:
    """The role's row; :data:`NOTHING` for an unknown role."""
    return ROLES.get(role or "", NOTHING)


def rule_roles() -> tuple[str, ...]:
    """The roles that may use the rule editor (the ``rules`` column)."""
    return tuple(role for role, row in ROLES.items() if row.rules)


def unit_may_open(route_path: str | None) -> bool:
    """Whether a unit's member may use the route declared as ``route_path`` (None: no route matched)."""
    return route_path in UNIT_ROUTES


def raw_text(role: str | None, raw_text_roles: tuple[str, ...]) -> bool:
    """Unredacted text for ``role``: allowed by the table *and* chosen by ``HOTLINE_RAW_TEXT_ROLES``."""
    return of(role).raw_text_allowed and role in raw_text_roles


def without_caller_reference(row: dict, role: str | None) -> dict:
    """``row`` with the caller reference fields set to None unless ``role`` may see them (in place; returned)."""
    if not of(role).caller_reference:
        for key in CALLER_REFERENCE_FIELDS:
            if key in row:
                row[key] = None
    return row
