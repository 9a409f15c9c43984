"""Alerts in the app (issue 30 #2): the list behind the header's bell, acknowledging, and one's own
e-mail subscription.

Who sees which alert is :func:`pipeline.casework.alerts.scope_of`: staff every kind, a unit's
member only its own unit's overdue alerts (none when the account has no unit); another unit's
alert is a 404 by page, API and acknowledgement alike. Forms carry the session's CSRF token.
Acknowledging is audited (``alert_events``: who, when, note).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pipeline.casework import alerts, cases
from pipeline.i18n import translator
from pipeline.web import auth
from pipeline.web.context import WebContext, jsonable


def scope_for(con, session: auth.Session) -> alerts.Scope:
    """The alerts the session's user may see."""
    actor = cases.actor_for(con, session.user.name, session.user.role)
    return alerts.scope_of(actor.role, actor.unit)


def register(app: FastAPI, web: WebContext) -> None:
    def not_found(request: Request):
        return HTTPException(404, translator(web.lang_of(request))("not_found"))

    @app.get("/alerts", response_class=HTMLResponse)
    def alerts_page(request: Request, session: auth.Session = Depends(web.require())):
        with web.database() as con:
            scope = scope_for(con, session)
            rows = alerts.visible(con, scope, session.user.name)
            sub = alerts.subscription_of(con, session.user.name)
            alerts.mark_read(con, [r["alert_id"] for r in rows if not r["is_read"]], session.user.name)
        return web.render(request, "alerts.html", session, rows=rows, scope=scope, sub=sub, bell=0,
                          saved=request.query_params.get("saved") == "1", kinds=alerts.KINDS)

    @app.get("/api/alerts")
    def alerts_api(request: Request, session: auth.Session = Depends(web.require())):
        with web.database() as con:
            scope = scope_for(con, session)
            rows = alerts.visible(con, scope, session.user.name)
            unread = alerts.unread_count(con, scope, session.user.name)
        return {"unread": unread, "alerts": [jsonable(r) for r in rows]}

    @app.post("/alerts/{alert_id}/ack")
    def acknowledge(request: Request, alert_id: str, note: str = Form(""), csrf_token: str = Form(""),
                    session: auth.Session = Depends(web.require())):
        web.check_csrf(session, csrf_token)
        with web.database() as con:
            if not alerts.acknowledge(con, alert_id[:200], scope_for(con, session), session.user.name, note):
                raise not_found(request)
        return RedirectResponse("/alerts", status_code=303)

    @app.post("/alerts/subscription")
    def subscribe(request: Request, email: str = Form(""), kind: list[str] = Form([]), categories: str = Form(""),
                  quiet_from: str = Form(""), quiet_to: str = Form(""), csrf_token: str = Form(""),
                  session: auth.Session = Depends(web.require())):
        web.check_csrf(session, csrf_token)
        with web.database() as con:
            scope = scope_for(con, session)
            try:  # a unit may only ask for what it may see
                alerts.save_subscription(con, session.user.name, email=email[:200] or None,
                                         kinds=[k for k in kind if k in scope.kinds],
                                         categories=categories[:500].split(","), quiet_from=quiet_from[:5] or None,
                                         quiet_to=quiet_to[:5] or None)
            except (ValueError, alerts.AlertSendError) as exc:
                raise HTTPException(400, str(exc)) from None
        return RedirectResponse("/alerts?saved=1", status_code=303)
