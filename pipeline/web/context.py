"""What every route module of the web app shares: options, the per-request database, sessions,
roles, CSRF, rendering. Built once by :func:`pipeline.web.app.create_app` and handed to each
``pipeline/web/routes/<area>.py`` module's ``register(app, web)``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from pipeline import access
from pipeline.casework import alerts, cases
from pipeline.config import Settings
from pipeline.errors import DatabaseBusy
from pipeline.i18n import LANGS, translator
from pipeline.report import formats, reports
from pipeline.warehouse import db
from pipeline.warehouse import lines as warehouse_lines
from pipeline.web import auth, data, throttle

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "hotline_session"
LOGIN_CSRF_COOKIE = "hotline_login_csrf"
LANG_COOKIE = "hotline_lang"
BUSY_MESSAGE = "database busy: a pipeline run is loading; try again in a minute"


@dataclass(frozen=True)
class WebOptions:
    """Who may do what, and session details: built from ``Settings.web`` by :meth:`from_settings`
    (``HOTLINE_RAW_TEXT_ROLES=qa,admin``, ``HOTLINE_SECURE_COOKIES=1`` behind HTTPS, …:
    pipeline/config.py). Tests build one directly."""

    raw_text_roles: tuple[str, ...] = ("qa", "admin")  # see unredacted transcripts
    correct_roles: tuple[str, ...] = ("qa", "admin")  # correct topics, mark reviewed
    dashboard_roles: tuple[str, ...] = ("manager", "admin")
    export_roles: tuple[str, ...] = ("manager", "admin")
    secure_cookies: bool = False  # Secure flag on cookies and HSTS header; set when served over HTTPS
    allowed_hosts: tuple[str, ...] = ()  # Host header values accepted (HOTLINE_ALLOWED_HOSTS); empty: any
    hsts_seconds: int = 31536000  # s; Strict-Transport-Security max-age sent with secure_cookies
    page_size: int = 50  # calls per list page
    busy_wait_s: float = 5.0  # s; wait this long for the database (a run loading a call) before answering 503
    auth: auth.AuthOptions = field(default_factory=auth.AuthOptions)

    @classmethod
    def from_settings(cls, settings: Settings) -> "WebOptions":
        """The options of ``settings.web`` (the scrypt cost stays at :class:`~pipeline.web.auth.AuthOptions`'s)."""
        w = settings.web
        return cls(raw_text_roles=w.raw_text_roles, correct_roles=w.correct_roles, dashboard_roles=w.dashboard_roles,
                   export_roles=w.export_roles, secure_cookies=w.secure_cookies, allowed_hosts=w.allowed_hosts,
                   hsts_seconds=w.hsts_seconds, page_size=w.page_size, busy_wait_s=w.busy_wait_s,
                   auth=replace(auth.AuthOptions(), session_hours=w.session_hours, max_failures=w.max_failures,
                                lockout_minutes=w.lockout_minutes))


class NotLoggedIn(Exception):
    """No valid session: pages redirect to the log-in page, API and audio answer 401."""


def safe_next(target: str | None) -> str:
    """A post-log-in target limited to local paths ("//host" or "https://…" would be an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/calls"
    return target


def parse_date(value: str | None) -> date | None:
    """A date of the query string: ``dd/mm/yyyy`` (what the date fields show and take, whatever the
    browser's locale: issue 29) or ``YYYY-MM-DD`` (links); None when absent, not a date, or outside the
    years a hotline's calls can have (:data:`pipeline.report.reports.FIRST_DAY` … ``LAST_DAY``): a date
    such as 9999-12-31 would overflow the period arithmetic."""
    value = (value or "").strip()
    try:
        if "/" in value and len(value) <= 10:
            d, m, y = value.split("/")
            day = date(int(y), int(m), int(d)) if len(y) == 4 and y.isdigit() and d.isdigit() and m.isdigit() else None
        else:
            day = date.fromisoformat(value) if value and len(value) <= 10 else None
    except ValueError:
        return None
    return day if day is not None and reports.FIRST_DAY <= day <= reports.LAST_DAY else None


def checked_date(value: str | None, field: str, lang: str = "vi") -> date | None:
    """:func:`parse_date`, but a value that is given and is not a usable date is a 400 naming the field
    (``?from=2026-13-01`` is not silently ignored: the page would show another period than asked)."""
    if value is None or value.strip() == "":
        return None
    day = parse_date(value.strip())
    if day is None:
        t = translator(lang)
        raise HTTPException(400, t("bad_date", field=t(field), value=value[:20]))
    return day


def parse_hour(value: str | None, lang: str = "vi") -> int | None:
    """``hour`` of the query string: None when absent or empty; 0..23; anything else is a 400 (not ignored, so
    a wrong link never shows a whole day's calls as if they were one hour's)."""
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    # At most two digits before int(): 5,000 digits exceed Python's int-from-text limit (a ValueError, a 500).
    if not text.isascii() or not text.isdigit() or len(text) > 2 or not 0 <= int(text) <= 23:
        raise HTTPException(400, translator(lang)("bad_hour", value=value[:20]))
    return int(text)


def jsonable(value):
    """Dates and datetimes as ISO strings, recursively, for JSON answers."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def page_words(lang: str) -> dict:
    """What every template (a whole page or a panel re-rendered after a change) uses to put stored program text
    into words: ``t``, topic labels, routing reasons, case notes, actors, the operator (issue 29). One place, so
    no template falls back to the raw text when a helper is missing."""
    return {"t": translator(lang), "lang": lang, "topic_labels": reports.topic_labels(lang),
            "route_reason": lambda r: formats.route_reason(r, lang), "case_note": lambda n: formats.case_note(n, lang),
            "actor": lambda u: formats.actor(u, lang), "operator_name": lambda e: formats.operator(e, lang)}


class WebContext:
    """The helpers route modules use; one per app."""

    def __init__(self, db_path: Path, settings: Settings, opts: WebOptions):
        # The role settings choose among the roles pipeline.access allows (a unit is never given more).
        opts = replace(opts, **{name: tuple(r for r in getattr(opts, name) if getattr(access.of(r), allowed))
                                for name, allowed in (("raw_text_roles", "raw_text_allowed"),
                                                      ("dashboard_roles", "dashboard_allowed"),
                                                      ("export_roles", "export_allowed"),
                                                      ("correct_roles", "correct_allowed"))})
        self.db_path, self.settings, self.opts = db_path, settings, opts
        a = opts.auth
        self.logins = throttle.LoginGuard(window_s=a.lockout_minutes * 60, max_failures=a.max_failures,
                                          max_client_failures=a.max_client_failures,
                                          max_account_failures=a.max_account_failures)
        self.hash_gate = throttle.HashGate()
        self.account_names = throttle.AccountNames()
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.css = (HERE / "static" / "app.css").read_text(encoding="utf-8")
        # Requests run in threads. Opening one DuckDB file from two threads at once races in
        # DuckDB's instance cache ("Unique file handle conflict"), and two writers may conflict,
        # so database work is serialised; each use is milliseconds (a search index rebuild, ~1 s).
        self._db_lock = threading.RLock()

    @contextmanager
    def database(self) -> Iterator:
        """A connection for the length of one request's database work; busy file → 503."""
        with self._db_lock:
            try:
                con = db.connect(self.db_path, wait_s=self.opts.busy_wait_s, migrate_schema=False)
            except DatabaseBusy:
                raise HTTPException(503, BUSY_MESSAGE) from None
            try:
                yield con
            finally:
                con.close()

    def lang_of(self, request: Request) -> str:
        lang = request.cookies.get(LANG_COOKIE, "vi")
        return lang if lang in LANGS else "vi"

    def lookup_session(self, token: str | None) -> auth.Session | None:
        """The live session of a cookie token; a busy database is a 503 (HTTPException)."""
        if not token:
            return None
        with self.database() as con:
            return auth.lookup_session(con, token)

    def in_line_scope(self, session: auth.Session, call_id: str | None, case_id: str | None) -> bool:
        """Whether the call and the case (each if given) exist and are on the session user's lines only."""
        scope = session.user.lines
        with self.database() as con:
            if call_id is not None:
                exists, line = warehouse_lines.call_line(con, call_id)
                if not exists or not access.line_in_scope(line, scope):
                    return False
            if case_id is not None:
                exists, found = warehouse_lines.case_lines(con, case_id)
                if not exists or not found or not all(access.line_in_scope(x, scope) for x in found):
                    return False
        return True

    def session_of(self, request: Request) -> auth.Session | None:
        """The request's session as :class:`pipeline.web.security.SessionGate` read it (None: no gate
        saw this request, or nobody is logged in)."""
        return getattr(request.state, "session", None)

    def require(self, *roles: str):
        """A FastAPI dependency: the session, if its user has one of ``roles`` (any role if none).

        Fails closed: a request the session gate did not see is refused (500), and a unit's
        member is refused any route outside :data:`pipeline.access.UNIT_ROUTES` here too."""

        def dependency(request: Request) -> auth.Session:
            if not hasattr(request.state, "session"):
                raise RuntimeError("the session gate did not run for this request (pipeline.web.security)")
            session = request.state.session
            if session is None:
                raise NotLoggedIn()
            route = request.scope.get("route")
            forbidden = (roles and session.user.role not in roles) or (
                session.user.role == access.UNIT and not access.unit_may_open(getattr(route, "path", None)))
            if forbidden:
                raise HTTPException(403, translator(self.lang_of(request))("forbidden"))
            return session

        return dependency

    def view(self, session: auth.Session | None) -> access.Access:
        """The :mod:`pipeline.access` row of the session's role."""
        return access.of(session.user.role if session else None)

    def raw_text(self, session: auth.Session | None) -> bool:
        """Whether the session's user is given unredacted transcripts and notes."""
        return session is not None and access.raw_text(session.user.role, self.opts.raw_text_roles)

    def error_response(self, request: Request, code: int, message, session: auth.Session | None) -> Response:
        """An error reply: JSON for the API, the audio and static files; the error page otherwise."""
        if request.url.path.startswith(("/api/", "/audio/", "/static/")):
            return JSONResponse({"detail": message}, status_code=code)
        return self.render(request, "error.html", session, status=code, message=message, code=code)

    def check_csrf(self, session: auth.Session, token: str | None) -> None:
        if not auth.tokens_equal(token, session.csrf_token):
            raise HTTPException(403, "CSRF token missing or wrong: reload the page and try again")

    def bell_count(self, session: auth.Session | None) -> int | None:
        """Unread alerts for the header's bell; None without a session, when the role sees no alerts, or when
        the database is busy (the page still renders)."""
        if session is None:
            return None
        try:
            with self.database() as con:
                actor = cases.actor_for(con, session.user.name, session.user.role)
                scope = alerts.scope_of(actor.role, actor.unit)
                return alerts.unread_count(con, scope, session.user.name) if scope.kinds else None
        except Exception:  # a busy or older database: no number rather than no page
            return None

    def render(self, request: Request, name: str, session: auth.Session | None, status: int = 200,
               **ctx) -> HTMLResponse:
        lang = self.lang_of(request)
        if "bell" not in ctx:  # not on a 503: the database is what is busy
            ctx["bell"] = self.bell_count(session) if status < 500 else None
        return self.templates.TemplateResponse(request, name, {
            **page_words(lang), "css": self.css, "session": session, "opts": self.opts,
            "path": request.url.path, "rule_roles": access.rule_roles(),
            "query": request.url.query, **ctx}, status_code=status)

    def set_cookie(self, response: Response, name: str, value: str, max_age: int | None = None) -> None:
        response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax",
                            secure=self.opts.secure_cookies, path="/")

    def filters_from(self, request: Request) -> data.CallFilters:
        """The call-list filters of a request's query string."""
        q = request.query_params
        lang = self.lang_of(request)
        session = getattr(request.state, "session", None)
        return data.CallFilters(
            line=q.get("line") or None, lines=session.user.lines if session is not None else (),
            start=checked_date(q.get("from"), "from", lang), end=checked_date(q.get("to"), "to", lang), topic=q.get("topic") or None,
            place=q.get("place") or None, operator=q.get("operator") or None,
            needs_review=q.get("needs_review") in ("1", "on", "true"), urgent=q.get("urgent") in ("1", "on", "true"),
            q=(q.get("q") or "")[:200], queue=q.get("queue") in ("1", "on", "true"),
            hour=parse_hour(q.get("hour"), self.lang_of(request)), category=(q.get("category") or "")[:63] or None)

    def period_from(self, request: Request) -> tuple[date, date]:
        """``from``/``to`` of the query string, defaulting to the span of the loaded calls."""
        q = request.query_params
        with self.database() as con:
            lo, hi = reports.data_period(con)  # today twice when no call is loaded
        lang = self.lang_of(request)
        return checked_date(q.get("from"), "from", lang) or lo, checked_date(q.get("to"), "to", lang) or hi
