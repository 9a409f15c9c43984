"""QA's pages: the call list and its API, one call, corrections, the audio."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from pipeline import access
from pipeline.clock import m_ss
from pipeline.i18n import translator
from pipeline.stages import audio_redaction
from pipeline.warehouse import calls, search
from pipeline.warehouse.qa_workspace import call_exists, in_review_queue
from pipeline.web import audio as redacted_audio
from pipeline.web import auth, claims, data, qa
from pipeline.web.context import WebContext, jsonable

MAX_PAGE = 1_000_000  # a page number past this is the last page anyway (a huge one overflowed the OFFSET)
_AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".ogg": "audio/ogg"}


def register(app: FastAPI, web: WebContext) -> None:
    _redacted = redacted_audio.RedactedAudioCache()

    @app.get("/")
    def home(session: auth.Session = Depends(web.require())):
        # QA staff land on their queue; managers on the dashboard.
        target = {"manager": "/dashboard", "qa": "/calls?queue=1"}.get(session.user.role, "/calls")
        return RedirectResponse(target, status_code=303)

    @app.get("/calls", response_class=HTMLResponse)
    def calls_page(request: Request, page: int = 1, session: auth.Session = Depends(web.require())):
        f = web.filters_from(request)
        page = min(max(page, 1), MAX_PAGE)
        with web.database() as con:
            rows, total = data.list_calls(con, f, limit=web.opts.page_size, offset=(page - 1) * web.opts.page_size)
            choices = data.filter_options(con)
            held = claims.live_claims(con)  # issue 29: "đang được … xem"
        params = {k: v for k, v in request.query_params.items() if k != "page"}
        without_hour = urlencode({k: v for k, v in params.items() if k != "hour"})  # the hour chip's remove link
        return web.render(request, "calls.html", session, rows=rows, total=total, f=f, choices=choices, page=page,
                      pages=max(1, -(-total // web.opts.page_size)), filter_qs=urlencode(params),
                      without_hour_qs=without_hour,
                      mark=search.mark_matches, mss=m_ss, call_qs=urlencode({"q": f.q}) if f.q.strip() else "",
                      claims={k: v for k, v in held.items() if v != session.user.name},
                      claim_minutes=claims.CLAIM_MINUTES)

    @app.get("/api/calls")
    def calls_api(request: Request, page: int = 1, session: auth.Session = Depends(web.require())):
        page = min(max(page, 1), MAX_PAGE)
        with web.database() as con:
            rows, total = data.list_calls(con, web.filters_from(request), limit=web.opts.page_size,
                                          offset=(page - 1) * web.opts.page_size)
        role = session.user.role
        return {"total": total, "page": page,
                "calls": [jsonable(access.without_caller_reference(r, role)) for r in rows]}

    @app.get("/calls/{call_id}", response_class=HTMLResponse)
    def call_page(request: Request, call_id: str, q: str = "", session: auth.Session = Depends(web.require())):
        raw = web.raw_text(session)
        lang = web.lang_of(request)
        with web.database() as con:
            call = qa.page_detail(con, call_id, raw_text=raw, q=q[:200], lines=session.user.lines)
            in_queue = in_review_queue(con, call_id)
            removed = call is not None and data.recording_removed(con, call_id)
            if call is not None:
                call["case"] = data.call_case(con, call_id)
            # A reviewer opening the call claims it; another's live claim is shown instead (issue 29).
            claimed_by = claims.claim(con, call_id, session.user.name) \
                if call is not None and session.user.role in web.opts.correct_roles else None
        if call is None:
            raise HTTPException(404, translator(lang)("not_found"))
        access.without_caller_reference(call, session.user.role)
        return web.render(request, "call.html", session, call=call, raw=raw, q=q[:200], in_queue=in_queue,
                          recording_removed=removed, claimed_by=claimed_by,
                          can_correct=session.user.role in web.opts.correct_roles, qa=qa, mss=m_ss,
                          fmt=lambda v, d=1: qa.fmt_num(v, d, lang))

    @app.get("/api/calls/{call_id}")
    def call_api(call_id: str, session: auth.Session = Depends(web.require())):
        with web.database() as con:
            call = data.call_detail(con, call_id, raw_text=web.raw_text(session), lines=session.user.lines)
        if call is None:
            raise HTTPException(404, "no such call")
        return jsonable(access.without_caller_reference(call, session.user.role))

    @app.post("/calls/{call_id}/topics")
    def correct_topic(call_id: str, topic: str = Form(...), action: str = Form(...), csrf_token: str = Form(""),
                      session: auth.Session = Depends(web.require(*web.opts.correct_roles))):
        web.check_csrf(session, csrf_token)
        with web.database() as con:
            try:
                data.correct_topic(con, call_id, topic, action, session.user.name)
            except data.BadCorrection as exc:
                raise HTTPException(400, str(exc)) from None
        return RedirectResponse(f"/calls/{call_id}", status_code=303)

    @app.post("/calls/{call_id}/reviewed")
    def review(call_id: str, reviewed: str = Form("1"), csrf_token: str = Form(""),
               session: auth.Session = Depends(web.require(*web.opts.correct_roles))):
        web.check_csrf(session, csrf_token)
        with web.database() as con:
            if not call_exists(con, call_id):
                raise HTTPException(404, "no such call")
            data.mark_reviewed(con, call_id, session.user.name, reviewed=reviewed == "1")
        return RedirectResponse(f"/calls/{call_id}", status_code=303)

    @app.get("/audio/{call_id}")
    def audio(request: Request, call_id: str, session: auth.Session = Depends(web.require())):
        raw = session.user.role in web.opts.raw_text_roles
        lang = web.lang_of(request)
        with web.database() as con:
            path = data.audio_path(con, call_id)
            removed = path is None and data.recording_removed(con, call_id)
            rows = None if raw or path is None else calls.redaction_rows(con, call_id)
        if removed:  # 410 Gone: deleted on purpose by the retention purge, not missing
            raise HTTPException(410, translator(lang)("recording_purged"))
        if path is None:
            raise HTTPException(404, "no audio for this call")
        if not raw:
            # A role that may not read raw text hears what it may read: the redacted stretches silenced.
            # A call without a transcript (failed, still running) has nothing placed yet: not played.
            if rows is None or rows["status"] != "done":
                raise HTTPException(409, translator(lang)("audio_not_redacted"))
            intervals = audio_redaction.silence_intervals(audio_redaction.call_spans(rows), rows["duration_s"])
            if intervals:
                body, media_type = _redacted.get_or_make(
                    redacted_audio.cache_key(call_id, path, intervals),
                    lambda: audio_redaction.redacted_recording(path, intervals))
                return redacted_audio.respond(request, body, media_type)
        # FileResponse answers Range requests (206 + Content-Range), which seeking in <audio> needs.
        return FileResponse(path, media_type=_AUDIO_TYPES.get(path.suffix.lower(), "application/octet-stream"),
                            headers={"Cache-Control": "private, no-store"})
