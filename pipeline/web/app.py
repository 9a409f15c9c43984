"""``hotline serve``: QA review and manager dashboards over the warehouse (FastAPI + Jinja2, no CDN).

Every route but the log-in page needs a session; role rules are in :class:`WebOptions`.
DuckDB allows one writing process, and the pipeline holds the file during a run, so
the app never keeps a connection: each request opens the file briefly and closes it,
and a busy file becomes a 503 that says so.

Routes live in ``pipeline/web/routes/``, one module per area, each with
``register(app, web)``; every module there is registered, in name order.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.middleware.trustedhost import TrustedHostMiddleware

from pipeline.config import Settings, apply_environment, load_settings
from pipeline.warehouse import db
from pipeline.web import routes
from pipeline.web.context import (  # noqa: F401  (re-exported: tests and commands import them from here)
    NotLoggedIn, WebContext, WebOptions)


def web_options_from_env() -> WebOptions:
    """:class:`WebOptions` of the settings the environment gives (kept for callers of the old name).

    Here, in the web app's entry module, because it builds settings: the library below takes them."""
    return WebOptions.from_settings(load_settings())


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

    app = FastAPI(title="hotline-analytics", docs_url=None, redoc_url=None, openapi_url=None)
    web = WebContext(db_path, settings, opts)
    app.state.settings, app.state.options, app.state.db_path, app.state.web = settings, opts, db_path, web

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
        if opts.secure_cookies:  # served over HTTPS (behind a TLS proxy): browsers must never fall back to HTTP
            response.headers["Strict-Transport-Security"] = f"max-age={opts.hsts_seconds}"
        return response

    if opts.allowed_hosts:  # a forged Host header (cache poisoning, DNS rebinding) gets 400
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(opts.allowed_hosts))

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
        session = None
        if exc.status_code != 503:  # keep the navigation on error pages (a busy database has no session to read)
            try:
                session = web.session_of(request)
            except HTTPException:
                session = None
        return web.render(request, "error.html", session, status=exc.status_code, message=exc.detail,
                          code=exc.status_code)

    for info in sorted(pkgutil.iter_modules(routes.__path__), key=lambda m: m.name):
        importlib.import_module(f"{routes.__name__}.{info.name}").register(app, web)
    return app
