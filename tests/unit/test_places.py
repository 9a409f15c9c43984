from datetime import date

import pytest

from pipeline.analysis.places import GazetteerError, default_gazetteer, extract_places, load_gazetteer


def kinds(text):
    return [(p.kind, p.name) for p in extract_places(text)]


def test_gazetteer_loads_and_every_replacement_exists():
    gaz = default_gazetteer()
    assert len(gaz.units) >= 40 and len(gaz.streets) >= 40
    renamed = [u for u in gaz.units if u.replaced_by]
    assert len(renamed) >= 5
    for u in renamed:
        new = gaz.resolve(u)
        assert new.valid_to is None and new.code != u.code


def test_old_ward_resolves_to_the_merged_unit():
    (place,) = extract_places("rác ở phường Tân Tiến lâu rồi")
    assert place.kind == "ward"
    assert place.resolved_from == "phường Tân Tiến"
    assert place.name != "Tân Tiến"
    assert place.unit_code == default_gazetteer().resolve(default_gazetteer().unit("legacy-24145")).code


def test_as_of_before_the_merger_keeps_the_old_unit():
    (place,) = extract_places("phường Tân Tiến", as_of=date(2024, 5, 1))
    assert (place.name, place.resolved_from, place.unit_code) == ("Tân Tiến", None, "legacy-24145")


def test_old_province_resolves_to_dak_lak():
    (place,) = extract_places("tôi ở tỉnh Phú Yên")
    assert (place.kind, place.name, place.resolved_from) == ("province", "Đắk Lắk", "tỉnh Phú Yên")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("phuong tan an", ("ward", "Tân An")),
        ("duong y giut", ("street", "Y Jút")),
        ("đường Y Dút bị ngập", ("street", "Y Jút")),
        ("xa cu ebua", ("ward", "Buôn Ma Thuột")),  # old commune Cư Êbur, merged into the ward
        ("phường thành nhứt", ("ward", "Thành Nhất")),  # southern "nhứt", one letter off
        ("đường nguyễn tất thành", ("street", "Nguyễn Tất Thành")),
        ("huyen krong pac", ("district", "Krông Pắc")),
    ],
)
def test_asr_forms_resolve_to_canonical_names(text, expected):
    assert kinds(text)[0] == expected


def test_full_address_in_order_with_offsets_into_the_input():
    text = "Nhà số 45/3, hẻm 123 Y Jút, tổ dân phố 5, phường Tân Lập"
    places = extract_places(text)
    assert [p.kind for p in places] == ["house_number", "alley", "street", "hamlet", "ward"]
    assert places[0].name == "45/3"
    assert places[1].name == "Hẻm 123"
    assert extract_places("kiệt 12/4 Trần Phú")[0].name == "Kiệt 12/4"
    for p in places:
        assert text[p.start : p.end] == p.text
    assert places[-1].as_row()["label"] == "phường Tân Lập"


def test_hamlets_by_number_and_by_name():
    assert kinds("em ở thôn 3 xã Hòa Phú")[0] == ("hamlet", "Thôn 3")
    assert kinds("em ở thôn ba xã Hòa Phú")[0] == ("hamlet", "Thôn 3")
    assert kinds("tổ dân phố mười hai")[0] == ("hamlet", "Tổ dân phố 12")
    assert kinds("buôn Ko Tam")[0] == ("hamlet", "Buôn Ko Tam")
    # the city is not a hamlet called "Ma Thuột"
    assert kinds("Buôn Ma Thuột")[0][0] == "district"


def test_house_number_before_a_known_street():
    assert kinds("ở 123 Lê Duẩn") == [("house_number", "123"), ("street", "Lê Duẩn")]
    places = extract_places("số 78 đường Phan Bội Châu")
    assert [(p.kind, p.text, p.name) for p in places][0] == ("house_number", "số 78", "78")


@pytest.mark.parametrize(
    "text",
    [
        "buôn bán ở đây đông lắm",
        "tổ chức họp dân",
        "nhà em xa quá",
        "con đường này hư hỏng nặng",
        "phương án xử lý thế nào",
        "ăn phở xong",
        "xã hội bây giờ khác rồi",
        "phường mình có ai trực không",
    ],
)
def test_ordinary_words_are_not_places(text):
    assert extract_places(text) == ()


def test_loader_errors_name_the_problem(tmp_path):
    bad = tmp_path / "g.csv"
    bad.write_text("code,name,kind,parent,valid_from,valid_to,replaced_by\nx1,Foo,village,,,,\n", encoding="utf-8")
    with pytest.raises(GazetteerError, match="kind"):
        load_gazetteer(bad, None)
    bad.write_text("code,name,kind,parent,valid_from,valid_to,replaced_by\nx1,Foo,ward,,,2025-06-30,x9\n", encoding="utf-8")
    with pytest.raises(GazetteerError, match="x9"):
        load_gazetteer(bad, None)
    with pytest.raises(GazetteerError, match="cannot read"):
        load_gazetteer(tmp_path / "missing.csv", None)


def test_custom_gazetteer_is_used(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text(
        "# comment\ncode,name,kind,parent,valid_from,valid_to,replaced_by,aliases\n"
        "a,Hòa Bình,commune,,,2025-06-30,b,\nb,Bình Minh,commune,,2025-07-01,,,\n",
        encoding="utf-8",
    )
    (place,) = extract_places("xã hòa bình", load_gazetteer(path, None))
    assert (place.name, place.unit_code, place.resolved_from) == ("Bình Minh", "b", "xã Hòa Bình")
