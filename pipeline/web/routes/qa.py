"""The QA workspace's in-place corrections: JSON answers for the call page's script (no reload, so
playback and scroll stay where they are), each with the re-rendered side panel.

Every POST needs the session's CSRF token, as the ``X-CSRF-Token`` header (the script) or a
``csrf_token`` form field. Answers: ``{"ok": true, "message": …, "facts_html": …}``; errors are
``{"detail": …}`` with 400/403/404.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Form, Header, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from pipeline.clock import m_ss
from pipeline.i18n import translator
from pipeline.warehouse.qa_workspace import call_exists
from pipeline.web import auth, data, qa
from pipeline.web.context import WebContext, jsonable, page_words, parse_date

FAVICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" '
           'fill="#0b4f8a"/><path d="M9 7c2 0 3 4 3 5s-2 2-2 3 3 6 5 7c1 0 2-2 3-2s5 1 5 3-2 4-4 4C13 27 5 19 5 '
           '11c0-2 2-4 4-4z" fill="#fff"/></svg>')


def register(app: FastAPI, web: WebContext) -> None:
    correct = web.require(*web.opts.correct_roles)

    @app.get("/favicon.ico")
    @app.get("/favicon.svg")
    def favicon():
        return Response(FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})

    def token_ok(session: auth.Session, form_token: str, header_token: str | None) -> None:
        web.check_csrf(session, header_token or form_token)

    def answer(request: Request, session: auth.Session, call_id: str, message_key: str, **extra) -> JSONResponse:
        """The side panel re-rendered after a change, and a message for the confirmation line."""
        lang = web.lang_of(request)
        raw = web.raw_text(session)
        with web.database() as con:
            call = qa.page_detail(con, call_id, raw_text=raw, lines=session.user.lines)
            if call is not None:
                call["case"] = data.call_case(con, call_id)
        if call is None:
            raise HTTPException(404, translator(lang)("not_found"))
        ctx = {**page_words(lang), "session": session, "opts": web.opts, "call": call, "raw": raw,
               "can_correct": session.user.role in web.opts.correct_roles,
               "qa": qa, "fmt": lambda v, d=1: qa.fmt_num(v, d, lang), "mss": m_ss}
        html = web.templates.get_template("_call_facts.html").render(ctx)
        badges = web.templates.get_template("_call_badges.html").render(ctx)
        message = extra.pop("message", None) or translator(lang)(message_key)
        body = {"ok": True, "message": message, "facts_html": html, "badges_html": badges,
                "urgent": bool(call["urgent"]), "reviewed": bool(call["reviewed"]), "summary": call["summary"]} | extra
        return JSONResponse(jsonable(body))

    def bad(exc: Exception):
        raise HTTPException(400, str(exc)) from None

    @app.post("/api/calls/{call_id}/topics")
    def api_topic(request: Request, call_id: str, topic: str = Form(...), action: str = Form(...),
                  csrf_token: str = Form(""), x_csrf_token: str | None = Header(None),
                  session: auth.Session = Depends(correct)):
        token_ok(session, csrf_token, x_csrf_token)
        with web.database() as con:
            try:
                before = data.call_case(con, call_id)
                changed = data.correct_topic(con, call_id, topic, action, session.user.name)
            except data.BadCorrection as exc:
                bad(exc)
            after = data.call_case(con, call_id)
        t = translator(web.lang_of(request))
        moved = changed and before and after and before["unit"] != after["unit"]
        message = t("reroute_done", case=after["case_id"], new=after["unit"] or t("unit_none")) if moved else None
        return answer(request, session, call_id, "saved" if changed else "unchanged", changed=changed, message=message)

    @app.post("/api/calls/{call_id}/topics/preview")
    def api_topic_preview(request: Request, call_id: str, topic: str = Form(...), action: str = Form(...),
                          csrf_token: str = Form(""), x_csrf_token: str | None = Header(None),
                          session: auth.Session = Depends(correct)):
        """What the correction would do to the call's case, saving nothing: ``moves`` and, when it does, a
        sentence to confirm ("Phiếu PA-… sẽ chuyển từ X sang Y")."""
        token_ok(session, csrf_token, x_csrf_token)
        with web.database() as con:
            try:
                p = data.preview_topic_correction(con, call_id, topic, action, session.user.name)
            except data.BadCorrection as exc:
                bad(exc)
        if p is None or not p["moves"]:
            return {"moves": False}
        t = translator(web.lang_of(request))
        message = t("reroute_preview", case=p["case_id"], old=p["unit_before"] or t("unit_none"),
                    new=p["unit_after"] or t("unit_none"))
        if p["status_after"] != p["status_before"]:
            message += " " + t("reroute_preview_back")
        return jsonable(p | {"message": message, "confirm": t("reroute_confirm")})

    @app.post("/api/calls/{call_id}/reviewed")
    def api_reviewed(request: Request, call_id: str, reviewed: str = Form("1"), next: str = Form("0"),
                     csrf_token: str = Form(""), x_csrf_token: str | None = Header(None),
                     session: auth.Session = Depends(correct)):
        token_ok(session, csrf_token, x_csrf_token)
        with web.database() as con:
            if not call_exists(con, call_id):
                raise HTTPException(404, "no such call")
            data.mark_reviewed(con, call_id, session.user.name, reviewed=reviewed == "1")
            following = qa.next_in_queue(con, call_id) if next == "1" else None
        extra = {"next_url": f"/calls/{following}" if following else ("/calls?queue=1" if next == "1" else None)}
        return answer(request, session, call_id, "saved", **extra)

    @app.post("/api/calls/{call_id}/segments/{seq}")
    def api_segment(request: Request, call_id: str, seq: int, text: str = Form(...), csrf_token: str = Form(""),
                    x_csrf_token: str | None = Header(None), session: auth.Session = Depends(correct)):
        token_ok(session, csrf_token, x_csrf_token)
        with web.database() as con:
            try:
                shown = qa.correct_segment_text(con, call_id, seq, text, session.user.name)
            except data.BadCorrection as exc:
                bad(exc)
            raw = web.raw_text(session)
            call = qa.page_detail(con, call_id, raw_text=raw, lines=session.user.lines)
        seg = next(s for s in call["segments"] if s["seq"] == seq)
        return answer(request, session, call_id, "saved" if shown is not None else "unchanged",
                      text=seg["text"], words=seg["words"])

    @app.post("/api/calls/{call_id}/urgent")
    def api_urgent(request: Request, call_id: str, urgent: str = Form(...), csrf_token: str = Form(""),
                   x_csrf_token: str | None = Header(None), session: auth.Session = Depends(correct)):
        token_ok(session, csrf_token, x_csrf_token)
        with web.database() as con:
            try:
                changed = qa.set_urgent(con, call_id, urgent == "1", session.user.name)
            except data.BadCorrection as exc:
                bad(exc)
        return answer(request, session, call_id, "saved" if changed else "unchanged")

    @app.post("/api/calls/{call_id}/roles")
    def api_roles(request: Request, call_id: str, csrf_token: str = Form(""),
                  x_csrf_token: str | None = Header(None), session: auth.Session = Depends(correct)):
        token_ok(session, csrf_token, x_csrf_token)
        with web.database() as con:
            try:
                qa.swap_roles(con, call_id, session.user.name)
            except data.BadCorrection as exc:
                bad(exc)
            call = qa.page_detail(con, call_id, raw_text=web.raw_text(session), lines=session.user.lines)
        return answer(request, session, call_id, "roles_swapped",
                      roles={str(s["seq"]): s["role"] for s in call["segments"]})

    @app.post("/api/calls/{call_id}/places")
    def api_places(request: Request, call_id: str, action: str = Form(...), name: str = Form(...),
                   kind: str = Form("ward"), csrf_token: str = Form(""), x_csrf_token: str | None = Header(None),
                   session: auth.Session = Depends(correct)):
        token_ok(session, csrf_token, x_csrf_token)
        with web.database() as con:
            try:
                if action == "remove":
                    changed = qa.remove_place(con, call_id, name, session.user.name)
                elif action == "add":
                    changed = qa.add_place(con, call_id, name, kind, session.user.name)
                else:
                    raise data.BadCorrection(f"action {action!r} must be add or remove")
            except data.BadCorrection as exc:
                bad(exc)
        return answer(request, session, call_id, "saved" if changed else "unchanged")

    @app.post("/api/calls/{call_id}/evaluation")
    async def api_evaluation(request: Request, call_id: str, x_csrf_token: str | None = Header(None),
                             session: auth.Session = Depends(correct)):
        form = await request.form()
        token_ok(session, str(form.get("csrf_token", "")), x_csrf_token)
        answers = {item: (str(form.get(f"eval_{item}")), str(form.get(f"comment_{item}", "")))
                   for item in qa.EVAL_ITEMS if form.get(f"eval_{item}")}

        def save() -> int:
            with web.database() as con:
                try:
                    return qa.save_evaluation(con, call_id, answers, session.user.name)
                except data.BadCorrection as exc:
                    bad(exc)

        n = await run_in_threadpool(save)
        return await run_in_threadpool(answer, request, session, call_id, "saved" if n else "unchanged", written=n)

    @app.get("/api/evaluations")
    def api_evaluations(request: Request, session: auth.Session = Depends(web.require())):
        q = request.query_params
        with web.database() as con:
            rows = qa.evaluation_report(con, parse_date(q.get("from")), parse_date(q.get("to")))
        return {"items": rows}
