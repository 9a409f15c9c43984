"""The notebooks run top to bottom against the fixture warehouse (nbclient, this venv's kernel)."""

from __future__ import annotations

import pytest

from tests.helpers import REPO


@pytest.mark.parametrize("name,expect", [("topic_trends.ipynb", "<svg"), ("qa_review.ipynb", "waiting")])
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
