"""The evaluation scorecard (issue 29): QA's evaluation answers per operator and criterion over a period, and
the calls behind each cell (:mod:`pipeline.report.scorecard`). Managers and admins, as the dashboard; closed
to units (not in :data:`pipeline.access.UNIT_ROUTES`)."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse

from pipeline.report import scorecard as sc
from pipeline.web import auth
from pipeline.web.context import WebContext

ANSWERS = ("met", "not_met", "na")


def register(app: FastAPI, web: WebContext) -> None:
    @app.get("/scorecard", response_class=HTMLResponse)
    def scorecard_page(request: Request, session: auth.Session = Depends(web.require(*web.opts.dashboard_roles))):
        start, end = web.period_from(request)
        if start > end:
            start, end = end, start
        q = request.query_params
        operator = (q.get("operator") or "")[:40] or None
        item = q.get("item") if q.get("item") in sc.ITEMS else None
        answer = q.get("answer") if q.get("answer") in ANSWERS else None
        with web.database() as con:
            rows, totals = sc.scorecard(con, start, end)
            drill = sc.evaluated_calls(con, start, end, operator=operator, item=item, answer=answer) \
                if (operator or item or answer) else []
        return web.render(request, "scorecard.html", session, start=start, end=end, rows=rows, totals=totals,
                          items=sc.ITEMS, empty=sc.Cell(), total_all=sum(totals.values(), sc.Cell()), percent=sc.percent,
                          operator=operator, item=item, answer=answer, drill=drill)
