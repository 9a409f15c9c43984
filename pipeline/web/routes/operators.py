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

from pipeline.errors import HotlineError
from pipeline.i18n import MESSAGES
from pipeline.warehouse import voiceprints
from pipeline.web import auth, data
from pipeline.web.context import WebContext

MAX_ENROL_CALLS = 10  # calls one enrolment may use (each is diarized while the admin waits)
CANDIDATE_CALLS = 60  # calls offered for selection on the page

MESSAGES.update({
    "operators_page": {"vi": "Nhận diện giọng tổng đài viên", "en": "Known operators"},
    "operators_nav": {"vi": "Giọng tổng đài viên", "en": "Operator voices"},
    "op_enrolled": {"vi": "Tổng đài viên đã đăng ký giọng", "en": "Enrolled operators"},
    "op_none": {"vi": "Chưa có tổng đài viên nào đăng ký giọng.", "en": "No operator is enrolled yet."},
    "op_extension": {"vi": "Máy lẻ", "en": "Extension"},
    "op_name": {"vi": "Họ tên", "en": "Name"},
    "op_when": {"vi": "Ngày đăng ký", "en": "Enrolled"},
    "op_by": {"vi": "Người đăng ký", "en": "Enrolled by"},
    "op_consent": {"vi": "Ghi chú đồng ý", "en": "Consent note"},
    "op_calls_used": {"vi": "Số cuộc gọi dùng", "en": "Calls used"},
    "op_speech": {"vi": "Thời lượng giọng nói (s)", "en": "Speech (s)"},
    "op_remove": {"vi": "Xóa mẫu giọng", "en": "Remove voiceprint"},
    "op_remove_confirm": {"vi": "Xóa mẫu giọng của máy lẻ {ext}? (khi tổng đài viên rút lại sự đồng ý)",
                          "en": "Remove the voiceprint of extension {ext}? (consent withdrawn)"},
    "op_enrol": {"vi": "Đăng ký giọng từ một vài cuộc gọi", "en": "Enrol a voice from a few calls"},
    "op_enrol_button": {"vi": "Đăng ký giọng", "en": "Enrol"},
    "op_enrol_hint": {"vi": "Chọn 2–{n} cuộc gọi một kênh (hoặc 1 cuộc gọi hai kênh) của cùng tổng đài viên. "
                            "Chỉ lưu một véc-tơ đặc trưng giọng nói, không lưu âm thanh. Mất vài giây mỗi cuộc gọi.",
                      "en": "Pick 2–{n} mono calls (or 1 stereo call) of the same operator. Only a voice embedding "
                            "is stored, never audio. Takes a few seconds per call."},
    "op_consent_hint": {"vi": "bắt buộc: số phiếu đồng ý, ngày ký", "en": "required: consent form id, date"},
    "op_show_calls": {"vi": "Hiện cuộc gọi của máy lẻ", "en": "Show calls of extension"},
    "op_no_calls": {"vi": "Không có cuộc gọi nào có bản ghi.", "en": "No calls with a recording."},
    "op_channels": {"vi": "Kênh", "en": "Channels"},
    "op_voice": {"vi": "Giọng nhận diện", "en": "Voice recognised"},
    "op_done": {"vi": "Đã đăng ký giọng cho máy lẻ {ext}: {n} cuộc gọi, {s} s giọng nói.",
                "en": "Enrolled extension {ext}: {n} calls, {s} s of speech."},
    "op_removed": {"vi": "Đã xóa mẫu giọng của máy lẻ {ext}.", "en": "Removed the voiceprint of extension {ext}."},
    "op_reprocess": {"vi": "Các cuộc gọi đã xử lý trước đó giữ vai cũ cho đến khi chạy "
                           "hotline operators retag --from … --to … (xử lý lại cuộc gọi một kênh với các mẫu giọng mới).",
                     "en": "Calls processed before keep their roles until `hotline operators retag --from … --to …` "
                           "reprocesses the mono calls with the current voiceprints."},
    "op_err_calls": {"vi": "Chọn từ 1 đến {n} cuộc gọi.", "en": "Select 1 to {n} calls."},
    "op_err_audio": {"vi": "Không tìm thấy bản ghi của cuộc gọi {call}.", "en": "No recording found for call {call}."},
})


def register(app: FastAPI, web: WebContext) -> None:
    admin = Depends(web.require("admin"))

    def diarizer():
        d = getattr(app.state, "operator_diarizer", None)
        if d is None:
            from models.diarization import load_diarizer

            s = web.settings
            d = app.state.operator_diarizer = load_diarizer(min_speakers=s.min_speakers, max_speakers=s.max_speakers,
                                                            threads=s.cpu_threads)
        return d

    def page(request: Request, session: auth.Session, *, status: int = 200, error: str | None = None,
             form: dict | None = None):
        from pipeline.stages.operators import load_voiceprints

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
                          max_calls=MAX_ENROL_CALLS)

    @app.get("/operators", response_class=HTMLResponse)
    def operators_page(request: Request, session: auth.Session = admin):
        return page(request, session)

    @app.post("/operators/enrol", response_class=HTMLResponse)
    def enrol(request: Request, extension: str = Form(""), name: str = Form(""), consent: str = Form(""),
              call_id: list[str] = Form([]), csrf_token: str = Form(""), session: auth.Session = admin):
        from pipeline.i18n import translator
        from pipeline.stages.operators import save_voiceprint, voiceprint_from_calls

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
        from pipeline.stages.operators import delete_voiceprint

        web.check_csrf(session, csrf_token)
        with web.database() as con:
            found = delete_voiceprint(con, extension)
        if not found:
            raise HTTPException(404, f"no voiceprint enrolled for extension {extension}")
        return RedirectResponse("/operators?" + urlencode({"removed": extension}), status_code=303)
