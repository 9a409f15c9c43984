"""Managers' pages: the dashboard and the call exports."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from pipeline import reports
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

    def export_rows(request: Request) -> list[dict]:
        with web.database() as con:
            rows, _ = data.list_calls(con, web.filters_from(request), limit=1_000_000)
        return rows

    @app.get("/export.csv")
    def export_csv(request: Request, session: auth.Session = Depends(web.require(*web.opts.export_roles))):
        return Response(data.export_csv(export_rows(request)), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="calls.csv"'})

    @app.get("/export.xlsx")
    def export_xlsx(request: Request, session: auth.Session = Depends(web.require(*web.opts.export_roles))):
        return Response(data.export_xlsx(export_rows(request)),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": 'attachment; filename="calls.xlsx"'})
