"""person_name: citizens' names redacted, streets, schools and parks named after people kept."""

import json
import re
from pathlib import Path

import pytest

from pipeline import cli
from pipeline.analysis.names import find_names, initials
from pipeline.analysis.pii import KINDS, TAGS, PiiSpan, find_pii, redact, redact_call, redact_segments
from pipeline.eval.redaction import PiiCase, read_pii_cases, score_redaction

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
NAMES = DATA / "pii_names.tsv"
NAMES_HOLDOUT = DATA / "pii_names_holdout.tsv"
NAMES_BLIND = DATA / "pii_names_blind.tsv"
OTHER_CASES = [DATA / "pii_cases.tsv", DATA / "pii_cases_holdout.tsv", DATA / "pii_cases_blind.tsv"]


def _asr_form(text: str) -> str:
    """What viet-asr writes: lower case, no punctuation (replaced by spaces, so offsets hold)."""
    return re.sub(r"[^\w\s']", " ", text.lower())


def _as(cases, transform):
    out = []
    for c in cases:
        t = transform(c.text)
        assert len(t) == len(c.text)
        out.append(PiiCase(t, tuple(PiiSpan(s.kind, s.start, s.end, t[s.start : s.end]) for s in c.spans)))
    return out


def test_the_names_file_has_enough_names_and_place_negatives():
    cases = read_pii_cases(NAMES)
    names = [s for c in cases for s in c.spans if s.kind == "person_name"]
    negatives = [c for c in cases if not c.spans]
    assert len(cases) >= 150 and len(names) >= 150
    assert len(negatives) >= 60
    # both writings are there: capitalised with punctuation, and ASR form
    assert sum(1 for c in cases if c.text == c.text.lower()) >= 60
    assert sum(1 for c in cases if c.text != c.text.lower()) >= 60


@pytest.mark.parametrize("path", [NAMES, NAMES_HOLDOUT, NAMES_BLIND])
@pytest.mark.parametrize("form", ["as written", "asr form"])
def test_person_names_meet_the_targets_and_no_place_is_redacted(path, form):
    cases = read_pii_cases(path)
    if form == "asr form":
        cases = _as(cases, _asr_form)
    score = score_redaction(cases)["person_name"]
    assert score.recall >= 0.90
    assert score.precision >= 0.95
    redacted_places = [c.text for c in cases if not c.spans and find_pii(c.text)]
    assert redacted_places == []


@pytest.mark.parametrize("path", OTHER_CASES + [NAMES])
def test_other_kinds_are_found_exactly_as_without_names(path):
    for case in read_pii_cases(path):
        with_names = [s for s in find_pii(case.text) if s.kind != "person_name"]
        assert with_names == list(find_pii(case.text, names=False))


@pytest.mark.parametrize(
    "text",
    [
        "đường Nguyễn Tất Thành bị ngập",
        "Em ở số 12 Lê Duẩn.",
        "trường THCS Phan Chu Trinh",
        "phố Bà Triệu mất điện",
        "ngõ 5 Hai Bà Trưng",
        "công viên Võ Thị Sáu",
        "chợ nguyễn công trứ",
        "Đèn ở ngã tư Lê Duẩn với Y Jút bị tắt.",
        "bà con ở Đắk Lắk phản ánh",
        "Trung tâm y tế huyện Cư M'gar",
        "Cầu Võ Văn Kiệt bị nứt.",
        "dạ em ở Ea H'leo",
        "trưởng thôn Tân Hòa nói",
        "chủ tịch xã Hòa Phú",
    ],
)
def test_places_named_after_people_stay(text):
    assert redact(text).text == text


@pytest.mark.parametrize(
    "text, name",
    [
        ("ông Võ Văn Kiệt hàng xóm nhà tôi đổ rác", "Võ Văn Kiệt"),  # a street's name, but a person here
        ("chị H'Hen Niê ở buôn Kô Siêr", "H'Hen Niê"),
        ("tôi là y bih niê nhà ở đường y ngông", "y bih niê"),
        ("em tên là nguyễn văn hừng", "nguyễn văn hừng"),  # misheard, taken after "tên là"
        ("Bà Triệu Thị Lan bị mất ví.", "Triệu Thị Lan"),
        ("già làng Y Khu Niê nói vậy", "Y Khu Niê"),  # a title ending in a place word, then a person
        ("trưởng thôn Lương Văn Cường không cho họp", "Lương Văn Cường"),
    ],
)
def test_people_named_like_streets_or_misheard_are_redacted(text, name):
    out = redact(text)
    assert name not in out.text and "[TÊN]" in out.text


@pytest.mark.parametrize(
    "text",
    [
        "anh chú ý giúp em",
        "tôi là người dân ở đây",
        "bảy tên khống chế cướp tài sản",
        "cho con mười bốn tuổi đi làm căn cước",
        "anh liên hệ giúp em",
        "chị thông cảm cho em",
        "em là sinh viên",
    ],
)
def test_ordinary_words_after_cues_are_not_names(text):
    assert [s for s in find_pii(text) if s.kind == "person_name"] == []


def test_person_name_is_a_kind_with_its_tag_and_the_eval_reads_it(tmp_path, capsys):
    assert "person_name" in KINDS and TAGS["person_name"] == "[TÊN]"
    f = tmp_path / "c.tsv"
    f.write_text('text\tspans\nem tên Lan ở đường Lê Duẩn\t[["person_name", "Lan"]]\n', encoding="utf-8")
    assert cli.main(["eval", "redaction", str(f)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("person_name"))
    assert row.split()[1:5] == ["1", "1", "1", "1"]


def test_operator_name_is_kept_or_not_by_the_setting_but_the_callers_never():
    texts = ["Tổng đài 1022 xin nghe, em là Ngọc Anh ạ.", "Chào em, tôi tên Nguyễn Văn Hùng.", "Dạ, anh Hùng cho em xin địa chỉ."]
    roles = ["operator", "citizen", "operator"]
    kept, counts = redact_call(texts, roles, keep_operator_name=True)
    assert [r.text for r in kept] == [texts[0], "Chào em, tôi tên [TÊN].", "Dạ, anh [TÊN] cho em xin địa chỉ."]
    assert counts == {"person_name": 2}
    gone, counts = redact_call(texts, roles, keep_operator_name=False)
    assert gone[0].text == "Tổng đài 1022 xin nghe, em là [TÊN] ạ."
    assert counts == {"person_name": 3}
    # an operator repeating the caller's name ("chị tên là Lan") does not keep it
    out = redact_segments(["dạ chị tên là Lan ạ"], ["operator"], keep_operator_name=True)
    assert out[0].text == "dạ chị tên là [TÊN] ạ"


@pytest.mark.parametrize("form", ["as written", "asr form"])
def test_sample_calls_carry_no_citizen_name_and_keep_their_streets(form):
    manifest = json.loads((REPO / "samples" / "manifest.json").read_text(encoding="utf-8"))
    f = _asr_form if form == "asr form" else (lambda t: t)
    stored = []
    for entry in manifest.values():
        turns = entry["turns"]
        out, _ = redact_call([f(t["text"]) for t in turns], [t["role"] for t in turns], keep_operator_name=True)
        stored.extend(r.text for r in out)
    text = " ".join(stored).lower()
    assert "hùng" not in text and text.count("[tên]") == 1
    for street in ("y jút", "phan bội châu", "mai hắc đế", "nguyễn tất thành", "lê duẩn"):
        assert street in text


def test_spans_carry_the_cue_and_initials_follow_the_press():
    spans = find_names("Tôi là Y Bih Niê, hàng xóm là ông Lê Văn Tám.")
    assert [s.cue for s in spans] == ["self", "kin"]
    assert initials("Nguyễn Văn Hùng") == "N.V.H."
    assert initials("H'Hen Niê") == "H.H.N."
    assert initials("") == ""


def test_caller_initials_come_from_the_citizens_own_introduction():
    from pipeline.analysis.pii import caller_initials

    texts = ["em là Ngọc Anh, tổng đài 1022 xin nghe", "dạ tôi tên là Nguyễn Văn Hùng ở Tân Lợi", "anh Hùng ơi"]
    assert caller_initials(texts, ["operator", "citizen", "operator"]) == "N.V.H."
    assert caller_initials(texts[:1], ["operator"]) is None
    assert caller_initials(["chị Lan ở đường Lê Duẩn báo"], ["citizen"]) is None  # a name, but not the caller's own


@pytest.mark.parametrize("path", [DATA / "topics_test.tsv", DATA / "topics_test_asr.tsv"])
def test_complaints_without_names_get_none(path):
    # 163 hotline complaints (and their ASR-like variants) hold one name: "anh cán bộ tên Hùng"
    import csv

    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    found = {s.text.lower() for r in rows for s in find_pii(r["text"]) if s.kind == "person_name"}
    assert found <= {"hùng", "hung"}


def test_a_name_split_across_segments_is_redacted_in_both_and_counted_once():
    out, counts = redact_call(["dạ tôi tên là nguyễn", "văn hùng ở tân lợi"], ["citizen", "citizen"])
    assert [r.text for r in out] == ["dạ tôi tên là [TÊN]", "[TÊN] ở tân lợi"]
    assert counts == {"person_name": 1}
