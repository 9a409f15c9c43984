"""Log-in, log-out, the language switch and the app's own static files."""

from __future__ import annotations

import asyncio
import secrets
import time

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from pipeline.web import auth
from pipeline.web.throttle import DEVICE_COOKIE, DEVICE_DAYS, GateFull
from pipeline.web.context import HERE, LANG_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE, WebContext, safe_next
from pipeline.i18n import LANGS, translator

_STATIC_FILES = {"app.js": "text/javascript"}


def register(app: FastAPI, web: WebContext) -> None:
    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/calls"):
        token = secrets.token_urlsafe(24)
        response = web.render(request, "login.html", None, csrf=token, next=safe_next(next), error=None)
        web.set_cookie(response, LOGIN_CSRF_COOKIE, token)
        return response

    @app.post("/login")
    async def login(request: Request, username: str = Form(...), password: str = Form(...),
                    csrf_token: str = Form(""), next: str = Form("/calls")):
        # Async on purpose: a refused attempt is answered without a worker thread, the database or a hash,
        # and the hash runs through web.hash_gate (a flood never takes every core: pipeline.web.throttle).
        arrived = time.monotonic()
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not auth.tokens_equal(cookie, csrf_token):
            raise HTTPException(403, "CSRF token missing or wrong: reload the log-in page and try again")
        t = translator(web.lang_of(request))
        minutes = int(web.opts.auth.lockout_minutes)

        async def refused(status: int, error: str, headers: dict | None = None):
            # Every failed or refused attempt is answered failure_delay_s after it arrived, asleep in the event
            # loop (no thread, no CPU): a flooding client gets a few attempts a second through, and the timing
            # does not tell a name that exists (database, hash) from one that does not (neither).
            await asyncio.sleep(max(0.0, web.opts.auth.failure_delay_s - (time.monotonic() - arrived)))
            response = web.render(request, "login.html", None, status=status, csrf=cookie, next=safe_next(next),
                                  error=error)
            response.headers.update(headers or {})
            return response

        name = auth.normalise_name(username)
        if name is None:  # too long to be a name: no row, no hash
            return await refused(401, t("bad_login"))
        client = request.client.host if request.client else "?"
        device = web.logins.trusted(request.cookies.get(DEVICE_COOKIE), name)
        refusal = web.logins.refusal(client, name, device)
        if refusal is not None:
            return await refused(429, t({"pair": "locked", "client": "login_client_throttled",
                                         "account": "login_account_guarded"}[refusal.why], minutes=minutes),
                                 {"Retry-After": str(minutes * 60)})

        def read_names() -> set[str]:
            with web.database() as con:
                return auth.account_names(con)

        if not web.account_names.known(name) and web.account_names.stale():
            web.account_names.update(await run_in_threadpool(read_names))
        user = None
        if web.account_names.known(name):
            def stored_login():
                with web.database() as con:
                    return auth.stored_login(con, name)

            stored = await run_in_threadpool(stored_login)
            try:  # the scrypt work (tens of ms), without the database: other requests go on
                user = await run_in_threadpool(web.hash_gate.run, auth.check_login, name, password, stored)
            except GateFull:
                return await refused(503, t("login_busy"), {"Retry-After": "2"})

            def record():
                with web.database() as con:
                    auth.record_attempt(con, name, user is not None)  # the audit of an account's log-ins
                    return auth.create_session(con, user, web.opts.auth) if user is not None else None

            token = await run_in_threadpool(record)
        if user is None:
            web.logins.failed(client, name, device)
            now_refused = web.logins.refusal(client, name, device)
            if now_refused is not None and now_refused.why == "pair":
                return await refused(429, t("locked", minutes=minutes), {"Retry-After": str(minutes * 60)})
            return await refused(401, t("bad_login"))
        web.logins.succeeded(client, name, device)
        target = safe_next(next)
        if target == "/calls" and user.role == "qa":  # the default target: QA staff land on their queue
            target = "/calls?queue=1"
        response = RedirectResponse(target, status_code=303)
        web.set_cookie(response, SESSION_COOKIE, token, max_age=int(web.opts.auth.session_hours * 3600))
        web.set_cookie(response, DEVICE_COOKIE, web.logins.cookie_after_login(request.cookies.get(DEVICE_COOKIE), name),
                       max_age=DEVICE_DAYS * 24 * 3600)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
        return response

    @app.post("/logout")
    def logout(request: Request, csrf_token: str = Form(""), session: auth.Session = Depends(web.require())):
        web.check_csrf(session, csrf_token)
        with web.database() as con:
            auth.end_session(con, request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/lang/{lang}")
    def switch_language(lang: str, next: str = "/calls"):
        response = RedirectResponse(safe_next(next), status_code=303)
        if lang in LANGS:
            web.set_cookie(response, LANG_COOKIE, lang, max_age=365 * 24 * 3600)
        return response

    @app.get("/static/{name}")
    def static_file(name: str, session: auth.Session = Depends(web.require())):
        if name not in _STATIC_FILES:
            raise HTTPException(404, "no such file")
        return FileResponse(HERE / "static" / name, media_type=_STATIC_FILES[name])
