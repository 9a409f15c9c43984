"""Transcript downloads: ``/calls/{id}/transcript.vtt|srt|json|txt``, redacted unless the role may read raw text."""

from __future__ import annotations

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import Response

from pipeline.i18n import translator
from pipeline.report import exports
from pipeline.web import auth
from pipeline.web.context import WebContext


def register(app: FastAPI, web: WebContext) -> None:
    @app.get("/calls/{call_id}/transcript.{fmt}")
    def transcript_download(request: Request, call_id: str, fmt: str, raw: int = 0,
                            session: auth.Session = Depends(web.require())):
        if fmt not in exports.TRANSCRIPT_FORMATS:
            raise HTTPException(404, translator(web.lang_of(request))("not_found"))
        if raw and not web.raw_text(session):
            raise HTTPException(403, translator(web.lang_of(request))("forbidden"))
        with web.database() as con:
            doc = exports.transcript(con, call_id, raw=bool(raw), caller_reference=web.view(session).caller_reference)
        if doc is None:
            raise HTTPException(404, translator(web.lang_of(request))("not_found"))
        body = exports.render_transcript(doc, fmt, lang=web.lang_of(request))
        return Response(body, media_type=exports.TRANSCRIPT_FORMATS[fmt],
                        headers={"Content-Disposition": f'attachment; filename="{exports.transcript_filename(doc, fmt)}"'})
