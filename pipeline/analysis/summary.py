"""A one-line Vietnamese summary of a call, built from the extracted facts (no LLM).

    "Phản ánh rác không được thu gom tại đường Y Jút, phường Buôn Ma Thuột;
     chuyển UBND phường Buôn Ma Thuột; hẹn xử lý trong ngày."

Parts, each left out when the call does not give it:

- what: the first issue phrase of :data:`ISSUES` found in what the citizen said (per
  assigned topic, most specific first), else the topic's Vietnamese label; a second
  topic is added with "và"; questions ("cho hỏi", "thủ tục") read "Hỏi về …";
- where: the most precise address said (house number or alley, street, then the
  ward/commune, as its 2025 unit);
- who handles it: the first route's agency;
- what the operator promised: the first promise pattern of :data:`PROMISES` in the
  operator's words.

Matching is on accent-folded words, so ASR output without diacritics works too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from models.topic_model import load_topic_model
from pipeline.analysis.places import extract_places
from pipeline.analysis.routing import route_call
from pipeline.analysis.topics import assigned_topics, classify_text
from pipeline.textnorm import fold_accents

_TAXONOMY = Path(__file__).resolve().parents[2] / "models" / "taxonomy.json"
MAX_CHARS = 200  # a summary longer than this is cut at a part boundary

# topic -> (folded keywords any of which must occur, issue phrase), most specific first.
ISSUES: dict[str, list[tuple[tuple[str, ...], str]]] = {
    "environment": [
        (("nuoc thai", "xa thai"), "xả nước thải"),
        (("dot rac", "dot nhua", "khoi"), "khói, đốt rác"),
        (("do trom", "do rac", "xa ban"), "đổ rác, phế thải trái phép"),
        (("thu gom", "xe rac", "rac"), "rác thải không được thu gom"),
        (("ca chet", "hoa chat"), "ô nhiễm nguồn nước"),
        (("bui",), "bụi"),
        (("cong", "muong", "ngap"), "cống rãnh ứ đọng"),
        (("hoi", "thoi", "mui"), "mùi hôi"),
    ],
    "urban_order": [
        (("via he", "long duong", "lan chiem", "le duong"), "lấn chiếm vỉa hè, lòng đường"),
        (("hang rong", "cho tu phat", "cho tam"), "họp chợ, bán hàng rong trái phép"),
        (("quang cao", "bang ron", "bien hieu"), "quảng cáo, biển hiệu trái phép"),
        (("giu xe", "dau xe"), "đậu, giữ xe trái phép"),
        (("lan ra", "lan hem", "xay lan"), "lấn chiếm lối đi chung"),
    ],
    "construction": [
        (("giay phep", "sai phep", "khong phep", "sai ban ve"), "xây dựng sai phép"),
        (("nut", "sap", "nghieng", "lun"), "công trình nứt, nguy cơ sập"),
        (("che chan", "gian giao", "roi"), "công trình không che chắn an toàn"),
        (("ban dem", "on", "dem"), "thi công gây ồn"),
    ],
    "security_order": [
        (("giat", "trom", "cay cua", "mat cap"), "trộm cắp, cướp giật"),
        (("danh nhau", "chem", "dam", "dao"), "đánh nhau, gây thương tích"),
        (("ma tuy", "kim tiem", "chat cam"), "nghi sử dụng ma túy"),
        (("lua dao", "lua", "chuyen tien"), "lừa đảo"),
        (("on ao", "karaoke", "hat", "la het"), "gây ồn ào, mất trật tự"),
        (("doa", "de doa", "vay nang lai"), "đe dọa, đòi nợ"),
        (("tu tap", "danh bai", "co bac", "da ga"), "tụ tập, cờ bạc"),
        (("dua xe",), "đua xe"),
    ],
    "traffic": [
        (("tai nan", "tong", "va cham", "dam"), "tai nạn giao thông"),
        (("o ga", "o voi", "hu hong", "xuong cap", "sut", "sat lo", "lun"), "đường hư hỏng"),
        (("den tin hieu", "den giao thong", "den do"), "đèn tín hiệu giao thông hỏng"),
        (("bien bao", "go giam toc", "vach ke"), "thiếu biển báo, gờ giảm tốc"),
        (("ket xe", "tac duong", "un tac"), "ùn tắc giao thông"),
        (("nap ho ga", "ho ga"), "hố ga mất nắp"),
    ],
    "administrative_procedures": [
        (("can cuoc", "cccd", "dinh danh"), "thủ tục căn cước, định danh"),
        (("khai sinh", "khai tu", "ket hon", "ho tich", "hon nhan"), "thủ tục hộ tịch"),
        (("thuong tru", "tam tru", "cu tru", "ho khau"), "thủ tục cư trú"),
        (("dich vu cong", "truc tuyen", "qua mang"), "dịch vụ công trực tuyến"),
        (("chung thuc", "sao y"), "chứng thực giấy tờ"),
        (("giay phep kinh doanh", "kinh doanh"), "giấy phép kinh doanh"),
        (("ho so", "mot cua", "thu tuc"), "giải quyết hồ sơ hành chính"),
    ],
    "land": [
        (("so do", "giay chung nhan", "cap so"), "cấp giấy chứng nhận quyền sử dụng đất"),
        (("tranh chap", "ranh gioi", "cot moc", "lan sang"), "tranh chấp đất đai"),
        (("den bu", "boi thuong", "thu hoi", "giai toa"), "bồi thường, thu hồi đất"),
        (("tach thua", "chuyen muc dich"), "tách thửa, chuyển mục đích sử dụng đất"),
        (("quy hoach",), "quy hoạch đất"),
        (("lan chiem", "rao", "chiem"), "lấn chiếm đất"),
    ],
    "utilities": [
        (("den duong", "chieu sang"), "đèn đường không sáng"),
        (("cup dien", "mat dien", "chap chon", "dien ap"), "mất điện"),
        (("day dien", "cot dien", "tram bien ap", "toe lua"), "đường dây, cột điện nguy hiểm"),
        (("tien dien", "cong to", "dong ho"), "hóa đơn, công tơ điện"),
        (("mat nuoc", "cup nuoc", "nuoc yeu", "khong co nuoc"), "mất nước sinh hoạt"),
        (("nuoc duc", "nuoc may", "nuoc sach"), "chất lượng nước máy"),
        (("ong nuoc", "vo ong", "ro ri"), "vỡ, rò rỉ ống nước"),
    ],
    "social_services": [
        (("tro cap", "nguoi cao tuoi", "nguoi co cong", "thuong binh", "khuyet tat"), "chế độ trợ cấp xã hội"),
        (("bao hiem y te", "bhyt"), "bảo hiểm y tế"),
        (("benh vien", "tram y te", "bac si"), "dịch vụ y tế"),
        (("truong", "hoc phi", "hoc sinh", "lop"), "giáo dục, trường học"),
        (("ho ngheo", "neo don", "kho khan"), "hỗ trợ hộ khó khăn"),
        (("tiem chung", "vac xin"), "tiêm chủng"),
    ],
}
_QUESTION = ("cho hoi", "xin hoi", "muon hoi", "hoi thu tuc", "thu tuc", "lam sao", "o dau")
# Operator promises, folded patterns -> phrase; first match wins, so most specific first.
PROMISES: list[tuple[tuple[str, ...], str]] = [
    (("ngay hom nay", "trong ngay", "hom nay"), "hẹn xử lý trong ngày"),
    (("ngay lap tuc", "ngay bay gio", "cu nguoi xuong ngay", "ngay"), "hẹn xử lý ngay"),
    (("cu nguoi", "xuong kiem tra", "kiem tra"), "hẹn cử người kiểm tra"),
    (("goi lai", "bao lai", "phan hoi", "tra loi"), "hẹn phản hồi lại"),
    (("chuyen", "bao cho", "ghi nhan", "tiep nhan"), "đã ghi nhận, chuyển xử lý"),
    (("huong dan",), "đã hướng dẫn"),
]
_DAYS = re.compile(r"\b(trong|sau) (\d+|mot|hai|ba|bon|nam|bay|muoi) ngay\b")


@lru_cache(maxsize=1)
def _labels() -> dict[str, str]:
    data = json.loads(_TAXONOMY.read_text(encoding="utf-8"))
    return {t["key"]: t["vi"] for t in data["topics"]}


def _has(folded: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", folded) is not None


def issue_phrase(topic: str, citizen_folded: str) -> str:
    """The first :data:`ISSUES` phrase of ``topic`` whose keywords occur, else the topic's label."""
    for keys, phrase in ISSUES.get(topic, ()):
        if any(_has(citizen_folded, k) for k in keys):
            return phrase
    label = _labels().get(topic, topic)
    return label[:1].lower() + label[1:]


def where(places: Sequence[dict]) -> str:
    """``hẻm 45 đường Quang Trung, phường Buôn Ma Thuột``: the precise address, then the unit."""
    local = []
    for p in places:
        if p["kind"] in ("house_number", "alley") and not local:
            local.append(("số " + p["name"]) if p["kind"] == "house_number" else p["label"][:1].lower() + p["label"][1:])
        elif p["kind"] == "street":
            if not any(x.startswith(("đường", "quốc lộ", "tỉnh lộ")) for x in local):
                local.append(p["label"][:1].lower() + p["label"][1:])
        elif p["kind"] == "hamlet" and not local:
            local.append(p["label"][:1].lower() + p["label"][1:])
    unit = next((p["label"] for p in places if p["kind"] in ("ward", "commune", "town")), None)
    parts = [" ".join(local)] if local else []
    if unit:
        parts.append(unit)
    elif not local:
        district = next((p["label"] for p in places if p["kind"] == "district"), None)
        if district:
            parts.append(district)
    return ", ".join(parts)


def promise(operator_folded: str) -> str:
    m = _DAYS.search(operator_folded)
    if m:
        return f"hẹn xử lý {m.group(1)} {m.group(2)} ngày" if m.group(2).isdigit() else \
            f"hẹn xử lý {m.group(1)} {_DAY_WORDS.get(m.group(2), m.group(2))} ngày"
    for keys, phrase in PROMISES:
        if any(_has(operator_folded, k) for k in keys):
            return phrase
    return ""


_DAY_WORDS = {"mot": "một", "hai": "hai", "ba": "ba", "bon": "bốn", "nam": "năm", "bay": "bảy", "muoi": "mười"}


def summarize(
    topics: Sequence[str],
    citizen_text: str,
    operator_text: str = "",
    places: Sequence[dict] = (),
    routes: Sequence[dict] = (),
    *,
    urgent: bool = False,
) -> str:
    """One line a manager can scan; ``topics`` are the assigned keys, main first."""
    cit = fold_accents(citizen_text)
    real = [t for t in topics if t != "other"]
    if not real:
        if not cit.strip():
            return "Không có nội dung."
        head = "Cuộc gọi không phản ánh vụ việc cụ thể"
    else:
        phrases = list(dict.fromkeys(issue_phrase(t, cit) for t in real[:2]))
        question = real[0] in ("administrative_procedures", "land", "social_services") and any(
            _has(cit, q) for q in _QUESTION)
        head = ("Hỏi về " if question else "Phản ánh ") + " và ".join(phrases)
        loc = where(places)
        if loc:
            head += f" tại {loc}"
    parts = [head]
    if real and routes:
        parts.append(f"chuyển {routes[0]['agency_vi']}")
    p = promise(fold_accents(operator_text))
    if p:
        parts.append(p)
    line = ("KHẨN: " if urgent else "") + "; ".join(parts) + "."
    while len(line) > MAX_CHARS and len(parts) > 1:
        parts.pop()
        line = ("KHẨN: " if urgent else "") + "; ".join(parts) + "."
    return line[:1].upper() + line[1:] if not urgent else line


def summarize_text(citizen_text: str, operator_text: str = "") -> str:
    """:func:`summarize` of a bare text, as ``hotline summary`` checks it: topics from the
    shipped model, places and routes found in what the citizen said."""
    topics = list(assigned_topics(classify_text(citizen_text, load_topic_model(None))))
    places = [p.as_row() for p in extract_places(citizen_text)]
    routes = [{"agency_vi": r.agency_vi} for r in route_call(topics, places, text=citizen_text)]
    return summarize(topics, citizen_text, operator_text or "", places, routes)
