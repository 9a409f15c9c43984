"""Summary, sentiment and similar calls on the pages (issue 16), on the fixture warehouse."""

import duckdb


def _annotate(web_db, call_ids):
    con = duckdb.connect(str(web_db))
    con.execute("UPDATE calls SET summary = 'Phản ánh rác thải không được thu gom tại phường Tân An.', "
                "frustration = 0.8, frustrated = TRUE, repeat_unresolved = TRUE WHERE call_id = ?", [call_ids[0]])
    seq = con.execute("SELECT min(seq) FROM segments WHERE call_id = ?", [call_ids[0]]).fetchone()[0]
    con.execute("INSERT INTO turn_sentiment VALUES (?, ?, 'citizen', 'angry', 0.9)", [call_ids[0], seq])
    con.close()


def test_call_page_list_export_and_dashboard_show_it(web_db, call_ids, client_as):
    _annotate(web_db, call_ids)
    manager = client_as("manager")
    page = manager.get(f"/calls/{call_ids[0]}").text
    assert 'id="summary"' in page and "Phản ánh rác thải không được thu gom" in page
    assert 'class="mood mood-angry"' in page and "giận dữ" in page
    assert 'id="mood"' in page and "Mức bức xúc: 0,80" in page and "chưa được giải quyết" in page  # decimal comma
    con = duckdb.connect(str(web_db))
    con.execute("UPDATE calls SET summary = 'Hỏi về thủ tục hộ tịch.' WHERE call_id = ?", [call_ids[-1]])
    con.close()
    assert '<div class="summary">Hỏi về thủ tục hộ tịch.</div>' in manager.get("/calls").text
    csv_text = manager.get("/export.csv").content.decode("utf-8-sig")
    assert "Tóm tắt" in csv_text.splitlines()[0].split(",")  # the export's Vietnamese header (issue 15)
    assert "Phản ánh rác thải không được thu gom tại phường Tân An." in csv_text
    dash = manager.get("/dashboard?from=2021-01-01&to=2030-12-31").text
    assert 'id="frustration"' in dash


def test_similar_calls_listed_on_the_call_page(web_db, call_ids, client_as):
    from pipeline.warehouse.similar import similar_calls

    con = duckdb.connect(str(web_db), read_only=True)
    expected = similar_calls(con, call_ids[-1])
    con.close()
    page = client_as("manager").get(f"/calls/{call_ids[-1]}").text
    assert expected, "the fixture has calls of the same topic near in time"
    assert 'id="similar"' in page and f'/calls/{expected[0]["call_id"]}' in page
    assert expected[0]["call_id"] != call_ids[-1]


def test_queue_page_follows_the_queue_priority(web_db, call_ids, client_as):
    con = duckdb.connect(str(web_db))
    queued = [r[0] for r in con.execute("SELECT call_id FROM mart_review_queue WHERE NOT urgent "
                                        "ORDER BY priority").fetchall()]
    assert len(queued) >= 2
    last = queued[-1]
    con.execute("UPDATE calls SET frustrated = TRUE, repeat_unresolved = TRUE, frustration = 0.9 WHERE call_id = ?",
                [last])
    order = [r[0] for r in con.execute("SELECT call_id FROM mart_review_queue ORDER BY priority").fetchall()]
    con.close()
    n_urgent = len(order) - len(queued)
    assert order[n_urgent] == last  # right after the urgent calls
    html = client_as("manager").get("/calls?queue=1&limit=200").text
    positions = [html.find(f"/calls/{c}") for c in order]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
