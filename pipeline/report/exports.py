"""Exports a provincial office can file: call lists (CSV, formatted Excel with a summary sheet)
and transcripts (WebVTT, SRT, JSON, plain text).

Headers and values are Vietnamese by default (``lang="en"`` switches): yes/no as Có/Không,
durations as m:ss, confidence rounded, topics, urgency and review reasons as labels, the
routing unit, and the PBX call id and caller's initials for the roles :mod:`pipeline.access`
gives the caller reference (``caller_reference=True``). File names carry the period and the
filters. Every CSV and XLSX cell is written by :mod:`pipeline.report.sheets` (no formulas).
Transcripts are redacted unless the caller passes ``raw=True`` (the web app does so only for
the roles in ``raw_text_roles``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb

from pipeline.clock import m_ss
from pipeline.i18n import translator
from pipeline.report import formats, sheets
from pipeline.report.formats import topic_labels
from pipeline.warehouse import calls


@dataclass(frozen=True)
class Column:
    key: str
    vi: str
    en: str
    width: int  # Excel column width, characters


COLUMNS = (
    Column("call_id", "Mã cuộc gọi", "Call ID", 18),
    Column("pbx_call_id", "Mã cuộc gọi tổng đài (PBX)", "PBX call ID", 16),
    Column("started_at", "Thời gian", "Started at", 17),
    Column("operator_ext", "Tổng đài viên (máy lẻ)", "Operator (ext.)", 12),
    Column("caller_initials", "Người gọi (viết tắt)", "Caller (initials)", 10),
    Column("duration", "Thời lượng (phút:giây)", "Duration (m:ss)", 11),
    Column("topics", "Chủ đề", "Topics", 30),
    Column("places", "Phường/xã", "Ward/commune", 20),
    Column("routing", "Đơn vị xử lý", "Routing unit", 20),
    Column("urgent", "Khẩn cấp", "Urgent", 9),
    Column("urgency_reasons", "Lý do khẩn cấp", "Urgency reasons", 18),
    Column("categories", "Phân loại theo quy tắc", "Categories by rule", 28),  # issue 30: "title (m:ss)", by moment
    Column("needs_review", "Cần xem lại", "Needs review", 10),
    Column("review_reasons", "Lý do cần xem lại", "Review reasons", 26),
    Column("reviewed", "Đã duyệt", "Reviewed", 9),
    Column("confidence", "Độ tin cậy nhận dạng", "Recognition confidence", 11),
    Column("summary", "Tóm tắt", "Summary", 40),  # issue 16's one-line summary: shown when the warehouse has it
    Column("transcript", "Nội dung (đã che thông tin cá nhân)", "Transcript (redacted)", 80),
)


def slug(text: str) -> str:
    """ASCII, lower case, dashes: "Tân Tiến" → "tan-tien" (đ → d), for file names."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def export_filename(start: date | None, end: date | None, ext: str, *, lang: str = "vi", what: str = "calls",
                    filters: dict[str, str | bool | None] | None = None) -> str:
    """``cuoc-goi_2026-10-19_2026-11-01_chu-de-traffic.xlsx``: what, period, then each filter in use."""
    stem = {"calls": ("cuoc-goi", "calls"), "transcripts": ("ban-ghi", "transcripts"),
            "report": ("bao-cao", "report")}[what][0 if lang == "vi" else 1]
    parts = [stem, (start.isoformat() if start else "dau"), (end.isoformat() if end else "nay")]
    names = {"topic": ("chu-de", "topic"), "place": ("dia-ban", "place"), "operator": ("may-le", "operator"),
             "q": ("tim", "search"), "hour": ("gio", "hour")}
    for key, value in (filters or {}).items():
        if value is True:
            parts.append(slug({"urgent": "khan-cap", "needs_review": "can-xem-lai", "queue": "hang-cho"}.get(key, key))
                         if lang == "vi" else slug(key))
        elif value:
            parts.append(f"{names.get(key, (key, key))[0 if lang == 'vi' else 1]}-{slug(str(value))[:40]}")
    return "_".join(p for p in parts if p) + "." + ext


def _reasons(value: str | None, t) -> str:
    return "; ".join(t(f"reason_{r.strip()}", r.strip()) for r in (value or "").split(",") if r.strip())


def enrich(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> list[dict]:
    """Add ``pbx_call_id``, ``routing`` (agency keys and Vietnamese names) and, when the warehouse has
    one, ``summary`` to :func:`pipeline.web.data.list_calls` rows."""
    if not rows:
        return rows
    ids = [r["call_id"] for r in rows]
    extra = calls.export_extras(con, ids)
    out = []
    for r in rows:
        pbx, summ, route_vi, route_en = extra.get(r["call_id"], (None, None, None, None))
        out.append({**r, "pbx_call_id": pbx, "summary": summ, "routing_vi": route_vi or "", "routing_en": route_en or ""})
    return out


CALLER_REFERENCE_COLUMNS = ("pbx_call_id", "caller_initials")  # pipeline.access: only for roles given the reference


def columns_for(rows: list[dict], *, caller_reference: bool = False) -> list[Column]:
    """The export's columns: the summary when any row has one; the caller reference only when asked for."""
    return [c for c in COLUMNS if (c.key != "summary" or any(r.get("summary") for r in rows))
            and (caller_reference or c.key not in CALLER_REFERENCE_COLUMNS)]


def formatted_rows(rows: list[dict], *, lang: str = "vi", for_excel: bool = False,
                   caller_reference: bool = False) -> tuple[list[str], list[list]]:
    """Header and value rows for the export: labels, Có/Không, m:ss, rounded confidence.

    With ``for_excel``, times stay datetimes and durations become day fractions, so Excel
    sorts and sums them (the sheet formats them as dd/mm/yyyy hh:mm and [m]:ss). The PBX call
    id and the caller's initials are columns only with ``caller_reference`` (a role that
    :mod:`pipeline.access` gives them). Cells are guarded when written (:mod:`pipeline.report.sheets`).
    """
    t = translator(lang)
    labels = topic_labels(lang)
    yes, no = ("Có", "Không") if lang == "vi" else ("Yes", "No")
    columns = columns_for(rows, caller_reference=caller_reference)
    header = [c.vi if lang == "vi" else c.en for c in columns]
    body = []
    for r in rows:
        started = r.get("started_at")
        values = {
            "call_id": r["call_id"], "pbx_call_id": r.get("pbx_call_id") or "",
            "started_at": (started if for_excel else
                           (started.strftime("%d/%m/%Y %H:%M") if lang == "vi" else started.strftime("%Y-%m-%d %H:%M"))
                           ) if started else "",
            "operator_ext": formats.operator(r.get("operator_ext"), lang),
            "caller_initials": r.get("caller_initials") or "",
            "duration": (int(r["duration_s"]) / 86400 if for_excel else m_ss(r["duration_s"]))
            if r.get("duration_s") is not None else "",
            "topics": "; ".join(labels.get(k, k) for k in (r.get("topics") or "").split(",") if k),
            "places": (r.get("places") or "").replace(", ", "; "),
            "routing": (r.get("routing_vi") if lang == "vi" else r.get("routing_en")) or "",
            "urgent": yes if r.get("urgent") else no,
            "urgency_reasons": _reasons(r.get("urgency_reasons"), t),
            "categories": "; ".join(f"{h['title']} ({m_ss(h['moment_s'])})" for h in r.get("categories") or ()),
            "needs_review": yes if r.get("needs_review") else no,
            "review_reasons": _reasons(r.get("review_reasons"), t),
            "reviewed": yes if r.get("reviewed") else no,
            "confidence": (round(r["confidence"], 2) if for_excel else formats.decimal(r["confidence"], 2, lang))
            if r.get("confidence") is not None else "",  # a number in XLSX (shown 0,72 by a Vietnamese Excel)
            "summary": r.get("summary") or "",
            "transcript": r.get("transcript_readable") or r.get("transcript") or "",
        }
        body.append([values[c.key] for c in columns])
    return header, body


def calls_csv(rows: list[dict], *, lang: str = "vi", caller_reference: bool = False) -> bytes:
    """UTF-8 CSV with a BOM (so Excel shows Vietnamese correctly), one call a line (redacted text)."""
    header, body = formatted_rows(rows, lang=lang, caller_reference=caller_reference)
    return sheets.csv_bytes(header, body)


def _week_of(value: datetime) -> date:
    d = value.date() if isinstance(value, datetime) else value
    return d - timedelta(days=d.weekday())


def summary_tables(rows: list[dict], *, lang: str = "vi") -> dict[str, tuple[list[str], list[list]]]:
    """Topic × week and topic × ward counts over the exported calls: {name: (header, rows)}, with totals."""
    labels = topic_labels(lang)
    t = translator(lang)
    by_week: Counter = Counter()
    by_place: Counter = Counter()
    weeks, places = set(), Counter()
    topics = Counter()
    for r in rows:
        keys = [k for k in (r.get("topics") or "").split(",") if k]
        names = [p for p in (r.get("places") or "").split(", ") if p]
        week = _week_of(r["started_at"]) if r.get("started_at") else None
        if week:
            weeks.add(week)
        for k in keys:
            topics[k] += 1
            if week:
                by_week[k, week] += 1
            for p in names:
                by_place[k, p] += 1
        for p in names:
            places[p] += 1
    order = [k for k in labels if k in topics] + sorted(k for k in topics if k not in labels)
    week_list = sorted(weeks)
    place_list = [p for p, _ in sorted(places.items(), key=lambda kv: (-kv[1], kv[0]))]
    total = t("rp_total")
    topic_h = t("rp_topic")
    week_h = [topic_h] + [t("rp_week_prefix") + w.strftime("%d/%m/%Y") for w in week_list] + [total]
    week_rows = [[labels.get(k, k)] + [by_week[k, w] for w in week_list] + [topics[k]] for k in order]
    week_rows.append([total] + [sum(by_week[k, w] for k in order) for w in week_list] + [sum(topics.values())])
    place_h = [topic_h] + place_list + [total]
    place_rows = [[labels.get(k, k)] + [by_place[k, p] for p in place_list] + [sum(by_place[k, p] for p in place_list)]
                  for k in order]
    place_rows.append([total] + [places[p] for p in place_list] + [sum(places.values())])
    return {"week": (week_h, week_rows), "place": (place_h, place_rows)}


def calls_xlsx(rows: list[dict], *, lang: str = "vi", start: date | None = None, end: date | None = None,
               filters_text: str = "", caller_reference: bool = False) -> bytes:
    """An Excel workbook: the calls (column widths, frozen header, autofilter, dates and m:ss as numbers)
    and a summary sheet (period, filters, topic × week and topic × ward counts). Every cell goes
    through :mod:`pipeline.report.sheets`."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    t = translator(lang)
    header, body = formatted_rows(rows, lang=lang, for_excel=True, caller_reference=caller_reference)
    keys = [c.key for c in columns_for(rows, caller_reference=caller_reference)]
    widths = {c.key: c.width for c in COLUMNS}
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DCE6F1")
    book = sheets.Workbook(t("rp_calls"))
    calls_sheet = book.first
    ws = calls_sheet.ws
    calls_sheet.append(header)
    for cell in ws[1]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for values in body:
        calls_sheet.append(values)
    for i, key in enumerate(keys, start=1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = widths[key]
        fmt = {"started_at": "dd/mm/yyyy hh:mm", "duration": "[m]:ss", "confidence": "0.00"}.get(key)
        for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
            if fmt:
                cell.number_format = fmt
            if key in ("transcript", "summary", "topics", "review_reasons"):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions

    summary = book.add_sheet(t("rp_summary"))
    sheet = summary.ws
    period = (f"{start:%d/%m/%Y}" if start else "…") + " – " + (f"{end:%d/%m/%Y}" if end else "…")
    summary.append([t("period"), period])
    summary.append([t("rp_filters"), filters_text or t("rp_none")])
    summary.append([t("rp_n_calls"), len(rows)])
    for row in sheet.iter_rows(min_row=1, max_row=3, max_col=1):
        row[0].font = bold
    tables = summary_tables(rows, lang=lang)
    for title, name in ((t("rp_topics_by_week"), "week"),
                        (t("rp_topics_by_ward_commune"), "place")):
        head, table = tables[name]
        summary.append([])
        summary.append([title])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True, size=12)
        summary.append(head)
        for cell in sheet[sheet.max_row]:
            cell.font, cell.fill = bold, fill
        for r in table:
            summary.append(r)
        sheet.cell(sheet.max_row, 1).font = bold
    sheet.column_dimensions["A"].width = 36
    for i in range(2, sheet.max_column + 1):
        sheet.column_dimensions[get_column_letter(i)].width = 14
    return book.to_bytes()


# --- transcripts -----------------------------------------------------------------------------------

TRANSCRIPT_FORMATS = {"vtt": "text/vtt; charset=utf-8", "srt": "application/x-subrip; charset=utf-8",
                      "json": "application/json", "txt": "text/plain; charset=utf-8"}


def transcript(con: duckdb.DuckDBPyConnection, call_id: str, *, raw: bool = False,
               caller_reference: bool = False) -> dict | None:
    """One call's segments for export: call_id, pbx_call_id, started_at, redacted, segments
    (start, end, speaker, role, text: the readable text where made, plain: the normalised text);
    redacted text unless ``raw`` (and raw text was kept); the PBX call id only with
    ``caller_reference`` (:mod:`pipeline.access`)."""
    row = calls.transcript_call(con, call_id)
    if row is None:
        return None
    segments = calls.transcript_segments(con, call_id, raw=raw)
    return {"call_id": row[0], "pbx_call_id": row[1] if caller_reference else None, "started_at": row[2],
            "operator_ext": row[3],
            "redacted": not raw, "segments": segments}


def _stamp(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _speaker_name(seg: dict, t) -> str:
    if seg["role"] in ("operator", "citizen"):
        return t(f"role_{seg['role']}")
    return seg.get("speaker") or t("role_unknown")


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_transcript(tr: dict, fmt: str, *, lang: str = "vi") -> str:
    """``vtt`` (WebVTT with ``<v Role>`` voice tags), ``srt``, ``json`` (WhisperX-like ``segments``, each with its
    ``normalised`` text beside the readable ``text``) or ``txt``."""
    t = translator(lang)
    segs = [s for s in tr["segments"] if (s.get("text") or "").strip()]
    if fmt == "vtt":
        note = t("rp_note_personal_data_redacted") if tr["redacted"] \
            else t("rp_note_unredacted_text")
        cues = [f"{i}\n{_stamp(s['start'], '.')} --> {_stamp(s['end'], '.')}\n"
                f"<v {_vtt_escape(_speaker_name(s, t))}>{_vtt_escape(s['text'].strip())}</v>"
                for i, s in enumerate(segs, start=1)]
        return "WEBVTT\n\n" + note + "\n\n" + "\n\n".join(cues) + "\n"
    if fmt == "srt":
        return "\n".join(f"{i}\n{_stamp(s['start'], ',')} --> {_stamp(s['end'], ',')}\n"
                         f"[{_speaker_name(s, t)}] {s['text'].strip()}\n" for i, s in enumerate(segs, start=1))
    if fmt == "json":
        doc = {"call_id": tr["call_id"], "pbx_call_id": tr["pbx_call_id"],
               "started_at": tr["started_at"].isoformat() if tr["started_at"] else None, "redacted": tr["redacted"],
               "language": "vi",
               "segments": [{"start": round(s["start"], 3), "end": round(s["end"], 3), "speaker": s["speaker"],
                             "role": s["role"], "text": s["text"].strip(),
                             "normalised": (s.get("plain") or "").strip()} for s in segs]}
        return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
    if fmt == "txt":
        return "".join(f"[{m_ss(s['start'])}] {_speaker_name(s, t)}: {s['text'].strip()}\n" for s in segs)
    raise ValueError(f"transcript format {fmt!r}: one of {', '.join(TRANSCRIPT_FORMATS)}")


def transcript_filename(tr: dict, fmt: str) -> str:
    """``<date>_<pbx id or call id>.vtt``, safe for any file system."""
    day = tr["started_at"].strftime("%Y-%m-%d_%H%M") if tr["started_at"] else "undated"
    ident = re.sub(r"[^A-Za-z0-9._-]+", "-", tr["pbx_call_id"] or tr["call_id"])
    return f"{day}_{ident}.{fmt}"
