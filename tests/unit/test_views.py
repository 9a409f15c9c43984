"""Reporting views (stg_ → mart_): data tests are queries that return offending rows."""

from __future__ import annotations

import re

import duckdb
import pytest

from pipeline.warehouse.db import views
from pipeline.web import data


@pytest.fixture
def con(web_db):
    con = duckdb.connect(str(web_db))
    yield con
    con.close()


def test_every_view_is_a_cte_chain_ending_in_final():
    sql = "\n".join(text for _, text in views())  # pipeline/warehouse/views/NN_name.sql
    views_found = re.findall(r"CREATE OR REPLACE VIEW (\w+) AS\s+WITH (.*?);", sql, flags=re.S)
    assert len(views_found) >= 15
    for name, body in views_found:
        assert name.startswith(("stg_", "mart_")), name
        assert re.search(r"final AS \(.*\)\s*SELECT \* FROM final\s*$", body, flags=re.S), name


def test_weekly_and_monthly_trends_count_every_assigned_topic_once(con):
    assigned = con.execute("SELECT count(*) FROM call_topics WHERE source = 'model' AND assigned").fetchone()[0]
    assert con.execute("SELECT sum(n_calls) FROM mart_topic_trends_weekly").fetchone()[0] == assigned
    assert con.execute("SELECT sum(n_calls) FROM mart_topic_trends_monthly").fetchone()[0] == assigned
    offending = con.execute("SELECT * FROM mart_topic_trends_weekly WHERE isodow(week) <> 1").fetchall()
    assert offending == []


def test_qa_correction_moves_the_trend(con):
    cid, topic = con.execute("SELECT call_id, topic FROM call_topics WHERE assigned ORDER BY call_id LIMIT 1").fetchone()
    before = dict(con.execute("SELECT topic, sum(n_calls) FROM mart_topic_trends_monthly GROUP BY ALL").fetchall())
    data.correct_topic(con, cid, topic, "remove", "lan")
    data.correct_topic(con, cid, "other", "add", "lan")
    after = dict(con.execute("SELECT topic, sum(n_calls) FROM mart_topic_trends_monthly GROUP BY ALL").fetchall())
    assert after[topic] == before[topic] - 1
    assert after["other"] == before.get("other", 0) + 1


def test_place_hotspots_only_admin_units_and_totals_match(con):
    n = con.execute("SELECT count(DISTINCT (call_id, coalesce(name, text))) FROM call_places "
                    "WHERE kind IN ('ward', 'commune', 'town')").fetchone()[0]
    assert con.execute("SELECT sum(n_calls) FROM mart_place_hotspots").fetchone()[0] == n
    assert con.execute("SELECT * FROM mart_place_hotspots WHERE n_urgent > n_calls").fetchall() == []


def test_call_volume_covers_every_call(con):
    n = con.execute("SELECT count(*) FROM calls WHERE status = 'done'").fetchone()[0]
    assert con.execute("SELECT sum(n_calls) FROM mart_call_volume").fetchone()[0] == n
    assert con.execute("SELECT * FROM mart_call_volume WHERE call_hour NOT BETWEEN 0 AND 23 "
                       "OR call_weekday NOT BETWEEN 1 AND 7").fetchall() == []


def test_operator_metrics_sum_to_calls(con):
    n = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    assert con.execute("SELECT sum(n_calls) FROM mart_operator_daily").fetchone()[0] == n
    talk = con.execute("SELECT sum(value) FROM call_metrics WHERE scope = 'operator' AND name = 'talk_time_s'").fetchone()[0]
    assert con.execute("SELECT sum(operator_talk_s) FROM mart_operator_daily").fetchone()[0] == pytest.approx(talk)


def test_review_queue_urgent_first_then_low_confidence_and_reviewed_leave_it(con):
    rows = con.execute("SELECT call_id, urgent, confidence FROM mart_review_queue ORDER BY priority").fetchall()
    keys = [(not urgent, conf) for _, urgent, conf in rows]
    assert keys == sorted(keys) and rows[0][1]
    data.mark_reviewed(con, rows[0][0], "lan")
    assert rows[0][0] not in {r[0] for r in con.execute("SELECT call_id FROM mart_review_queue").fetchall()}
    assert con.execute("SELECT * FROM mart_review_queue WHERE NOT (needs_review OR urgent)").fetchall() == []
