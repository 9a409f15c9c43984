"""Cases (phiếu phản ánh): list, one case, its lifecycle actions, merge proposals, callbacks, report.

Role ``unit`` users may use these routes only (:data:`pipeline.access.UNIT_ROUTES`; the fence
is :class:`pipeline.web.security.SessionGate`): every other page, API and the audio answer them
403 (``/`` and ``/calls`` send them to ``/cases``), and a case of another unit is a 404,
by page and by API alike, so its existence does not show either.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pipeline.casework import cases
from pipeline.errors import HotlineError
from pipeline.i18n import translator
from pipeline.report import case_reports, documents, exports
from pipeline.warehouse.cases import case_id_of_call
from pipeline.web import auth, qa
from pipeline.web.context import WebContext, jsonable, parse_date


class _NeedsConfirmation(Exception):
    """A reopen posted without its confirmation box ticked."""


def register(app: FastAPI, web: WebContext) -> None:
    def actor(session: auth.Session) -> cases.Actor:
        with web.database() as con:
            return replace(cases.actor_for(con, session.user.name, session.user.role), lines=session.user.lines)

    def filters(request: Request) -> dict:
        q = request.query_params
        return {"status": q.get("status") or "open", "unit": q.get("unit") or None,
                "overdue": q.get("overdue") in ("1", "on", "true"), "kind": q.get("kind") or None}

    def not_found(request: Request):
        return HTTPException(404, translator(web.lang_of(request))("not_found"))

    @app.get("/cases", response_class=HTMLResponse)
    def cases_page(request: Request, session: auth.Session = Depends(web.require())):
        a, f = actor(session), filters(request)
        with web.database() as con:
            rows = cases.list_cases(con, a, status=None if f["status"] == "all" else f["status"], unit=f["unit"],
                                    overdue=f["overdue"], kind=f["kind"])
            unit_names = cases.units(con) if a.role != cases.UNIT_ROLE else []
            waiting = len(cases.proposals(con, waiting_only=True)) if a.role in cases.STAFF else 0
            moved_away = cases.moved_away_notices(con, a)  # a unit's member: cases re-routed away from the unit
        return web.render(request, "cases.html", session, view="list", rows=rows, f=f, units=unit_names, me=a,
                          waiting=waiting, moved_away=moved_away, filter_qs=urlencode({k: v for k, v in request.query_params.items()}))

    @app.get("/api/cases")
    def cases_api(request: Request, session: auth.Session = Depends(web.require())):
        a, f = actor(session), filters(request)
        with web.database() as con:
            rows = cases.list_cases(con, a, status=None if f["status"] == "all" else f["status"], unit=f["unit"],
                                    overdue=f["overdue"], kind=f["kind"])
        return {"cases": [jsonable(r) for r in rows]}

    @app.get("/cases/proposals", response_class=HTMLResponse)
    def proposals_page(request: Request, session: auth.Session = Depends(web.require(*cases.STAFF))):
        with web.database() as con:
            rows = cases.proposals(con, waiting_only=request.query_params.get("all") != "1")
        return web.render(request, "cases.html", session, view="proposals", proposals=rows, me=actor(session))

    @app.get("/cases/callbacks", response_class=HTMLResponse)
    def callbacks_page(request: Request, session: auth.Session = Depends(web.require(*cases.READ_ALL))):
        a = actor(session)
        with web.database() as con:
            rows = cases.callbacks(con, a, raw_text=web.raw_text(session))
        return web.render(request, "cases.html", session, view="callbacks", callbacks=rows, me=a)

    @app.get("/cases/report", response_class=HTMLResponse)
    def report_page(request: Request, session: auth.Session = Depends(web.require(*cases.READ_ALL))):
        week = parse_date(request.query_params.get("week"))
        unit = request.query_params.get("unit") or None
        with web.database() as con:
            units_rows, totals = case_reports.by_unit(con), case_reports.totals(con)
            weekly = case_reports.weekly(con, week, unit)
        return web.render(request, "cases.html", session, view="report", by_unit=units_rows, totals=totals,
                          weekly=weekly, week=week, unit=unit, me=actor(session),
                          fmt=lambda v, d=1: qa.fmt_num(v, d, web.lang_of(request)))

    @app.get("/cases/report.{fmt}")
    def report_document(request: Request, fmt: str, session: auth.Session = Depends(web.require(*cases.READ_ALL))):
        """The case report as an official document (.docx; .pdf through LibreOffice when installed)."""
        if fmt not in ("docx", "pdf"):
            raise HTTPException(404, "report.docx or report.pdf")
        week = parse_date(request.query_params.get("week"))
        unit = request.query_params.get("unit") or None
        lang = web.lang_of(request)
        with web.database() as con:
            doc = case_reports.case_document(con, agency=web.settings.agency_name, unit=unit, week=week,
                                             raw_text=web.raw_text(session), lang=lang)
        issuer = documents.Issuer.from_settings(web.settings, extra_recipients=[unit] if unit else ())
        body = documents.to_docx(doc, issuer, lang=lang)
        name = "phieu-phan-anh" + (f"_{exports.slug(unit)}" if unit else "") + (f"_{week.isoformat()}" if week else "")
        if fmt == "pdf":
            try:
                body = documents.docx_to_pdf(body)
            except HotlineError as exc:
                raise HTTPException(503, str(exc)) from None
        return Response(body, media_type=documents.DOCX_TYPE if fmt == "docx" else "application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})

    @app.get("/cases/export.csv")
    def export_weekly(request: Request, session: auth.Session = Depends(web.require(*cases.READ_ALL))):
        week = parse_date(request.query_params.get("week"))
        with web.database() as con:
            rows = case_reports.weekly(con, week, request.query_params.get("unit") or None)
        body = case_reports.weekly_csv(rows, raw_text=web.raw_text(session), lang=web.lang_of(request))
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="phieu-phan-anh_danh-sach-tuan.csv"'})

    @app.get("/cases/of-call/{call_id}")
    def case_of_call(request: Request, call_id: str, session: auth.Session = Depends(web.require())):
        a = actor(session)
        with web.database() as con:
            case_id = case_id_of_call(con, call_id)
            case = cases.get_case(con, case_id, a) if case_id else None
        if case is None:
            raise not_found(request)
        return RedirectResponse(f"/cases/{case['case_id']}", status_code=303)

    @app.get("/cases/{case_id}", response_class=HTMLResponse)
    def case_page(request: Request, case_id: str, session: auth.Session = Depends(web.require())):
        a = actor(session)
        with web.database() as con:
            case = cases.get_case(con, case_id, a, raw_text=web.raw_text(session))
            unit_names = cases.units(con) if a.role in cases.STAFF else []
        if case is None:
            raise not_found(request)
        t = translator(web.lang_of(request))
        q = request.query_params
        ok = None
        if q.get("ok") == "status" and q.get("from") in cases.STATUSES and q.get("to") in cases.STATUSES:
            ok = t("case_ok_status", frm=t("case_status_" + q["from"]), to=t("case_status_" + q["to"]))
        elif q.get("ok") in ("unit", "place", "saved"):
            ok = t("case_ok_" + q["ok"])
        error = t(q["error"]) if q.get("error") in ("case_err_choose", "case_err_confirm_reopen") else None
        return web.render(request, "case.html", session, case=case, me=a, units=unit_names,
                          staff=a.role in cases.STAFF, error=error, ok=ok)

    @app.get("/api/cases/{case_id}")
    def case_api(request: Request, case_id: str, session: auth.Session = Depends(web.require())):
        with web.database() as con:
            case = cases.get_case(con, case_id, actor(session), raw_text=web.raw_text(session))
        if case is None:
            raise HTTPException(404, "no such case")
        return jsonable(case)

    def act(request: Request, session: auth.Session, case_id: str, csrf_token: str, fn, ok: str = "saved"):
        """Run ``fn(con, actor, case)`` on a case the user may see; back to its page with a success message
        (``ok``: a query string, or a function of the case before the change returning one)."""
        web.check_csrf(session, csrf_token)
        a = actor(session)
        with web.database() as con:
            case = cases.get_case(con, case_id, a)
            if case is None:
                raise not_found(request)
            try:
                fn(con, a, case)
            except cases.NotAllowed as exc:
                raise HTTPException(403, str(exc)) from None
            except cases.CaseError as exc:
                raise HTTPException(400, str(exc)) from None
        query = ok(case) if callable(ok) else urlencode({"ok": ok})
        return RedirectResponse(f"/cases/{case_id}?{query}", status_code=303)

    @app.post("/cases/{case_id}/status")
    def change_status(request: Request, case_id: str, to: str = Form(""), note: str = Form(""), result: str = Form(""),
                      confirm_reopen: str = Form(""), csrf_token: str = Form(""),
                      session: auth.Session = Depends(web.require())):
        if not to:  # the form's placeholder: nothing chosen, nothing done (issue 29)
            web.check_csrf(session, csrf_token)
            return RedirectResponse(f"/cases/{case_id}?error=case_err_choose", status_code=303)

        def go(con, a, case):
            # Reopening a finished case takes a ticked confirmation, never one stray click (issue 29).
            if (case["status"], to) in cases.REOPENS and not confirm_reopen:
                raise _NeedsConfirmation
            cases.transition(con, case_id, to, a, note=note[:2000], result=result[:4000])

        try:
            return act(request, session, case_id, csrf_token, go,
                       ok=lambda case: urlencode({"ok": "status", "from": case["status"], "to": to}))
        except _NeedsConfirmation:
            return RedirectResponse(f"/cases/{case_id}?error=case_err_confirm_reopen", status_code=303)

    @app.post("/cases/{case_id}/unit")
    def change_unit(request: Request, case_id: str, unit: str = Form(...), note: str = Form(""),
                    csrf_token: str = Form(""), session: auth.Session = Depends(web.require())):
        return act(request, session, case_id, csrf_token,
                   lambda con, a, _: cases.set_unit(con, case_id, unit[:300], a, note), ok="unit")

    @app.post("/cases/{case_id}/place")
    def change_place(request: Request, case_id: str, place: str = Form(...), note: str = Form(""),
                     csrf_token: str = Form(""), session: auth.Session = Depends(web.require())):
        return act(request, session, case_id, csrf_token,
                   lambda con, a, _: cases.set_place(con, case_id, place[:300], a, note), ok="place")

    @app.post("/cases/{case_id}/proposal")
    def decide(request: Request, case_id: str, into: str = Form(...), decision: str = Form(...),
               csrf_token: str = Form(""), session: auth.Session = Depends(web.require())):
        return act(request, session, case_id, csrf_token,
                   lambda con, a, _: cases.decide_proposal(con, case_id, into, decision, a))

    @app.post("/cases/{case_id}/merge")
    def merge_by_hand(request: Request, case_id: str, into: str = Form(...), csrf_token: str = Form(""),
                      session: auth.Session = Depends(web.require())):
        into = into.strip()
        if into and not into.startswith("PA-"):
            into = "PA-" + into
        return act(request, session, case_id, csrf_token, lambda con, a, _: cases.merge(con, case_id, into, a))

    @app.post("/cases/{case_id}/split")
    def split(request: Request, case_id: str, call_id: str = Form(...), csrf_token: str = Form(""),
              session: auth.Session = Depends(web.require())):
        return act(request, session, case_id, csrf_token, lambda con, a, _: cases.split_call(con, case_id, call_id, a))
