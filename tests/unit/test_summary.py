"""One-line summaries from extracted facts: on the samples' reference scripts and on ASR-like text."""

import json
import random
from datetime import date
from pathlib import Path

import pytest

from models.asr_noise import vietasr_like
from pipeline.analysis.places import extract_places
from pipeline.analysis.routing import route_call
from pipeline.analysis.summary import summarize

MANIFEST = json.loads((Path(__file__).resolve().parents[2] / "samples" / "manifest.json").read_text(encoding="utf-8"))
SAMPLES = sorted(MANIFEST.items())


def _summary(topics, citizen, operator):
    places = [p.as_row() for p in extract_places(citizen, as_of=date(2026, 11, 10))]
    routes = [{"agency_vi": r.agency_vi} for r in route_call(topics, places, text=citizen)]
    return summarize(topics, citizen, operator, places, routes), places, routes


def _sides(sample):
    turns = sample["turns"]
    return (" ".join(t["text"] for t in turns if t["role"] == "citizen"),
            " ".join(t["text"] for t in turns if t["role"] == "operator"))


# What a manager must read in each sample's summary (from its reference script).
EXPECTED = {
    "environment": ("rác", "phường Buôn Ma Thuột", "hẹn xử lý trong ngày"),
    "urban_order": ("lấn chiếm vỉa hè", "số 45 đường Phan Bội Châu", "hẹn xử lý ngay"),
    "administrative_procedures": ("Hỏi về thủ tục căn cước", "đường Mai Hắc Đế", "Trung tâm Phục vụ hành chính công"),
    "utilities": ("đèn đường", "đường Nguyễn Tất Thành", "hẹn xử lý trong ngày"),
    "traffic": ("đường hư hỏng", "đường Lê Duẩn", "hẹn xử lý ngay"),
}


@pytest.mark.parametrize("name, sample", SAMPLES)
def test_reference_scripts_give_what_where_who_and_promise(name, sample):
    citizen, operator = _sides(sample)
    line, places, routes = _summary(sample["topics"], citizen, operator)
    for part in EXPECTED[sample["topics"][0]]:
        assert part in line, (line, part)
    assert routes and routes[0]["agency_vi"] in line
    assert line.endswith(".") and len(line) <= 200
    # no personal data: the caller's phone number and name never reach the summary
    assert "không chín" not in line and "Hùng" not in line


@pytest.mark.parametrize("name, sample", SAMPLES)
def test_asr_like_text_keeps_the_issue_and_the_unit(name, sample):
    citizen, operator = _sides(sample)
    clean, places, _ = _summary(sample["topics"], citizen, operator)
    rng = random.Random(7)
    noisy_citizen = vietasr_like(citizen, rng, deletion=0.0, other=0.0, rhyme=0.0)
    noisy_operator = vietasr_like(operator, rng, deletion=0.0, other=0.0, rhyme=0.0)
    noisy, noisy_places, _ = _summary(sample["topics"], noisy_citizen, noisy_operator)
    assert noisy.split(" tại ")[0] == clean.split(" tại ")[0]
    units = [p["label"] for p in noisy_places if p["kind"] in ("ward", "commune")]
    for u in units:
        assert u in noisy


def test_two_topics_urgent_and_nothing_said():
    line = summarize(["environment", "utilities"], "rác chất đống mà đèn đường cũng tắt", "dạ tôi ghi nhận", urgent=True)
    assert line.startswith("KHẨN: Phản ánh rác thải không được thu gom và đèn đường không sáng")
    assert line.endswith("đã ghi nhận, chuyển xử lý.")
    assert summarize(["other"], "", "") == "Không có nội dung."
    assert summarize(["other"], "alo alo nghe không", "").startswith("Cuộc gọi không phản ánh")


def test_promise_in_days_and_accentless_text():
    assert "hẹn xử lý trong 3 ngày" in summarize(["land"], "tranh chap dat voi nha ben", "se tra loi trong 3 ngay")
    assert "tranh chấp đất đai" in summarize(["land"], "tranh chap dat voi nha ben", "")
