"""``hotline serve``: QA review and manager dashboards over the warehouse (FastAPI + Jinja2, no CDN).

Every route but the log-in page needs a session; role rules are in :mod:`pipeline.access` and
:class:`WebOptions`; the security layer (headers, session gate, unit fence) is :mod:`pipeline.web.security`.
DuckDB allows one writing process, and the pipeline holds the file during a run, so
the app never keeps a connection: each request opens the file briefly and closes it,
and a busy file becomes a 503 that says so.

Routes live in ``pipeline/web/routes/``, one module per area, each with
``register(app, web)``; every module there is registered, in name order.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from pipeline.config import Settings, apply_environment, load_settings
from pipeline.i18n import translator
from pipeline.report import reports
from pipeline.warehouse import db, similar
from pipeline.web import routes
from pipeline.web.security import SecureApp, SessionGate
from pipeline.web.context import (  # noqa: F401  (re-exported: tests and commands import them from here)
    NotLoggedIn, WebContext, WebOptions)


def web_options_from_env() -> WebOptions:
    """:class:`WebOptions` of the settings the environment gives (kept for callers of the old name).

    Here, in the web app's entry module, because it builds settings: the library below takes them."""
    return WebOptions.from_settings(load_settings())


def _warm(web: WebContext) -> None:
    """What the first call page would otherwise load: scikit-learn for its similar calls, and its templates
    compiled (Jinja compiles each on first use)."""
    similar.warm()
    for name in ("call.html", "calls.html", "_call_facts.html", "_call_badges.html"):
        web.templates.get_template(name)


def create_app(db_path: Path | str, settings: Settings | None = None, options: WebOptions | None = None) -> FastAPI:
    """The web app over the warehouse at ``db_path`` (migrated on start; users via ``hotline users add``).

    ``settings`` are built here when not given (the factory is an entry point: ``uvicorn
    --factory``, tests); ``options`` default to ``WebOptions.from_settings(settings)``.
    """
    if settings is None:
        settings = load_settings()
        apply_environment(settings)
    opts = options or WebOptions.from_settings(settings)
    db_path = Path(db_path)
    con = db.connect(db_path, wait_s=opts.busy_wait_s)  # applies new migrations to an older warehouse
    con.close()

    # The first call page would import scikit-learn for its similar calls (seconds to tens of seconds): load it
    # now, beside the start, so that the first person to open a call does not wait (issue 29).
    app = SecureApp(title="hotline-analytics", docs_url=None, redoc_url=None, openapi_url=None)
    web = WebContext(db_path, settings, opts)
    threading.Thread(target=_warm, args=(web,), name="hotline-warm", daemon=True).start()
    app.state.settings, app.state.options, app.state.db_path, app.state.web = settings, web.opts, db_path, web
    # Security headers on every reply, 500s included; behind HTTPS also Strict-Transport-Security.
    app.hsts_seconds = opts.hsts_seconds if opts.secure_cookies else None
    # The session, once per request, and the unit fence: before every route, whichever module declares it.
    app.add_middleware(SessionGate, web=web)

    if opts.allowed_hosts:  # a forged Host header (cache poisoning, DNS rebinding) gets 400
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(opts.allowed_hosts))

    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, exc: NotLoggedIn):
        path = request.url.path
        if path.startswith(("/api/", "/audio/", "/static/", "/export")) or request.method != "GET":
            return JSONResponse({"detail": "log in first"}, status_code=401)
        target = path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)

    @app.exception_handler(StarletteHTTPException)  # ours and the router's (no such route: 404, 405)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail
        if exc.status_code in (404, 405) and detail in ("Not Found", "Method Not Allowed"):
            # no such route: a page in the user's language (JSON under /api), never Starlette's English
            detail = translator(web.lang_of(request))("page_not_found" if exc.status_code == 404 else "not_found")
        # keep the navigation on error pages (the session the gate read, if any)
        return web.error_response(request, exc.status_code, detail, web.session_of(request))

    @app.exception_handler(reports.BadPeriod)
    async def bad_period(request: Request, exc: reports.BadPeriod):
        return web.error_response(request, 400, str(exc), web.session_of(request))

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception):
        # Starlette logs the exception; the reply says nothing of it (no trace, no data).
        try:
            return web.error_response(request, 500, translator(web.lang_of(request))("server_error"), None)
        except Exception:  # the error page itself failed
            return PlainTextResponse("Internal Server Error", status_code=500)

    for info in sorted(pkgutil.iter_modules(routes.__path__), key=lambda m: m.name):
        importlib.import_module(f"{routes.__name__}.{info.name}").register(app, web)
    return app
