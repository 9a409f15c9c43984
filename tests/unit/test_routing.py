import pytest

from pipeline.analysis.places import extract_places
from pipeline.analysis.routing import RoutingTableError, default_routing_table, load_routing_table, route_call


def agencies(topics, text):
    return [r.agency_vi for r in route_call(topics, extract_places(text), text=text)]


def test_table_topics_exist_in_the_taxonomy():
    import json

    from pipeline.config import REPO_ROOT

    keys = {t["key"] for t in json.loads((REPO_ROOT / "models" / "taxonomy.json").read_text("utf-8"))["topics"]}
    assert {r.topic for r in default_routing_table().rules} - {"*"} <= keys


def test_environment_goes_to_the_ward_named_in_the_call_first():
    routes = route_call(["environment"], extract_places("rác ở phường Tân An"), text="rác ở phường Tân An")
    assert routes[0].agency_vi == "UBND phường Tân An"
    assert "phường Tân An" in routes[0].reason
    assert len({r.agency_vi for r in routes}) == len(routes)


def test_an_old_ward_routes_to_the_unit_that_replaced_it():
    text = "phường Tân Tiến có rác"
    new = extract_places(text)[0].label
    assert new != "phường Tân Tiến"
    routes = route_call(["environment"], extract_places(text), text=text)
    assert routes[0].agency_vi == f"UBND {new}"
    assert "said as phường Tân Tiến" in routes[0].reason


def test_utilities_choose_power_or_water_by_keyword():
    power = agencies(["utilities"], "nhà em mất điện từ sáng")
    water = agencies(["utilities"], "khu này mất nước ba ngày")
    assert any("Điện lực" in a for a in power) and not any("cấp nước" in a for a in power)
    assert any("cấp nước" in a for a in water) and not any("Điện lực" in a for a in water)


def test_keywords_respect_accents_that_are_there():
    # "chạy" (run) must not trigger the fire route for "cháy"
    assert not any("PCCC" in a for a in agencies(["traffic"], "xe chạy quá nhanh"))
    assert any("PCCC" in a for a in agencies(["other"], "nha ben canh bi chay"))


def test_no_ward_said_falls_back_to_an_unidentified_unit():
    routes = agencies(["environment"], "rác đầy đường")
    assert any("chưa xác định" in a for a in routes)
    assert not any("{unit}" in a for a in routes)


def test_place_rows_from_the_warehouse_work_like_places():
    text = "đánh nhau ở phường Thành Nhất"
    rows = [p.as_row() for p in extract_places(text)]
    assert route_call(["security_order"], rows, text=text) == route_call(["security_order"], extract_places(text), text=text)
    assert route_call(["security_order"], rows, text=text)[0].agency_vi == "Công an phường Thành Nhất"


def test_custom_table_and_bad_condition(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(
        "topic,condition,agency,agency_vi,priority\n"
        "land,place:commune & keyword:ranh giới,Commune {unit},UBND {unit},2\n"
        "land,,Land office,Văn phòng đăng ký đất đai,1\n",
        encoding="utf-8",
    )
    table = load_routing_table(path)
    text = "tranh chấp ranh giới ở xã Hòa Phú"
    routes = route_call(["land"], extract_places(text), table, text=text)
    assert [r.agency_vi for r in routes] == ["Văn phòng đăng ký đất đai", "UBND xã Hòa Phú"]
    assert route_call(["land"], [], table, text="tranh chấp") == (routes[0],)
    path.write_text("topic,condition,agency,agency_vi,priority\nland,weather:rain,a,b,1\n", encoding="utf-8")
    with pytest.raises(RoutingTableError, match=":2:"):
        load_routing_table(path)
