"""Views are files (pipeline/warehouse/views/NN_name.sql) re-created when their fingerprint changes.

An existing warehouse, migrated through 012 by an earlier version (views made by
migrations 003, 007 and 012), must come out of its first read-write opening with the
same views: same names, same columns, same rows, and the same definitions a new
warehouse gets.
"""

from __future__ import annotations

import re

import duckdb
import pytest

from pipeline.warehouse import db

LAST_OLD_MIGRATION = 12  # the views lived in migrations up to here


def _old_style_warehouse(path, data_from):
    """What the version before view files made: migrations 001-012 only, with ``data_from``'s rows."""
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)")
    for version, name, sql in db.migrations():
        if version <= LAST_OLD_MIGRATION:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
    con.execute(f"ATTACH '{data_from}' AS src (READ_ONLY)")
    tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'src' "
                                        "AND table_name NOT IN ('schema_migrations', 'schema_views')").fetchall()]
    old_tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()}
    for table in (t for t in tables if t in old_tables):  # tables and columns of later migrations left out
        old_columns = {r[0] for r in con.execute(f"DESCRIBE main.{table}").fetchall()}
        columns = ", ".join(r[0] for r in con.execute(f"DESCRIBE src.{table}").fetchall() if r[0] in old_columns)
        con.execute(f"INSERT INTO main.{table} BY NAME SELECT {columns} FROM src.{table}")
    con.execute("DETACH src")
    return con


def _views(con) -> dict[str, str]:
    return dict(con.execute("SELECT view_name, sql FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'").fetchall())


def _shape_and_rows(con, names, like=None):
    """Columns and rows of each view; with ``like`` (an earlier result), only the columns it had
    (a later migration may add a column to a view: stg_calls.transcript_readable, migration 014)."""
    out = {}
    for name in names:
        columns = con.execute(f"DESCRIBE {name}").fetchall()
        if like is not None:
            keep = {c[0] for c in like[name][0]}
            columns = [c for c in columns if c[0] in keep]
        listed = ", ".join(f'"{c[0]}"' for c in columns)
        rows = con.execute(f"SELECT {listed} FROM {name} ORDER BY ALL").fetchall()
        out[name] = (columns, rows)
    return out


def test_every_view_file_defines_the_view_its_name_says_as_a_cte_chain():
    shipped = db.views()
    assert len(shipped) >= 15
    stg_seen_last = 0
    for i, (name, sql) in enumerate(shipped):
        assert name.startswith(("stg_", "mart_")), name
        assert re.findall(r"CREATE OR REPLACE VIEW (\w+) AS", sql) == [name], name
        assert re.search(r"AS\s+WITH .*final AS \(.*\)\s*SELECT \* FROM final;\s*$", sql, flags=re.S), name
        if name.startswith("stg_"):
            stg_seen_last = i
    assert all(not n.startswith("stg_") for n, _ in shipped[stg_seen_last + 1:])
    assert [n for n, _ in shipped if n.startswith("stg_")] == [n for n, _ in shipped[:stg_seen_last + 1]]


def test_an_old_warehouse_comes_out_with_the_same_views(web_db, tmp_path):
    old_path = tmp_path / "old.duckdb"
    con = _old_style_warehouse(old_path, web_db)
    old_views = _views(con)
    assert {"stg_calls", "mart_review_queue", "mart_cases_by_unit"} <= set(old_views)
    before = _shape_and_rows(con, sorted(old_views))
    assert sum(len(rows) for _, rows in before.values()) > 100  # the views see real rows
    con.close()

    con = db.connect(old_path)  # the first read-write opening with this version
    assert con.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] >= 13
    upgraded = _views(con)
    assert set(upgraded) >= set(old_views)  # a later version may add views (stg_rule_hits, issue 30)
    assert _shape_and_rows(con, sorted(old_views), like=before) == before
    assert con.execute("SELECT fingerprint FROM schema_views").fetchone()[0] == db.views_fingerprint()
    con.close()

    fresh = db.connect(tmp_path / "fresh.duckdb")
    assert _views(fresh) == upgraded  # the same definitions, text included
    fresh.close()


def test_views_are_rewritten_only_when_their_files_change(tmp_path, monkeypatch):
    path = tmp_path / "w.duckdb"
    db.connect(path).close()
    con = duckdb.connect(str(path))
    stamp = con.execute("SELECT applied_at FROM schema_views").fetchone()[0]
    assert db.refresh_views(con) is False  # same files: nothing rewritten
    con.close()
    db.connect(path, read_only=True).close()
    db.connect(path, migrate_schema=False).close()  # what the web app opens per request
    con = db.connect(path)
    assert con.execute("SELECT applied_at FROM schema_views").fetchone()[0] == stamp
    con.close()

    shipped = db.views()
    changed = [(n, s.replace("count(*) AS n_calls", "count(*) AS n_calls, 1 AS added") if n == "mart_call_volume" else s)
               for n, s in shipped if n != "mart_case_callbacks"]
    changed.append(("mart_extra", "CREATE OR REPLACE VIEW mart_extra AS WITH final AS (SELECT 1 AS one) SELECT * FROM final;"))
    monkeypatch.setattr(db, "views", lambda: changed)
    con = db.connect(path)
    names = _views(con)
    assert "added" in [r[0] for r in con.execute("DESCRIBE mart_call_volume").fetchall()]
    assert "mart_extra" in names
    assert "mart_case_callbacks" not in names  # created by the earlier set, gone from the files: dropped
    assert con.execute("SELECT fingerprint FROM schema_views").fetchone()[0] == db.views_fingerprint(changed)
    assert con.execute("SELECT count(*) FROM schema_views").fetchone()[0] == 1
    con.close()


def test_a_broken_view_file_leaves_the_old_views_and_fingerprint(tmp_path, monkeypatch):
    path = tmp_path / "w.duckdb"
    db.connect(path).close()
    shipped = db.views()
    broken = [(n, "CREATE OR REPLACE VIEW mart_call_volume AS SELECT no_such_column FROM calls;" if n == "mart_call_volume"
               else s.replace("count(*) AS n_calls", "count(*) AS n_calls, 2 AS changed")) for n, s in shipped]
    monkeypatch.setattr(db, "views", lambda: broken)
    with pytest.raises(duckdb.Error):
        db.connect(path)
    monkeypatch.undo()
    con = duckdb.connect(str(path))
    assert con.execute("SELECT fingerprint FROM schema_views").fetchone()[0] == db.views_fingerprint()
    for name in ("mart_topic_trends_weekly", "mart_call_volume"):  # before and after the broken file: unchanged
        assert "changed" not in [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()]
    con.close()


def _variant(shipped, i):
    return [(n, s.replace("count(*) AS n_calls", f"count(*) AS n_calls, {i} AS v")) for n, s in shipped]


def test_readers_keep_working_while_the_views_are_re_created(tmp_path, monkeypatch):
    import threading

    path = tmp_path / "w.duckdb"
    db.connect(path).close()
    writer = duckdb.connect(str(path))
    shipped = db.views()
    errors, rounds, stop = [], [0], threading.Event()

    def read():
        con = writer.cursor()  # another connection to the same database, as a web request has
        while not stop.is_set():
            try:
                for name, _ in shipped:
                    con.execute(f"SELECT * FROM {name} LIMIT 1").fetchall()
                rounds[0] += 1
            except duckdb.Error as exc:
                errors.append(exc)
                return

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(10):
            monkeypatch.setattr(db, "views", lambda v=_variant(shipped, i): v)
            assert db.refresh_views(writer) is True
    finally:
        stop.set()
        reader.join()
    assert errors == [] and rounds[0] > 0
    writer.close()


def test_two_connections_re_creating_at_once_both_succeed(tmp_path, monkeypatch):
    import threading

    path = tmp_path / "w.duckdb"
    db.connect(path).close()
    base = duckdb.connect(str(path))
    changed = _variant(db.views(), 7)
    monkeypatch.setattr(db, "views", lambda: changed)
    barrier, results, errors = threading.Barrier(3), [], []

    def refresh():
        con = base.cursor()
        barrier.wait()
        try:
            results.append(db.refresh_views(con))
        except duckdb.Error as exc:  # without the retry: "Catalog write-write conflict"
            errors.append(exc)

    threads = [threading.Thread(target=refresh) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 3 and True in results  # one (or, one after the other, more) re-created them
    assert base.execute("SELECT fingerprint FROM schema_views").fetchone()[0] == db.views_fingerprint(changed)
    base.close()
