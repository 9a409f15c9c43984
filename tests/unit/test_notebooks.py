"""The notebooks run top to bottom against the fixture warehouse (nbclient, this venv's kernel)."""

from __future__ import annotations

import re

import pytest

from tests.helpers import REPO


@pytest.mark.parametrize("name,expect", [("topic_trends.ipynb", "<svg"), ("qa_review.ipynb", "Đang chờ xem lại")])
def test_notebook_runs(web_db, monkeypatch, name, expect):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    monkeypatch.setenv("HOTLINE_DB_PATH", str(web_db))  # the notebooks read the project's Settings
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    nb = nbformat.read(REPO / "notebooks" / name, as_version=4)
    # The kernel is this interpreter (ipykernel's native spec), so it sees the same venv.
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(str(o.get("text", "")) + str(o.get("data", {})) for o in outputs)
    assert expect in text
    assert str(web_db) in text
    # topics by their Vietnamese labels, never their keys (issue 29); links in the charts may hold keys
    visible = re.sub(r"<[^>]+>", " ", text)
    assert "security_order" not in visible and "An ninh trật tự" in visible


# ---- which warehouse, and tables in Vietnamese (pipeline/report/notebook.py; issue 29) ---------------------

def test_notebooks_read_the_demo_warehouse_by_default_and_say_when_there_is_none(tmp_path):
    from pipeline.config import load_settings
    from pipeline.report import notebook

    settings = load_settings({"HOTLINE_HOME": str(tmp_path / "home")})
    demo = tmp_path / "demo.duckdb"
    with pytest.raises(notebook.NoWarehouse, match="make demo") as err:
        notebook.warehouse_path(settings, demo=demo)
    assert str(demo) in str(err.value) and "HOTLINE_DB_PATH" in str(err.value)
    assert err.value._render_traceback_() == [f"NoWarehouse: {err.value}"]  # the message alone in Jupyter
    demo.write_bytes(b"")
    assert notebook.warehouse_path(settings, demo=demo) == demo
    named = load_settings({"HOTLINE_DB_PATH": str(tmp_path / "missing.duckdb")})
    with pytest.raises(notebook.NoWarehouse, match="missing.duckdb"):
        notebook.warehouse_path(named, demo=demo)


def test_notebook_tables_name_topics_reasons_and_columns_in_vietnamese():
    from pipeline.report import notebook

    frame = notebook.table([("security_order,traffic", None, True, "violence")],
                           ["topics", "operator_ext", "urgent", "urgency_reasons"])
    assert list(frame.columns) == ["Chủ đề", "Tổng đài viên (máy lẻ)", "Khẩn cấp", "Lý do khẩn cấp"]
    row = frame.iloc[0].tolist()
    assert row[0] == "An ninh trật tự; An toàn giao thông, hạ tầng giao thông"
    assert row[1] == "chưa rõ (không có nhật ký cuộc gọi)" and row[2] == "Có" and "violence" not in row[3]
    assert list(notebook.figures({"waiting": 3}).index) == ["Đang chờ xem lại"]
