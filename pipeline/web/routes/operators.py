"""Known operators (admin only): the enrolled voiceprints, enrolment from a few selected calls, removal.

Enrolment runs the same library function as ``hotline operators enrol``
(:func:`pipeline.stages.operators.voiceprint_from_calls`): the calls' recordings are
diarized in this process and only the resulting embedding is stored, with the consent
note; no audio is stored or served by these pages. The diarizer is loaded on the first
enrolment (a few seconds); ``app.state.operator_diarizer`` replaces it (tests).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from models.diarization import load_diarizer
from pipeline.clock import m_ss
from pipeline.errors import HotlineError
from pipeline.i18n import translator
from pipeline.stages.operators import delete_voiceprint, load_voiceprints, save_voiceprint, voiceprint_from_calls
from pipeline.warehouse import voiceprints
from pipeline.web import auth, data
from pipeline.web.context import WebContext

MAX_ENROL_CALLS = 10  # calls one enrolment may use (each is diarized while the admin waits)
CANDIDATE_CALLS = 60  # calls offered for selection on the page


def register(app: FastAPI, web: WebContext) -> None:
    admin = Depends(web.require("admin"))

    def diarizer():
        d = getattr(app.state, "operator_diarizer", None)
        if d is None:
            s = web.settings
            d = app.state.operator_diarizer = load_diarizer(min_speakers=s.min_speakers, max_speakers=s.max_speakers,
                                                            threads=s.cpu_threads)
        return d

    def page(request: Request, session: auth.Session, *, status: int = 200, error: str | None = None,
             form: dict | None = None):
        ext = (request.query_params.get("ext") or (form or {}).get("extension") or "").strip()[:32]
        with web.database() as con:
            prints = load_voiceprints(con)
            calls = voiceprints.enrolment_candidates(con, ext or None, limit=CANDIDATE_CALLS)
        by_ext = {vp.extension: vp for vp in prints}
        done = by_ext.get(request.query_params.get("done") or "")  # the notice shows what is stored, not the URL
        removed = request.query_params.get("removed") or ""
        return web.render(request, "operators.html", session, status=status, prints=prints, calls=calls, ext=ext,
                          error=error, form=form or {}, done=done,
                          removed=removed[:32] if removed and removed not in by_ext else None,
                          max_calls=MAX_ENROL_CALLS, mss=m_ss)

    @app.get("/operators", response_class=HTMLResponse)
    def operators_page(request: Request, session: auth.Session = admin):
        return page(request, session)

    @app.post("/operators/enrol", response_class=HTMLResponse)
    def enrol(request: Request, extension: str = Form(""), name: str = Form(""), consent: str = Form(""),
              call_id: list[str] = Form([]), csrf_token: str = Form(""), session: auth.Session = admin):
        web.check_csrf(session, csrf_token)
        t = translator(web.lang_of(request))
        form = {"extension": extension.strip()[:32], "name": name.strip()[:200], "consent": consent.strip()[:2000],
                "call_ids": list(dict.fromkeys(c.strip() for c in call_id if c.strip()))}
        if not 1 <= len(form["call_ids"]) <= MAX_ENROL_CALLS:
            return page(request, session, status=400, error=t("op_err_calls", n=MAX_ENROL_CALLS), form=form)
        with web.database() as con:
            paths = []
            for cid in form["call_ids"]:
                path = data.audio_path(con, cid)
                if path is None or not path.is_file():
                    return page(request, session, status=400, error=t("op_err_audio", call=cid[:16]), form=form)
                paths.append(path)
        try:  # diarizing takes seconds per call: not under the database lock
            vp = voiceprint_from_calls(form["extension"], paths, diarizer(), consent_note=form["consent"],
                                       name=form["name"] or None, enrolled_by=session.user.name,
                                       operator_channel=web.settings.operator_channel)
        except HotlineError as exc:
            return page(request, session, status=400, error=str(exc), form=form)
        with web.database() as con:
            save_voiceprint(con, vp)
        return RedirectResponse("/operators?" + urlencode({"done": vp.extension}), status_code=303)

    @app.post("/operators/{extension}/remove")
    def remove(request: Request, extension: str, csrf_token: str = Form(""), session: auth.Session = admin):
        web.check_csrf(session, csrf_token)
        with web.database() as con:
            found = delete_voiceprint(con, extension)
        if not found:
            raise HTTPException(404, f"no voiceprint enrolled for extension {extension}")
        return RedirectResponse("/operators?" + urlencode({"removed": extension}), status_code=303)
