"""Accounts and units for admins (issue 29): list, create, disable or enable, reset a password, set the role
and unit (:mod:`pipeline.web.accounts`), rename or merge a unit (:mod:`pipeline.casework.units`). Admins only;
every form carries the CSRF token; every change is audited. Closed to units (not in
:data:`pipeline.access.UNIT_ROUTES`)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pipeline.casework import units
from pipeline.i18n import translator
from pipeline.warehouse import users as user_rows
from pipeline.web import accounts, auth
from pipeline.web.context import WebContext

ADMIN = ("admin",)
OK_KEYS = ("created", "disabled", "enabled", "password", "role", "renamed")


def register(app: FastAPI, web: WebContext) -> None:
    def page(request: Request, session: auth.Session, error: str | None = None, status: int = 200):
        t = translator(web.lang_of(request))
        q = request.query_params
        ok = t("acc_ok_" + q["ok"], name=q.get("name", "")[:64], n=q.get("n", "0")[:6]) \
            if q.get("ok") in OK_KEYS else None
        with web.database() as con:
            rows = accounts.list_accounts(con)
            events = user_rows.user_events(con, limit=30)
            valid = units.known_units(con)
            in_use = user_rows.unit_names_in_use(con)
        return web.render(request, "accounts.html", session, status=status, accounts=rows, events=events,
                          valid_units=valid, units_in_use=in_use, roles=auth.ROLES, error=error, ok=ok)

    def error_text(request: Request, exc: Exception) -> str:
        t = translator(web.lang_of(request))
        if isinstance(exc, units.UnknownUnit):
            return t("acc_err_unit", name=exc.name, close="; ".join(exc.suggestions), n=exc.n_valid)
        if isinstance(exc, accounts.AccountError):
            return t(exc.key, **exc.values)
        if isinstance(exc, auth.UnknownUser):
            return t("acc_err_no_user")
        return str(exc)

    def change(request: Request, session: auth.Session, csrf_token: str, fn, ok: dict):
        web.check_csrf(session, csrf_token)
        try:
            with web.database() as con:
                extra = fn(con) or {}
        except (accounts.AccountError, units.UnknownUnit, auth.UnknownUser) as exc:
            return page(request, session, error=error_text(request, exc), status=400)
        return RedirectResponse("/admin/users?" + urlencode({**ok, **extra}), status_code=303)

    @app.get("/admin/users", response_class=HTMLResponse)
    def accounts_page(request: Request, session: auth.Session = Depends(web.require(*ADMIN))):
        return page(request, session)

    @app.post("/admin/users")
    def create(request: Request, name: str = Form(""), role: str = Form(""), password: str = Form(""),
               unit: str = Form(""), csrf_token: str = Form(""), session: auth.Session = Depends(web.require(*ADMIN))):
        def go(con):
            created = accounts.create_account(con, session.user.name, name[:64], role, password[:256],
                                              unit[:300] or None, web.opts.auth)
            web.account_names.update(auth.account_names(con))  # the new account logs in at once
            return {"name": created}
        return change(request, session, csrf_token, go, {"ok": "created"})

    @app.post("/admin/users/{name}/disable")
    def disable(request: Request, name: str, disabled: str = Form("1"), csrf_token: str = Form(""),
                session: auth.Session = Depends(web.require(*ADMIN))):
        off = disabled == "1"
        return change(request, session, csrf_token,
                      lambda con: accounts.set_account_disabled(con, session.user.name, name, off),
                      {"ok": "disabled" if off else "enabled", "name": name})

    @app.post("/admin/users/{name}/password")
    def password(request: Request, name: str, password: str = Form(""), csrf_token: str = Form(""),
                 session: auth.Session = Depends(web.require(*ADMIN))):
        return change(request, session, csrf_token,
                      lambda con: accounts.reset_password(con, session.user.name, name, password[:256], web.opts.auth),
                      {"ok": "password", "name": name})

    @app.post("/admin/users/{name}/role")
    def role(request: Request, name: str, role: str = Form(""), unit: str = Form(""), csrf_token: str = Form(""),
             session: auth.Session = Depends(web.require(*ADMIN))):
        return change(request, session, csrf_token,
                      lambda con: accounts.set_role_and_unit(con, session.user.name, name, role, unit[:300] or None),
                      {"ok": "role", "name": name})

    @app.post("/admin/units/rename")
    def rename(request: Request, old: str = Form(""), new: str = Form(""), csrf_token: str = Form(""),
               session: auth.Session = Depends(web.require(*ADMIN))):
        def go(con):
            return {"n": len(units.rename_unit(con, old[:300], new[:300], session.user.name))}
        return change(request, session, csrf_token, go, {"ok": "renamed", "name": new[:64]})
