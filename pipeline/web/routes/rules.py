"""The rule editor (issue 30 #1): call categories written by admins and managers without code.

``GET /rules`` lists the rules in force and shows the editor (``?name=`` opens a rule, with its
versions); ``POST /rules`` previews the rule on the last calls, adds a condition row, or saves a
new version (who and when are stored: :func:`pipeline.casework.categories.save_rule`);
``POST /rules/apply`` back-applies every rule in force to the stored calls. Who may use them is
:data:`pipeline.access.ROLES`' ``rules`` column (units never: the gate's unit fence, too).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from pipeline import access
from pipeline.analysis.rules import CALLLOG_FIELDS, METRICS, NAME_RE, Rule, RuleError
from pipeline.casework import categories
from pipeline.clock import m_ss
from pipeline.i18n import translator
from pipeline.report import reports
from pipeline.warehouse import rules as rule_store
from pipeline.web import auth, rule_form
from pipeline.web.context import WebContext

PREVIEW_CALLS = 500  # calls a preview looks at: "khớp X trên Y cuộc gần nhất"
PREVIEW_EXAMPLES = 8
APPLY_BUDGET_S = 5.0  # s of back-applying per request (then it stops after its chunk of 500 calls; "continue" goes on)


def register(app: FastAPI, web: WebContext) -> None:
    editors = Depends(web.require(*access.rule_roles()))

    def page(request: Request, session: auth.Session, form: rule_form.RuleForm, *, status: int = 200,
             error: str | None = None, trial=None, notice: str | None = None,
             apply_more: tuple[int, int] | None = None):
        with web.database() as con:
            rules = categories.rules_in_force(con)
            counts = rule_store.hits_per_rule(con)
            history = rule_store.rule_history(con, form.name) if form.name else []
        editing = bool(form.name) and any(r.name == form.name for r in rules)  # an existing rule, not a new one
        lang = web.lang_of(request)
        complex_lines = (rule_form.describe(json.loads(form.complex_json), translator(lang), reports.topic_labels(lang))
                         if form.complex_json else [])
        return web.render(request, "rules.html", session, status=status, rules=rules, counts=counts, form=form,
                          history=history, editing=editing, error=error, trial=trial, notice=notice, kinds=rule_form.FORM_KINDS,
                          pii_kinds=rule_form.PII_KINDS, sentiments=rule_form.SENTIMENTS, metrics=METRICS,
                          calllog_fields=CALLLOG_FIELDS, preview_calls=PREVIEW_CALLS, mss=m_ss,
                          complex_lines=complex_lines, apply_more=apply_more)

    @app.get("/rules", response_class=HTMLResponse)
    def rules_page(request: Request, session: auth.Session = editors):
        q = request.query_params
        name = (q.get("name") or "")[:63]
        t = translator(web.lang_of(request))
        form = rule_form.blank_form()
        if name:
            with web.database() as con:
                try:
                    form = rule_form.form_of(categories.find_rule(con, name))
                except RuleError:
                    raise HTTPException(404, t("not_found")) from None
        notice = None
        def count(key: str) -> int | None:  # a small plain count, else None (a hostile value is ignored)
            value = q.get(key) or ""
            return int(value) if re.fullmatch(r"[0-9]{1,9}", value) else None

        if count("saved") is not None and name:
            notice = t("rf_saved", name=name, version=count("saved"))
        elif count("applied") is not None:
            notice = t("rf_applied", n=count("applied"), hits=count("hits") or 0)
            if count("left"):
                notice += " " + t("rf_applied_left", left=count("left"))
        more = (count("applied"), count("hits") or 0) if count("left") and count("applied") else None
        return page(request, session, form, notice=notice, apply_more=more)

    @app.post("/rules", response_class=HTMLResponse)
    async def rules_post(request: Request, session: auth.Session = editors):
        fields = await request.form()
        web.check_csrf(session, fields.get("csrf_token"))
        form = rule_form.form_from_fields(fields, fields.getlist)
        t = translator(web.lang_of(request))
        action = fields.get("action")
        if action == "add":
            if len(form.rows) < rule_form.MAX_ROWS:
                form.rows.append(rule_form.Row())
            return page(request, session, form)
        if not form.name:
            form.name = rule_form.slug(form.title)
        try:
            if not form.title:
                raise rule_form.FormError("rf_err_title")
            if not NAME_RE.match(form.name):
                raise rule_form.FormError("rf_err_name", name=form.name)
            rule = Rule(name=form.name, title=form.title, condition=rule_form.condition_of(form), urgent=form.urgent,
                        enabled=form.enabled)
        except rule_form.FormError as exc:
            return page(request, session, form, status=400, error=t(exc.key, **exc.values))
        if action == "save":
            with web.database() as con:
                saved = categories.save_rule(con, rule, session.user.name)
            return RedirectResponse("/rules?" + urlencode({"name": saved.name, "saved": saved.version}),
                                    status_code=303)
        with web.database() as con:
            trial = categories.try_rule(con, replace(rule, enabled=True), last=PREVIEW_CALLS,
                                        n_examples=PREVIEW_EXAMPLES)
        return page(request, session, form, trial=trial)

    @app.post("/rules/apply")
    async def rules_apply(request: Request, session: auth.Session = editors):
        fields = await request.form()
        web.check_csrf(session, fields.get("csrf_token"))

        def number(key: str) -> int:  # a hostile value counts as 0 (starts from the top)
            value = str(fields.get(key) or "0")
            return int(value) if re.fullmatch(r"[0-9]{1,9}", value) else 0

        start = number("start")
        def apply():  # bounded: a large warehouse is back-applied over several requests
            with web.database() as con:
                return categories.apply_rules(con, start=start, budget_s=APPLY_BUDGET_S)

        done = await run_in_threadpool(apply)  # off the event loop: other requests are served meanwhile
        query = {"applied": start + done.n_calls, "hits": (number("hits") if start else 0) + done.n_hits}
        if done.n_left:
            query["left"] = done.n_left
        return RedirectResponse("/rules?" + urlencode(query), status_code=303)
