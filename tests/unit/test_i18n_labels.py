"""Every metric, scope and reason the pipeline stores has a Vietnamese and an English label."""

import numpy as np

from pipeline.analysis.metrics import measure_conversation
from pipeline.analysis.urgency import REASONS
from pipeline.i18n import LANGS, MESSAGES, translator
from pipeline.records import DecodedAudio, Segment
from pipeline.stages.analyse import _REVIEW_FLAGS


def test_metric_scope_and_reason_labels_exist_in_both_languages():
    rng = np.random.default_rng(0)
    audio = DecodedAudio(samples=(0.1 * rng.standard_normal((1, 48000))).astype(np.float32), sample_rate=16000,
                         source_sample_rate=16000)
    segs = [Segment(0.0, 1.2, "xin chào anh", role="operator"), Segment(1.0, 2.8, "tôi muốn phản ánh", role="citizen")]
    metrics = measure_conversation(segs, audio)
    keys = {f"metric_{name}" for _, name in metrics} | {f"scope_{scope}" for scope, _ in metrics}
    keys |= {f"reason_{r}" for r in (*_REVIEW_FLAGS, "low_confidence", "roles_uncertain", "no_confident_topic",
                                     "truncated", "urgent", *REASONS)}
    missing = [k for k in sorted(keys) if set(MESSAGES.get(k, {})) != set(LANGS)]
    assert missing == []
    assert translator("vi")("metric_talk_time_s") == "Thời gian nói (s)"
    assert translator("en")("metric_unknown", default="unknown") == "unknown"


# ---- issue 29: one translation system, and no program text on a page, in an export or a report -----------

import csv  # noqa: E402
import io  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402

from tests.helpers import REPO  # noqa: E402

_KEY_USE = re.compile(r"""\bt\(\s*(["'])([a-z][a-z0-9_]*)\1\s*[,)]""")  # a whole key, not a prefix ('ans_' ~ …)


def test_every_literal_message_key_has_both_languages():
    """Every ``t("key")`` in the library and the templates names a message with vi and en (a missing key shows
    as itself: "rp_calls" on a page)."""
    files = [*Path(REPO, "pipeline").rglob("*.py"), *Path(REPO, "pipeline/web/templates").glob("*.html")]
    used = {(f.relative_to(REPO).as_posix(), m[2]) for f in files for m in _KEY_USE.finditer(f.read_text("utf-8"))}
    missing = sorted((f, k) for f, k in used if set(MESSAGES.get(k, {})) != set(LANGS))
    assert len(used) > 200 and missing == []


def test_report_folder_has_one_translation_system():
    """pipeline/report/ takes every word from MESSAGES: no ``T(vi, en)`` helper, no ``"…" if vi else "…"``."""
    second = re.compile(r"""\bT\(|\bvi = lang == "vi"|["'][^"'\n]*["']\s+if\s+(?:vi|lang == "vi")\s+else\s+["']""")
    found = [(p.name, m.group(0)) for p in Path(REPO, "pipeline/report").glob("*.py")
             for m in second.finditer(p.read_text("utf-8"))]
    assert found == []


_TOPIC_KEYS = None


def program_text(text: str) -> list[str]:
    """What in ``text`` (a page's visible text, an export, a report) is the program's, not Vietnamese:
    taxonomy keys, case status/kind keys, Python values, English routing and history words."""
    from pipeline.report.formats import topic_labels

    keys = [k for k in topic_labels("vi") if "_" in k or k in ("environment", "construction", "utilities", "traffic")]
    words = [*keys, "complaint", "inquiry", "in_progress", "forwarded", "None", "False", "True", "any topic",
             "keyword", "result:", "pipeline", "(unit)", "said as", "QA topic correction", "call reloaded"]
    return sorted({w for w in words if re.search(rf"(?<![\w/=-]){re.escape(w)}(?![\w=-])", text)})


def _visible(html: str) -> str:
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_no_program_text_reaches_pages_exports_or_reports(web_db, client_as, tmp_path):
    from docx import Document

    from pipeline.casework import cases
    from pipeline.report import case_reports, exports, reports
    from pipeline.warehouse import db
    from pipeline.web import data
    from tests.support.web_fixtures import prepare_cases

    prepare_cases(web_db)
    con = db.connect(web_db)
    try:
        admin = cases.Actor("an", "admin")
        open_cases = cases.list_cases(con, admin, status="all")
        c = next(r for r in open_cases if r["status"] == "new" and r["kind"] == "complaint" and r["unit"])
        cases.transition(con, c["case_id"], "forwarded", admin)
        cases.transition(con, c["case_id"], "in_progress", admin)
        cases.transition(con, c["case_id"], "resolved", admin, result="Đã thu gom rác")
        nowhere = next(r for r in open_cases if r["case_id"] != c["case_id"] and r["kind"] == "complaint")
        con.execute("UPDATE cases SET place = NULL WHERE case_id = ?", [nowhere["case_id"]])
        cases.set_place(con, nowhere["case_id"], "phường Tân Tiến", admin)
        call_id = con.execute("SELECT call_id FROM call_routes WHERE reason LIKE '%keyword%' LIMIT 1").fetchone()
        call_id = call_id[0] if call_id else con.execute("SELECT call_id FROM call_routes LIMIT 1").fetchone()[0]
        rows, _ = data.list_calls(con, data.CallFilters(), limit=1000)
        outputs = {
            "report.html": _visible(reports.render_report(con, "2026-10-01", "2026-12-31")),
            "calls.csv": exports.calls_csv(exports.enrich(con, rows)).decode("utf-8"),
            "cases.csv": case_reports.weekly_csv(case_reports.weekly(con)),
            "cases.md": case_reports.markdown_section(con),
        }
        from pipeline.report import documents

        for name, doc in (("report.docx", reports.period_document(con, "2026-10-01", "2026-12-31")),
                          ("cases.docx", case_reports.case_document(con, agency="Tổng đài 1022"))):
            d = Document(io.BytesIO(documents.to_docx(doc, documents.Issuer.defaults())))
            outputs[name] = "\n".join([p.text for p in d.paragraphs] +
                                      [c.text for t in d.tables for row in t.rows for c in row.cells])
    finally:
        con.close()
    for role, paths in (("manager", [f"/cases/{c['case_id']}", f"/cases/{nowhere['case_id']}", "/cases/report",
                                     "/dashboard?from=2026-10-01&to=2026-12-31"]),
                        ("qa", [f"/calls/{call_id}", "/calls"])):
        client = client_as(role)
        for path in paths:
            r = client.get(path)
            assert r.status_code == 200, path
            outputs[path] = _visible(r.text)
    found = {name: program_text(text) for name, text in outputs.items()}
    assert {k: v for k, v in found.items() if v} == {}
    history = outputs[f"/cases/{c['case_id']}"]
    assert "kết quả: Đã thu gom rác" in history and "Hệ thống" in history and "từ cuộc gọi" in history
    assert "(chưa có) → phường Tân Tiến" in outputs[f"/cases/{nowhere['case_id']}"]
    assert "Lý do: " in outputs[f"/calls/{call_id}"] and "chủ đề " in outputs[f"/calls/{call_id}"]
    assert list(csv.reader(io.StringIO(outputs["cases.csv"].lstrip("\ufeff"))))[0][0] == "Đơn vị xử lý"


def test_the_unit_role_has_a_label():
    assert translator("vi")("role_unit") == "Đơn vị xử lý" and translator("en")("role_unit") == "Handling unit"
