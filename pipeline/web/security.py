"""The web app's security layer: response headers on every reply, and the session gate with the unit fence.

:class:`SecureApp` wraps the whole ASGI stack in :class:`SecurityHeaders`, outside Starlette's own
error middleware, so a 500 carries the same headers as a page (CSP, X-Frame-Options, nosniff…).

:class:`SessionGate` runs before any route, whatever module declares it: it reads the session
once per request (the routes take it from ``request.state``; :meth:`WebContext.require` refuses a
request the gate has not seen) and fences unit users in (:data:`pipeline.access.UNIT_ROUTES`).
It fails closed: when the database is too busy to read the session, the answer is 503,
never the route.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline import access
from pipeline.i18n import translator
from pipeline.web.context import SESSION_COOKIE, WebContext

# Inline styles are ours (the CSS is inlined so the log-in page needs no other file); scripts only from us.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "media-src 'self'; frame-ancestors 'none'; form-action 'self'")
# Routes that need no session: the gate does not read the database for them.
PUBLIC_ROUTES = frozenset({"/login", "/lang/{lang}", "/favicon.ico", "/favicon.svg"})


class SecurityHeaders:
    """Pure ASGI: the security headers on every ``http.response.start``, whoever sends it."""

    def __init__(self, app: ASGIApp, *, hsts_seconds: int | None = None):
        self.app, self.hsts_seconds = app, hsts_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers["X-Frame-Options"] = "DENY"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                headers["Content-Security-Policy"] = CSP
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
                if self.hsts_seconds:  # served over HTTPS: browsers must never fall back to HTTP
                    headers["Strict-Transport-Security"] = f"max-age={self.hsts_seconds}"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:  # an error no middleware answered: still a 500 with the headers
                await send_with_headers({"type": "http.response.start", "status": 500,
                                         "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
                await send({"type": "http.response.body", "body": b"Internal Server Error"})
            raise


class SecureApp(FastAPI):
    """FastAPI with :class:`SecurityHeaders` outside everything, Starlette's 500 answer included."""

    hsts_seconds: int | None = None

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), hsts_seconds=self.hsts_seconds)


def route_of(app, scope: Scope) -> str | None:
    """The path template of the route ``scope`` goes to (a method mismatch counts: it is that route's 405)."""
    return route_match(app, scope)[0]


def route_match(app, scope: Scope) -> tuple[str | None, dict]:
    """(path template, path parameters) of the route ``scope`` goes to, as :func:`route_of`."""
    partial = None
    for route in app.router.routes:
        match, child = route.matches(scope)
        if match == Match.FULL:
            return getattr(route, "path", None), child.get("path_params", {})
        if match == Match.PARTIAL and partial is None:
            partial = (getattr(route, "path", None), child.get("path_params", {}))
    return partial or (None, {})


class SessionGate:
    """Pure ASGI, inside the error handlers: the session once per request, then the unit fence."""

    def __init__(self, app: ASGIApp, *, web: WebContext):
        self.app, self.web = app, web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        route, params = route_match(scope["app"], scope)
        state = scope.setdefault("state", {})
        session = None
        if route not in PUBLIC_ROUTES:
            token = request.cookies.get(SESSION_COOKIE)
            if token:
                try:
                    session = await run_in_threadpool(self.web.lookup_session, token)
                except HTTPException as exc:  # database busy: fail closed, the route never runs
                    response = self.web.error_response(request, exc.status_code, exc.detail, None)
                    await response(scope, receive, send)
                    return
            state["session"] = session
        if session is not None and session.user.role == access.UNIT and not access.unit_may_open(route):
            path = scope["path"]
            if request.method == "GET" and path in access.UNIT_REDIRECTS:
                response = RedirectResponse(access.UNIT_REDIRECTS[path], status_code=303)
            else:
                response = self.web.error_response(request, 403, translator(self.web.lang_of(request))("forbidden"),
                                                   session)
            await response(scope, receive, send)
            return
        if session is not None and session.user.lines is not None:
            # A user scoped to lines: only routes that honour the scope, and one call or case only on those lines.
            code = 403 if not access.line_may_open(route) else None
            if code is None and ("call_id" in params or "case_id" in params):
                try:
                    ok = await run_in_threadpool(self.web.in_line_scope, session, params.get("call_id"),
                                                 params.get("case_id"))
                except HTTPException as exc:  # database busy: fail closed
                    ok, code = False, exc.status_code
                code = code or (None if ok else 404)  # 404: the scope does not tell which calls exist
            if code is not None:
                t = translator(self.web.lang_of(request))
                response = self.web.error_response(request, code, t("forbidden") if code == 403 else t("not_found"),
                                                   session)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
