"""``hotline serve``: QA review and manager dashboards over the warehouse (FastAPI + Jinja2, no CDN).

Every route but the log-in page needs a session; role rules are in :class:`WebOptions`.
DuckDB allows one writing process, and the pipeline holds the file during a run, so
the app never keeps a connection: each request opens the file briefly and closes it,
and a busy file becomes a 503 that says so.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from pipeline import reports
from pipeline.config import Settings, load_settings
from pipeline.errors import DatabaseBusy
from pipeline.warehouse import db
from pipeline.web import auth, data
from pipeline.web.i18n import LANGS, translator

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "hotline_session"
LOGIN_CSRF_COOKIE = "hotline_login_csrf"
LANG_COOKIE = "hotline_lang"
BUSY_MESSAGE = "database busy: a pipeline run is loading; try again in a minute"
_AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".ogg": "audio/ogg"}
_STATIC_FILES = {"app.js": "text/javascript"}


@dataclass(frozen=True)
class WebOptions:
    """Who may do what, and session details. Environment: ``HOTLINE_RAW_TEXT_ROLES=qa,admin``,
    ``HOTLINE_SECURE_COOKIES=1`` (behind HTTPS)."""

    raw_text_roles: tuple[str, ...] = ("qa", "admin")  # see unredacted transcripts
    correct_roles: tuple[str, ...] = ("qa", "admin")  # correct topics, mark reviewed
    dashboard_roles: tuple[str, ...] = ("manager", "admin")
    export_roles: tuple[str, ...] = ("manager", "admin")
    secure_cookies: bool = False  # Secure flag on cookies; set when served over HTTPS
    page_size: int = 50  # calls per list page
    busy_wait_s: float = 2.0  # wait this long for the database before answering 503
    auth: auth.AuthOptions = field(default_factory=auth.AuthOptions)


def web_options_from_env() -> WebOptions:
    """:class:`WebOptions` with ``HOTLINE_RAW_TEXT_ROLES`` and ``HOTLINE_SECURE_COOKIES`` applied."""
    opts = WebOptions()
    roles = os.environ.get("HOTLINE_RAW_TEXT_ROLES")
    if roles is not None:
        opts = replace(opts, raw_text_roles=tuple(r.strip() for r in roles.split(",") if r.strip()))
    if os.environ.get("HOTLINE_SECURE_COOKIES", "").lower() in {"1", "true", "yes", "on"}:
        opts = replace(opts, secure_cookies=True)
    return opts


class NotLoggedIn(Exception):
    """No valid session: pages redirect to the log-in page, API and audio answer 401."""


def _safe_next(target: str | None) -> str:
    # Only local paths: "//host" or "https://..." would make the log-in an open redirect.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/calls"
    return target


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def create_app(db_path: Path | str, settings: Settings | None = None, options: WebOptions | None = None) -> FastAPI:
    """The web app over the warehouse at ``db_path`` (migrated on start; users via ``hotline users add``)."""
    settings = settings or load_settings()
    opts = options or web_options_from_env()
    db_path = Path(db_path)
    con = db.connect(db_path, wait_s=opts.busy_wait_s)  # applies 002/003 to an older warehouse
    con.close()

    app = FastAPI(title="hotline-analytics", docs_url=None, redoc_url=None, openapi_url=None)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    css = (HERE / "static" / "app.css").read_text(encoding="utf-8")
    app.state.settings, app.state.options, app.state.db_path = settings, opts, db_path

    # Requests run in threads. Opening one DuckDB file from two threads at once races in
    # DuckDB's instance cache ("Unique file handle conflict"), and two writers may conflict,
    # so database work is serialised; each use is milliseconds (a search index rebuild, ~1 s).
    db_lock = threading.RLock()

    @contextmanager
    def database() -> Iterator:
        with db_lock:
            try:
                con = db.connect(db_path, wait_s=opts.busy_wait_s, migrate_schema=False)
            except DatabaseBusy:
                raise HTTPException(503, BUSY_MESSAGE) from None
            try:
                yield con
            finally:
                con.close()

    def lang_of(request: Request) -> str:
        lang = request.cookies.get(LANG_COOKIE, "vi")
        return lang if lang in LANGS else "vi"

    def session_of(request: Request) -> auth.Session | None:
        with database() as con:
            return auth.lookup_session(con, request.cookies.get(SESSION_COOKIE))

    def require(*roles: str):
        def dependency(request: Request) -> auth.Session:
            session = session_of(request)
            if session is None:
                raise NotLoggedIn()
            if roles and session.user.role not in roles:
                raise HTTPException(403, translator(lang_of(request))("forbidden"))
            return session

        return dependency

    def check_csrf(session: auth.Session, token: str | None) -> None:
        if not token or not hmac.compare_digest(token, session.csrf_token):
            raise HTTPException(403, "CSRF token missing or wrong: reload the page and try again")

    def render(request: Request, name: str, session: auth.Session | None, status: int = 200, **ctx) -> HTMLResponse:
        lang = lang_of(request)
        return templates.TemplateResponse(request, name, {
            "t": translator(lang), "lang": lang, "css": css, "session": session, "opts": opts,
            "topic_labels": reports.topic_labels(lang), "path": request.url.path,
            "query": request.url.query, **ctx}, status_code=status)

    def set_cookie(response: Response, name: str, value: str, max_age: int | None = None) -> None:
        response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", secure=opts.secure_cookies,
                            path="/")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        # Inline styles are ours (the CSS is inlined so the log-in page needs no other file); scripts only from us.
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "media-src 'self'; frame-ancestors 'none'; form-action 'self'")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, exc: NotLoggedIn):
        path = request.url.path
        if path.startswith(("/api/", "/audio/", "/static/", "/export")) or request.method != "GET":
            return JSONResponse({"detail": "log in first"}, status_code=401)
        target = path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if request.url.path.startswith(("/api/", "/audio/", "/static/")):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return render(request, "error.html", None, status=exc.status_code, message=exc.detail, code=exc.status_code)

    # ---- log-in ---------------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/calls"):
        token = secrets.token_urlsafe(24)
        response = render(request, "login.html", None, csrf=token, next=_safe_next(next), error=None)
        set_cookie(response, LOGIN_CSRF_COOKIE, token)
        return response

    @app.post("/login")
    def login(request: Request, username: str = Form(...), password: str = Form(...), csrf_token: str = Form(""),
              next: str = Form("/calls")):
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not cookie or not hmac.compare_digest(cookie, csrf_token):
            raise HTTPException(403, "CSRF token missing or wrong: reload the log-in page and try again")
        t = translator(lang_of(request))
        with database() as con:
            locked = auth.is_locked(con, username, opts.auth)
            user = None if locked else auth.authenticate(con, username, password, opts.auth)
            if user is None:
                locked = locked or auth.is_locked(con, username, opts.auth)
                error = t("locked", minutes=int(opts.auth.lockout_minutes)) if locked else t("bad_login")
                response = render(request, "login.html", None, status=429 if locked else 401, csrf=cookie,
                                  next=_safe_next(next), error=error)
                return response
            token = auth.create_session(con, user, opts.auth)
        response = RedirectResponse(_safe_next(next), status_code=303)
        set_cookie(response, SESSION_COOKIE, token, max_age=int(opts.auth.session_hours * 3600))
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
        return response

    @app.post("/logout")
    def logout(request: Request, csrf_token: str = Form(""), session: auth.Session = Depends(require())):
        check_csrf(session, csrf_token)
        with database() as con:
            auth.end_session(con, request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/lang/{lang}")
    def switch_language(lang: str, next: str = "/calls"):
        response = RedirectResponse(_safe_next(next), status_code=303)
        if lang in LANGS:
            set_cookie(response, LANG_COOKIE, lang, max_age=365 * 24 * 3600)
        return response

    @app.get("/static/{name}")
    def static_file(name: str, session: auth.Session = Depends(require())):
        if name not in _STATIC_FILES:
            raise HTTPException(404, "no such file")
        return FileResponse(HERE / "static" / name, media_type=_STATIC_FILES[name])

    # ---- calls ----------------------------------------------------------------------------------

    def filters_from(request: Request) -> data.CallFilters:
        q = request.query_params
        return data.CallFilters(
            start=_parse_date(q.get("from")), end=_parse_date(q.get("to")), topic=q.get("topic") or None,
            place=q.get("place") or None, operator=q.get("operator") or None,
            needs_review=q.get("needs_review") in ("1", "on", "true"), urgent=q.get("urgent") in ("1", "on", "true"),
            q=(q.get("q") or "")[:200], queue=q.get("queue") in ("1", "on", "true"))

    @app.get("/")
    def home(session: auth.Session = Depends(require())):
        return RedirectResponse("/dashboard" if session.user.role == "manager" else "/calls", status_code=303)

    @app.get("/calls", response_class=HTMLResponse)
    def calls_page(request: Request, page: int = 1, session: auth.Session = Depends(require())):
        f = filters_from(request)
        page = max(page, 1)
        with database() as con:
            rows, total = data.list_calls(con, f, limit=opts.page_size, offset=(page - 1) * opts.page_size)
            choices = data.filter_options(con)
        params = {k: v for k, v in request.query_params.items() if k != "page"}
        return render(request, "calls.html", session, rows=rows, total=total, f=f, choices=choices, page=page,
                      pages=max(1, -(-total // opts.page_size)), filter_qs=urlencode(params))

    @app.get("/api/calls")
    def calls_api(request: Request, page: int = 1, session: auth.Session = Depends(require())):
        with database() as con:
            rows, total = data.list_calls(con, filters_from(request), limit=opts.page_size,
                                          offset=(max(page, 1) - 1) * opts.page_size)
        return {"total": total, "page": page, "calls": [_jsonable(r) for r in rows]}

    @app.get("/calls/{call_id}", response_class=HTMLResponse)
    def call_page(request: Request, call_id: str, session: auth.Session = Depends(require())):
        raw = session.user.role in opts.raw_text_roles
        with database() as con:
            call = data.call_detail(con, call_id, raw_text=raw)
        if call is None:
            raise HTTPException(404, translator(lang_of(request))("not_found"))
        return render(request, "call.html", session, call=call, raw=raw,
                      can_correct=session.user.role in opts.correct_roles)

    @app.get("/api/calls/{call_id}")
    def call_api(call_id: str, session: auth.Session = Depends(require())):
        with database() as con:
            call = data.call_detail(con, call_id, raw_text=session.user.role in opts.raw_text_roles)
        if call is None:
            raise HTTPException(404, "no such call")
        return _jsonable(call)

    @app.post("/calls/{call_id}/topics")
    def correct_topic(call_id: str, topic: str = Form(...), action: str = Form(...), csrf_token: str = Form(""),
                      session: auth.Session = Depends(require(*opts.correct_roles))):
        check_csrf(session, csrf_token)
        with database() as con:
            try:
                data.correct_topic(con, call_id, topic, action, session.user.name)
            except data.BadCorrection as exc:
                raise HTTPException(400, str(exc)) from None
        return RedirectResponse(f"/calls/{call_id}", status_code=303)

    @app.post("/calls/{call_id}/reviewed")
    def review(call_id: str, reviewed: str = Form("1"), csrf_token: str = Form(""),
               session: auth.Session = Depends(require(*opts.correct_roles))):
        check_csrf(session, csrf_token)
        with database() as con:
            if not con.execute("SELECT 1 FROM calls WHERE call_id = ?", [call_id]).fetchone():
                raise HTTPException(404, "no such call")
            data.mark_reviewed(con, call_id, session.user.name, reviewed=reviewed == "1")
        return RedirectResponse(f"/calls/{call_id}", status_code=303)

    @app.get("/audio/{call_id}")
    def audio(call_id: str, session: auth.Session = Depends(require())):
        with database() as con:
            path = data.audio_path(con, call_id)
        if path is None:
            raise HTTPException(404, "no audio for this call")
        # FileResponse answers Range requests (206 + Content-Range), which seeking in <audio> needs.
        return FileResponse(path, media_type=_AUDIO_TYPES.get(path.suffix.lower(), "application/octet-stream"),
                            headers={"Cache-Control": "private, no-store"})

    # ---- manager views --------------------------------------------------------------------------

    def period_from(request: Request) -> tuple[date, date]:
        q = request.query_params
        with database() as con:
            lo, hi = con.execute("SELECT min(call_date), max(call_date) FROM stg_calls").fetchone()
        today = date.today()
        return _parse_date(q.get("from")) or lo or today, _parse_date(q.get("to")) or hi or today

    @app.get("/dashboard", response_class=HTMLResponse)
    def dashboard(request: Request, session: auth.Session = Depends(require(*opts.dashboard_roles))):
        start, end = period_from(request)
        lang = lang_of(request)
        with database() as con:
            charts = reports.dashboard_charts(con, start, end, lang=lang)
            totals = reports.period_totals(con, start, end)
            backlog = reports.review_backlog(con)
            queue = reports.review_queue(con, limit=15)
            operators = reports.operator_summary(con, start, end)
            frustration = reports.frustration_trends(con, start, end)
        return render(request, "dashboard.html", session, charts=charts, totals=totals, backlog=backlog, queue=queue,
                      operators=operators, start=start, end=end, frustration=frustration)

    def export_rows(request: Request) -> list[dict]:
        with database() as con:
            rows, _ = data.list_calls(con, filters_from(request), limit=1_000_000)
        return rows

    @app.get("/export.csv")
    def export_csv(request: Request, session: auth.Session = Depends(require(*opts.export_roles))):
        return Response(data.export_csv(export_rows(request)), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="calls.csv"'})

    @app.get("/export.xlsx")
    def export_xlsx(request: Request, session: auth.Session = Depends(require(*opts.export_roles))):
        return Response(data.export_xlsx(export_rows(request)),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": 'attachment; filename="calls.xlsx"'})

    return app


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
