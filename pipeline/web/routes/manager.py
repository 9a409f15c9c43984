"""Managers' pages: the dashboard and the call exports."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from pipeline.clock import m_ss
from pipeline.errors import HotlineError
from pipeline.report import documents, exports, reports
from pipeline.warehouse import rules as rule_store
from pipeline.web import auth, data, qa
from pipeline.web.context import WebContext


def register(app: FastAPI, web: WebContext) -> None:
    @app.get("/dashboard", response_class=HTMLResponse)
    def dashboard(request: Request, session: auth.Session = Depends(web.require(*web.opts.dashboard_roles))):
        start, end = web.period_from(request)
        lang = web.lang_of(request)
        bad_period = start > end
        if bad_period:
            start, end = end, start
        with web.database() as con:
            view = reports.dashboard(con, start, end, lang=lang)
            view["frustration"] = reports.frustration_trends(con, start, end)  # issue 16
            # QA's topic corrections count by the day they were made (issue 29). The default period ends on the
            # last call's day, so corrections made since then never showed: without an explicit "to" they count
            # up to today.
            corrections_end = end if request.query_params.get("to") else max(end, date.today())
            view["corrections"] = reports.correction_summary(con, start, corrections_end)
            view["corrections_window"] = (start, corrections_end)
            view["categories"] = rule_store.category_counts(con, start, end)  # issue 30: calls per category
        presets = reports.period_presets(date.today(), lang)
        return web.render(request, "dashboard.html", session, start=start, end=end, bad_period=bad_period, presets=presets,
                          fmt_change=reports.format_change, m_ss=m_ss, calls_url=reports.calls_url,
                          fmt=lambda v, d=1: qa.fmt_num(v, d, lang), **view)

    @app.get("/report.{fmt}")
    def report(request: Request, fmt: str, session: auth.Session = Depends(web.require(*web.opts.dashboard_roles))):
        if fmt not in ("pdf", "html", "docx"):
            raise HTTPException(404, "report.pdf, report.html or report.docx")
        start, end = web.period_from(request)
        if start > end:
            raise HTTPException(400, f"from {start} is after to {end}")
        lang = web.lang_of(request)
        name = exports.export_filename(start, end, fmt, lang=lang, what="report")
        official = request.query_params.get("form") == "official"  # /report.pdf?form=official
        if fmt == "docx" or (fmt == "pdf" and official):  # the official document (Nghị định 30/2020/NĐ-CP)
            with web.database() as con:
                doc = reports.period_document(con, start, end, agency=web.settings.agency_name, lang=lang)
            body = documents.to_docx(doc, documents.Issuer.from_settings(web.settings), lang=lang)
            if fmt == "docx":
                return Response(body, media_type=documents.DOCX_TYPE, headers=attachment(name))
            try:
                body = documents.docx_to_pdf(body)
            except HotlineError as exc:
                raise HTTPException(503, str(exc)) from None
            return Response(body, media_type="application/pdf", headers=attachment(name))
        with web.database() as con:
            html = reports.render_report(con, start, end, lang=lang, agency=web.settings.agency_name,
                                         caller_reference=web.view(session).caller_reference)
        if fmt == "html":
            return Response(html, media_type="text/html; charset=utf-8", headers=attachment(name))
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / name
            try:
                reports.html_to_pdf(html, out)
            except HotlineError as exc:
                raise HTTPException(503, str(exc)) from None
            body = out.read_bytes()
        return Response(body, media_type="application/pdf", headers=attachment(name))

    def export_rows(request: Request) -> tuple[list[dict], data.CallFilters]:
        f = web.filters_from(request)
        with web.database() as con:
            rows, _ = data.list_calls(con, f, limit=1_000_000)
            rows = exports.enrich(con, rows)
        return rows, f

    def used_filters(f: data.CallFilters) -> dict:
        return {"topic": f.topic, "place": f.place, "operator": f.operator, "q": f.q.strip() or None,
                "urgent": f.urgent, "needs_review": f.needs_review, "queue": f.queue, "category": f.category,
                "hour": None if f.hour is None else f"{f.hour:02d}"}  # a string: hour 0 is a filter too

    def attachment(name: str) -> dict:
        return {"Content-Disposition": f'attachment; filename="{name}"'}

    @app.get("/export.csv")
    def export_csv(request: Request, session: auth.Session = Depends(web.require(*web.opts.export_roles))):
        rows, f = export_rows(request)
        lang = web.lang_of(request)
        name = exports.export_filename(f.start, f.end, "csv", lang=lang, filters=used_filters(f))
        body = data.export_csv(rows, lang=lang, caller_reference=web.view(session).caller_reference)
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers=attachment(name))

    @app.get("/export.xlsx")
    def export_xlsx(request: Request, session: auth.Session = Depends(web.require(*web.opts.export_roles))):
        rows, f = export_rows(request)
        lang = web.lang_of(request)
        used = used_filters(f)
        name = exports.export_filename(f.start, f.end, "xlsx", lang=lang, filters=used)
        text = ", ".join(f"{k}={v}" for k, v in used.items() if v)
        body = data.export_xlsx(rows, lang=lang, start=f.start, end=f.end, filters_text=text,
                                caller_reference=web.view(session).caller_reference)
        return Response(body,
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers=attachment(name))
