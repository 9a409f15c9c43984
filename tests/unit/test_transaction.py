"""pipeline.warehouse.db.transaction: commit, roll back and re-raise, nested use joins the outer block."""

import duckdb
import pytest

from pipeline.warehouse.db import transaction


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("CREATE TABLE t (a INTEGER)")
    yield con
    con.close()


def _rows(con):
    return [r[0] for r in con.execute("SELECT a FROM t ORDER BY a").fetchall()]


def test_the_block_commits(con):
    with transaction(con):
        con.execute("INSERT INTO t VALUES (1)")
    assert _rows(con) == [1]
    # no transaction is left open: a new one can begin
    con.execute("BEGIN TRANSACTION")
    con.execute("ROLLBACK")


def test_an_error_rolls_back_and_is_raised_again(con):
    with pytest.raises(KeyError):
        with transaction(con):
            con.execute("INSERT INTO t VALUES (1)")
            raise KeyError("boom")
    assert _rows(con) == []
    with pytest.raises(duckdb.CatalogException):
        with transaction(con):
            con.execute("INSERT INTO t VALUES (2)")
            con.execute("INSERT INTO no_such_table VALUES (3)")
    assert _rows(con) == []
    with transaction(con):  # the connection is usable again
        con.execute("INSERT INTO t VALUES (4)")
    assert _rows(con) == [4]


def test_nested_blocks_join_the_outer_transaction(con):
    with transaction(con):
        con.execute("INSERT INTO t VALUES (1)")
        with transaction(con):
            con.execute("INSERT INTO t VALUES (2)")
        # the inner block did not commit: the outer one can still undo it
        con.execute("INSERT INTO t VALUES (3)")
    assert _rows(con) == [1, 2, 3]
    with pytest.raises(ValueError):
        with transaction(con):
            con.execute("INSERT INTO t VALUES (10)")
            with transaction(con):
                con.execute("INSERT INTO t VALUES (11)")
                raise ValueError("inner")
    assert _rows(con) == [1, 2, 3]  # the inner error rolled back the whole outer transaction


def test_an_inner_error_caught_inside_the_outer_block_leaves_the_outer_work(con):
    with transaction(con):
        con.execute("INSERT INTO t VALUES (1)")
        try:
            with transaction(con):
                raise ValueError("inner, caught")
        except ValueError:
            pass
        con.execute("INSERT INTO t VALUES (2)")
    assert _rows(con) == [1, 2]


def test_two_connections_keep_their_own_depth(tmp_path):
    path = tmp_path / "w.duckdb"
    a = duckdb.connect(str(path))
    a.execute("CREATE TABLE t (a INTEGER)")
    b = a.cursor()
    with transaction(a):
        a.execute("INSERT INTO t VALUES (1)")
        with transaction(b):  # another connection: its own transaction, committed on its own
            b.execute("INSERT INTO t VALUES (2)")
        assert [r[0] for r in b.execute("SELECT a FROM t ORDER BY a").fetchall()] == [2]
    assert [r[0] for r in a.execute("SELECT a FROM t ORDER BY a").fetchall()] == [1, 2]
    a.close()
