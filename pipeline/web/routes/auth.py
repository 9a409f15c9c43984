"""Log-in, log-out, the language switch and the app's own static files."""

from __future__ import annotations

import secrets

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from pipeline.web import auth
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
    def login(request: Request, username: str = Form(...), password: str = Form(...), csrf_token: str = Form(""),
              next: str = Form("/calls")):
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not auth.tokens_equal(cookie, csrf_token):
            raise HTTPException(403, "CSRF token missing or wrong: reload the log-in page and try again")
        t = translator(web.lang_of(request))
        name = auth.normalise_name(username)
        locked, stored = False, None
        if name is not None:
            with web.database() as con:
                locked = auth.is_locked(con, name, web.opts.auth)
                stored = None if locked else auth.stored_login(con, name)
        # The scrypt work (tens of ms) runs here, without the database: other requests go on.
        user = None if locked or name is None else auth.check_login(name, password, stored)
        with web.database() as con:
            if name is not None and not locked:
                auth.record_attempt(con, name, user is not None)
            if user is None:
                locked = locked or (name is not None and auth.is_locked(con, name, web.opts.auth))
                error = t("locked", minutes=int(web.opts.auth.lockout_minutes)) if locked else t("bad_login")
                return web.render(request, "login.html", None, status=429 if locked else 401, csrf=cookie,
                                  next=safe_next(next), error=error)
            token = auth.create_session(con, user, web.opts.auth)
        target = safe_next(next)
        if target == "/calls" and user.role == "qa":  # the default target: QA staff land on their queue
            target = "/calls?queue=1"
        response = RedirectResponse(target, status_code=303)
        web.set_cookie(response, SESSION_COOKIE, token, max_age=int(web.opts.auth.session_hours * 3600))
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
