"""The province page (issue 32 item 4): one picture over several centres' installations.

Reads the province warehouse's copy of each site (``hotline sites refresh``; pipeline/warehouse/sites.py):
counts by site × line × month × topic × ward/commune and open cases per site and handling unit, filtered
by site and line. Aggregates only, no call and no caller data (none is copied). The dashboard roles may
open it; units and users scoped to lines may not (absent from :data:`pipeline.access.UNIT_ROUTES` and
:data:`pipeline.access.LINE_ROUTES`: the gate refuses them, failing closed).
"""

from __future__ import annotations

from datetime import date

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse

from pipeline.warehouse import sites as site_store
from pipeline.web import auth
from pipeline.web.context import WebContext, checked_date

ROWS_SHOWN = 200  # the counts table shows the largest cells; the filters narrow it


def register(app: FastAPI, web: WebContext) -> None:
    @app.get("/province", response_class=HTMLResponse)
    def province_page(request: Request, session: auth.Session = Depends(web.require(*web.opts.dashboard_roles))):
        q = request.query_params
        lang = web.lang_of(request)
        with web.database() as con:
            registered = site_store.list_sites(con)
            pairs = site_store.province_lines(con)
            lo, hi = site_store.province_period(con)
            known_sites = {r["site"] for r in registered}
            known_lines = {line for _, line in pairs}
            # Only known keys become filters: anything else in the query string is ignored, never echoed.
            chosen_sites = [s for s in q.getlist("site") if s in known_sites]
            chosen_lines = [ln for ln in q.getlist("line") if ln in known_lines]
            start = checked_date(q.get("from"), "from", lang) or lo or date.today()
            end = checked_date(q.get("to"), "to", lang) or hi or date.today()
            if start > end:
                start, end = end, start
            totals = site_store.province_totals(con, start, end, sites=chosen_sites, lines=chosen_lines)
            counts = site_store.province_counts(con, start, end, sites=chosen_sites, lines=chosen_lines)
            open_cases = site_store.province_open_cases(con, today=date.today(), sites=chosen_sites,
                                                        lines=chosen_lines)
        names = {r["site"]: r["name"] for r in registered}
        return web.render(request, "province.html", session, sites=registered, site_names=names,
                          lines=sorted(known_lines), chosen_sites=chosen_sites, chosen_lines=chosen_lines,
                          start=start, end=end, totals=totals, counts=counts[:ROWS_SHOWN], n_cells=len(counts),
                          open_cases=open_cases, n_calls=sum(t["n_calls"] for t in totals))
