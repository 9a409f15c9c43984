"""The gazetteer is the 2025 map of vietnamadminunits; old names convert as the package does."""

from datetime import date

import pytest

from pipeline.analysis.places import default_gazetteer, extract_places

vau = pytest.importorskip("vietnamadminunits")


def _current():
    return [u for u in default_gazetteer().units if u.kind in ("ward", "commune", "town") and u.valid_to is None]


def test_every_current_unit_of_the_province_with_its_official_code():
    from vietnamadminunits.database import query

    rows = query("SELECT wardShort, wardType, wardCode FROM admin_units WHERE provinceShort = 'Đắk Lắk'")
    assert len(rows) == 102
    ours = {u.code: u for u in _current()}
    assert len(ours) == 102
    assert sum(u.kind == "ward" for u in ours.values()) == 14
    for r in rows:
        unit = ours[r["wardCode"]]
        assert unit.name == r["wardShort"]
        assert unit.kind == {"Phường": "ward", "Xã": "commune"}[r["wardType"]]


def test_every_old_unit_resolves_to_a_current_one():
    gaz = default_gazetteer()
    old = [u for u in gaz.units if u.kind in ("ward", "commune", "town") and u.valid_to is not None]
    assert len(old) > 250  # Đắk Lắk and the former Phú Yên
    unresolved = [u for u in old if gaz.resolve(u).valid_to is not None]
    assert unresolved == []


# Old addresses: Buôn Ma Thuột wards, merged communes, the former Phú Yên part.
SAMPLE = [
    ("phường Tân Tiến", "Phường Tân Tiến, Thành phố Buôn Ma Thuột, Tỉnh Đắk Lắk"),
    ("phường Thành Công", "Phường Thành Công, Thành phố Buôn Ma Thuột, Tỉnh Đắk Lắk"),
    ("phường Tự An", "Phường Tự An, Thành phố Buôn Ma Thuột, Tỉnh Đắk Lắk"),
    ("phường Khánh Xuân", "Phường Khánh Xuân, Thành phố Buôn Ma Thuột, Tỉnh Đắk Lắk"),
    ("xã Hòa Thắng", "Xã Hòa Thắng, Thành phố Buôn Ma Thuột, Tỉnh Đắk Lắk"),
    ("xã Ea Tu", "Xã Ea Tu, Thành phố Buôn Ma Thuột, Tỉnh Đắk Lắk"),
    ("thị trấn Phước An", "Thị trấn Phước An, Huyện Krông Pắc, Tỉnh Đắk Lắk"),
    ("thị trấn Buôn Trấp", "Thị trấn Buôn Trấp, Huyện Krông A Na, Tỉnh Đắk Lắk"),
    ("xã Ea Kly huyện Krông Pắc", "Xã Ea Kly, Huyện Krông Pắc, Tỉnh Đắk Lắk"),
    ("phường 9 thành phố Tuy Hòa", "Phường 9, Thành phố Tuy Hòa, Tỉnh Phú Yên"),
    ("xã Hòa An huyện Phú Hòa", "Xã Hòa An, Huyện Phú Hòa, Tỉnh Phú Yên"),
    ("thị trấn La Hai", "Thị trấn La Hai, Huyện Đồng Xuân, Tỉnh Phú Yên"),
]


@pytest.mark.parametrize("said, address", SAMPLE)
def test_old_names_convert_like_the_package(said, address):
    expected = vau.convert_address(address)
    places = [p for p in extract_places(said, as_of=date(2026, 1, 5)) if p.kind in ("ward", "commune", "town")]
    assert places, said
    assert places[0].unit_code == expected.ward_code, (said, places[0], expected.short_ward)
    assert places[0].name == expected.short_ward
    old = said.split(" huyện ")[0].split(" thành phố ")[0]
    if old.split(" ", 1)[1] != expected.short_ward:
        assert places[0].resolved_from == old


def test_the_call_date_decides_which_unit_a_name_means():
    # "Tân An" was a ward of Buôn Ma Thuột before July 2025 and is a (larger) ward now
    before = extract_places("phường Tân An", as_of=date(2025, 3, 1))[0]
    after = extract_places("phường Tân An", as_of=date(2025, 9, 1))[0]
    assert before.unit_code.startswith("legacy-") and before.resolved_from is None
    assert not after.unit_code.startswith("legacy-")
    # an old name said after the merger still resolves, with the old label kept
    late = extract_places("phường Tân Tiến", as_of=date(2025, 9, 1))[0]
    assert (late.name, late.resolved_from) == ("Buôn Ma Thuột", "phường Tân Tiến")


def test_wards_merged_in_2024_still_resolve():
    place = extract_places("phường Thắng Lợi")[0]
    assert (place.name, place.resolved_from) == ("Buôn Ma Thuột", "phường Thắng Lợi")


def test_a_district_said_later_picks_among_communes_of_the_same_name():
    gaz = default_gazetteer()
    names = [u for u in gaz.units if u.name == "Ea Kly" and u.valid_to]
    assert names, "sample name must exist"
    place = extract_places("xã Ea Kly, huyện Krông Pắc", as_of=date(2025, 1, 1))[0]
    unit = gaz.unit(place.unit_code)
    assert gaz.unit(unit.parent).name == "Krông Pắc"


def test_precision_and_recall_on_the_daklak_place_set(capsys):
    from pipeline.cli import main
    from pipeline.eval.places import score_text_set
    from tests.helpers import DATA

    written, like = score_text_set(DATA / "places_daklak_test.tsv")
    assert (written.precision, written.recall) >= (0.95, 0.95)
    assert like.precision >= 0.9 and like.recall >= 0.55  # measured 0.950 / 0.637 (seed 16)
    assert written.texts == 30 and like.texts == 5 * written.texts
    # the command prints the same two lines
    assert main(["eval", "places", "--text", str(DATA / "places_daklak_test.tsv")]) == 0
    assert capsys.readouterr().out.splitlines() == [written.line(), like.line()]


def test_recogniser_output_is_scored_against_the_places_really_said(tmp_path):
    from pipeline.eval.places import score_recogniser_output

    hyp = tmp_path / "hyp.tsv"
    hyp.write_text("file\treference\thypothesis\n"
                   "a.wav\trác ở phường tân lập\trác ở phường tân lập\n"
                   "b.wav\tđường dây nóng\tđường dây nóng\n", encoding="utf-8")
    gold = tmp_path / "gold.tsv"
    gold.write_text("# comment\nfile\tkind\tname\nclips/a.wav\tward\tTân Lập\n", encoding="utf-8")
    hypothesis, reference = score_recogniser_output(hyp, gold)
    assert (hypothesis.tp, hypothesis.fn, hypothesis.texts) == (1, 0, 2)  # gold matched by file name, accents folded
    # "đường dây nóng" (the hot line) said no street: whatever the extractor reads there counts against it
    fp = len(extract_places("đường dây nóng"))
    assert hypothesis.fp == reference.fp == fp and hypothesis.precision == 1 / (1 + fp)


def test_eval_places_refuses_a_missing_file_in_one_line(tmp_path, capsys):
    from pipeline.cli import main

    assert main(["eval", "places", "--text", str(tmp_path / "none.tsv")]) != 0
    err = capsys.readouterr().err
    assert "none.tsv" in err and "Traceback" not in err
