"""Issue 30 #1-#3: rules stored and versioned in a real DuckDB warehouse, tried on past calls,
back-applied without duplicates, urgent hits stored as alerts; the ``hotline rules`` commands."""

from __future__ import annotations

from datetime import datetime

import pytest

from pipeline.analysis.rules import DEFAULTS, Rule, RuleError
from pipeline.casework import categories
from pipeline.cli import main
from pipeline.runs.book import store_call
from pipeline.warehouse import db
from pipeline.warehouse import rules as store
from tests.support.fixture_db import build_fixture_db
from tests.support.call_results import one_turn_result as _result

FIRE = "Nhà bên cạnh đang bị cháy, khói bốc lên nhiều lắm."


@pytest.fixture(scope="module")
def _template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rules")
    ids = build_fixture_db(folder / "t.duckdb", folder / "rec")
    con = db.connect(folder / "t.duckdb")
    # One call about rubbish in phường Tân Tiến where the citizen also reports a fire, 1.2 s in.
    fire = con.execute("SELECT min(call_id) FROM call_topics WHERE topic = 'environment' AND assigned").fetchone()[0]
    con.execute("UPDATE segments SET text = ? WHERE call_id = ? AND role = 'citizen'", [FIRE, fire])
    con.close()
    return folder / "t.duckdb", fire


@pytest.fixture
def warehouse(_template, tmp_path):
    path = tmp_path / "hotline.duckdb"
    path.write_bytes(_template[0].read_bytes())
    return path, _template[1]


def test_defaults_are_in_force_before_anything_is_stored(warehouse):
    path, _ = warehouse
    con = db.connect(path)
    rules = categories.rules_in_force(con)
    assert [r.name for r in rules] == sorted(r.name for r in DEFAULTS)
    assert all(r.version == 0 and r.saved_by == "shipped" for r in rules)
    con.close()


def test_each_save_is_a_new_version_with_who_and_when(warehouse):
    path, _ = warehouse
    con = db.connect(path)
    rule = Rule("rac-thai", "Rác thải", {"said": {"by": "citizen", "phrases": ["rác"]}})
    v1 = categories.save_rule(con, rule, "minh", now=datetime(2026, 12, 1, 9))
    v2 = categories.save_rule(con, Rule("rac-thai", "Rác thải (sửa)", {"said": {"by": "citizen", "phrases": ["rác", "bốc mùi"]}}),
                              "an", now=datetime(2026, 12, 2, 9))
    assert (v1.version, v2.version) == (1, 2)
    history = store.rule_history(con, "rac-thai")
    assert [(h["version"], h["saved_by"], h["title"]) for h in history] == [(1, "minh", "Rác thải"),
                                                                              (2, "an", "Rác thải (sửa)")]
    assert categories.find_rule(con, "rac-thai").title == "Rác thải (sửa)"
    with pytest.raises(RuleError):
        categories.save_rule(con, Rule("rac-thai", "x", {"said": {"by": "nobody", "phrases": ["rác"]}}), "an")
    assert len(store.rule_history(con, "rac-thai")) == 2   # a refused rule stores nothing
    con.close()


def test_trying_a_rule_counts_matches_among_the_last_calls_and_stores_nothing(warehouse):
    path, fire = warehouse
    con = db.connect(path)
    trial = categories.try_rule(con, categories.find_rule(con, "khan-cap-tu-khoa"), last=500)
    assert (trial.n_calls, trial.n_matched) == (36, 1)
    assert trial.examples == ((fire, 1.2),)             # the citizen's turn starts 1.2 s in
    phone = categories.try_rule(con, categories.find_rule(con, "doc-so-ca-nhan"), last=10)
    assert phone.n_calls == 10 and 0 < phone.n_matched < 10
    assert store.n_hits(con) == 0 and store.latest_versions(con) == []
    con.close()


def test_back_apply_is_idempotent_and_raises_one_alert_per_urgent_hit(warehouse):
    path, fire = warehouse
    con = db.connect(path)
    first = categories.apply_rules(con, now=datetime(2026, 12, 3, 8))
    assert first.n_calls == 36 and first.n_new_alerts == 1
    n = store.n_hits(con)
    assert n == first.n_hits > 0
    again = categories.apply_rules(con, now=datetime(2026, 12, 3, 9))
    assert (again.n_hits, again.n_new_alerts) == (first.n_hits, 0)
    assert store.n_hits(con) == n                          # replaced, not duplicated
    [alert] = store.alerts(con)
    assert alert["call_id"] == fire and alert["rule_name"] == "khan-cap-tu-khoa" and alert["rule_version"] == 1
    assert alert["moment_s"] == 1.2 and alert["topic"] == "environment" and alert["ward"] == "Tân Tiến"
    assert alert["created_at"] == datetime(2026, 12, 3, 8)  # kept from the first apply
    hits = store.hits_of_call(con, fire)
    assert ("khan-cap-tu-khoa", 1.2) in [(h["rule_name"], h["moment_s"]) for h in hits]
    # the shipped defaults were stored as version 1 by the first apply, and only once
    assert {(r["name"], r["version"], r["saved_by"]) for r in store.latest_versions(con)} == {
        (r.name, 1, "shipped") for r in DEFAULTS}
    con.close()


def test_a_new_version_gets_its_own_hits_and_the_old_ones_stay(warehouse):
    path, _ = warehouse
    con = db.connect(path)
    categories.apply_rules(con)
    before = con.execute("SELECT count(*) FROM rule_hits WHERE rule_name = 'doc-so-ca-nhan'").fetchone()[0]
    assert before > 0
    categories.save_rule(con, Rule("doc-so-ca-nhan", "Môi trường", {"topic": ["environment"]}), "an")
    categories.apply_rules(con)
    by_version = dict(con.execute("SELECT rule_version, count(*) FROM rule_hits WHERE rule_name = 'doc-so-ca-nhan' "
                                  "GROUP BY ALL").fetchall())
    n_env = con.execute("SELECT count(*) FROM call_topics WHERE topic = 'environment' AND assigned").fetchone()[0]
    assert by_version == {1: before, 2: n_env}
    con.close()


def test_rules_commands(warehouse, capsys):
    path, fire = warehouse
    assert main(["rules", "list", "--db", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == sorted(r.name for r in DEFAULTS)
    assert main(["rules", "test", "khan-cap-tu-khoa", "--db", str(path), "--last", "500"]) == 0
    out = capsys.readouterr().out
    assert "would have matched 1 of the last 36 calls" in out and fire in out
    assert main(["rules", "apply", "--db", str(path)]) == 0
    assert "1 new alert(s)" in capsys.readouterr().out
    assert main(["rules", "apply", "--db", str(path)]) == 0
    assert "0 new alert(s)" in capsys.readouterr().out
    assert main(["rules", "test", "khong-co", "--db", str(path)]) == 2
    assert "no rule named" in capsys.readouterr().err


def test_the_run_book_tags_each_call_as_it_is_stored(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    store_call(con, _result(text="nha ben canh dang bi chay"), "run1")
    call_id = _result().recording.call_id
    assert [(h["rule_name"], h["moment_s"]) for h in store.hits_of_call(con, call_id)
            if h["rule_name"] == "khan-cap-tu-khoa"] == [("khan-cap-tu-khoa", 0.5)]
    assert [a["rule_name"] for a in store.alerts(con)] == ["khan-cap-tu-khoa"]
    store_call(con, _result(text="nha ben canh dang bi chay"), "run2")   # reloaded: nothing doubles
    assert len(store.alerts(con)) == 1
    con.close()


def test_a_rule_typed_on_the_command_line_is_tried_then_saved(warehouse, capsys):
    path, fire = warehouse
    condition = '{"all": [{"said": {"by": "citizen", "phrases": ["khoi"]}}, {"topic": ["environment"]}]}'
    assert main(["rules", "test", "khoi-rac", "--condition", condition, "--db", str(path)]) == 0
    assert f"would have matched 1 of the last 36 calls; e.g. {fire} (1 s)" in capsys.readouterr().out
    assert main(["rules", "list", "--db", str(path)]) == 0
    assert "khoi-rac" not in capsys.readouterr().out                # tried, not saved
    assert main(["rules", "save", "khoi-rac", "--title", "Khói ở khu rác", "--condition", condition, "--urgent",
                 "--by", "minh", "--db", str(path)]) == 0
    assert "version 1 saved by minh" in capsys.readouterr().out
    assert main(["rules", "list", "--db", str(path)]) == 0
    assert "khoi-rac  v1 urgent Khói ở khu rác" in capsys.readouterr().out
    assert main(["rules", "save", "khoi-rac", "--title", "x", "--condition", "{not json", "--by", "minh",
                 "--db", str(path)]) == 2
    assert "not JSON" in capsys.readouterr().err
