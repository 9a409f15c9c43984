"""New topics found in the calls (admin and manager, :data:`pipeline.access.TOPIC_DISCOVERY_ROLES`):
clusters of the calls the topic model tagged "other" or with low confidence, their key words and
example calls, and a category rule made from a cluster in one form (issue 31)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pipeline import access
from pipeline.analysis.topic_discovery import DiscoveryOptions, discover, in_pool, rule_condition
from pipeline.casework import categories
from pipeline.errors import HotlineError
from pipeline.textnorm import fold_accents
from pipeline.warehouse import topic_tags
from pipeline.web import auth
from pipeline.web.context import WebContext

EXAMPLE_CHARS = 240  # of a call's (redacted) citizen text shown as an example


@dataclass(frozen=True)
class _Score:
    topic: str
    score: float
    assigned: bool


def _slug(words) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", fold_accents(" ".join(words[:2])).lower()).strip("-")
    return f"moi-{slug or 'cum'}"[:40]


def register(app: FastAPI, web: WebContext) -> None:
    allowed = Depends(web.require(*access.TOPIC_DISCOVERY_ROLES))

    @app.get("/topics/discover", response_class=HTMLResponse)
    def discover_page(request: Request, session: auth.Session = allowed):
        end = date.today()
        start = end - timedelta(days=30)
        start, end = web.period_from(request) if "from" in request.query_params else (start, end)
        with web.database() as con:
            calls = topic_tags.discovery_calls(con, start, end)
        opts = DiscoveryOptions()
        pool = [(cid, at, text) for cid, at, text, scores in calls
                if text.strip() and in_pool([_Score(*s) for s in scores], low_confidence=opts.low_confidence)]
        clusters = discover([text for _, _, text in pool], options=opts)
        shown = []
        for n, c in enumerate(clusters, start=1):
            condition = rule_condition(c)
            shown.append({
                "n": n, "size": c.size, "key_words": c.key_words, "cohesion": c.cohesion,
                "examples": [{"call_id": pool[i][0], "at": pool[i][1], "text": pool[i][2][:EXAMPLE_CHARS]}
                             for i in c.members[:opts.examples]],
                "rule_name": _slug(c.key_words), "title": ", ".join(c.key_words[:3]),
                "condition": json.dumps(condition, ensure_ascii=False),
            })
        return web.render(request, "topic_discovery.html", session, start=start, end=end, n_calls=len(calls),
                          n_pool=len(pool), clusters=shown, saved=request.query_params.get("saved"),
                          error=request.query_params.get("error"))

    @app.post("/topics/discover/rule")
    def make_rule(request: Request, name: str = Form(""), title: str = Form(""), condition: str = Form(""),
                  csrf_token: str = Form(""), session: auth.Session = allowed):
        web.check_csrf(session, csrf_token)
        try:
            rule = categories.draft_rule(name.strip(), condition, title=title.strip(), urgent=False)
            with web.database() as con:
                saved = categories.save_rule(con, rule, session.user.name)
        except HotlineError as exc:
            return RedirectResponse("/topics/discover?" + urlencode({"error": str(exc)[:300]}), status_code=303)
        return RedirectResponse("/topics/discover?" + urlencode({"saved": f"{saved.name} v{saved.version}"}),
                                status_code=303)
