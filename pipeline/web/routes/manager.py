"""Managers' pages: the dashboard and the call exports."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from pipeline import exports, reports
from pipeline.web import auth, data
from pipeline.web.context import WebContext


def register(app: FastAPI, web: WebContext) -> None:
    @app.get("/dashboard", response_class=HTMLResponse)
    def dashboard(request: Request, session: auth.Session = Depends(web.require(*web.opts.dashboard_roles))):
        start, end = web.period_from(request)
        lang = web.lang_of(request)
        with web.database() as con:
            charts = reports.dashboard_charts(con, start, end, lang=lang)
            totals = reports.period_totals(con, start, end)
            backlog = reports.review_backlog(con)
            queue = reports.review_queue(con, limit=15)
            operators = reports.operator_summary(con, start, end)
        return web.render(request, "dashboard.html", session, charts=charts, totals=totals, backlog=backlog, queue=queue,
                      operators=operators, start=start, end=end)

    def export_rows(request: Request) -> tuple[list[dict], data.CallFilters]:
        f = web.filters_from(request)
        with web.database() as con:
            rows, _ = data.list_calls(con, f, limit=1_000_000)
            rows = exports.enrich(con, rows)
        return rows, f

    def used_filters(f: data.CallFilters) -> dict:
        return {"topic": f.topic, "place": f.place, "operator": f.operator, "q": f.q.strip() or None,
                "urgent": f.urgent, "needs_review": f.needs_review, "queue": f.queue}

    def attachment(name: str) -> dict:
        return {"Content-Disposition": f'attachment; filename="{name}"'}

    @app.get("/export.csv")
    def export_csv(request: Request, session: auth.Session = Depends(web.require(*web.opts.export_roles))):
        rows, f = export_rows(request)
        lang = web.lang_of(request)
        name = exports.export_filename(f.start, f.end, "csv", lang=lang, filters=used_filters(f))
        return Response(data.export_csv(rows, lang=lang), media_type="text/csv; charset=utf-8",
                        headers=attachment(name))

    @app.get("/export.xlsx")
    def export_xlsx(request: Request, session: auth.Session = Depends(web.require(*web.opts.export_roles))):
        rows, f = export_rows(request)
        lang = web.lang_of(request)
        used = used_filters(f)
        name = exports.export_filename(f.start, f.end, "xlsx", lang=lang, filters=used)
        text = ", ".join(f"{k}={v}" for k, v in used.items() if v)
        return Response(data.export_xlsx(rows, lang=lang, start=f.start, end=f.end, filters_text=text),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers=attachment(name))
