"""What the notebooks (notebooks/*.ipynb) share: which warehouse they read, and tables a person reads.

The notebooks hold no logic: they call :func:`open_warehouse` and wrap the rows of
:mod:`pipeline.report.reports` in :func:`table` / :func:`figures`, which put topic keys, reasons,
the unknown operator and yes/no into Vietnamese words and name the columns in Vietnamese (issue 29).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.config import REPO_ROOT, Settings
from pipeline.errors import HotlineError
from pipeline.i18n import translator
from pipeline.report import formats, reports
from pipeline.warehouse import db

DEMO_WAREHOUSE = REPO_ROOT / "var" / "demo.duckdb"  # what `make demo` builds


class NoWarehouse(HotlineError):
    """No warehouse to read: HOTLINE_DB_PATH names no file and no demo warehouse was built."""

    exit_code = 2

    def _render_traceback_(self) -> list[str]:  # IPython shows the message alone, not a traceback
        return [f"{type(self).__name__}: {self}"]


def warehouse_path(settings: Settings, *, demo: Path = DEMO_WAREHOUSE, lang: str = "vi") -> Path:
    """The warehouse a notebook reads: ``HOTLINE_DB_PATH`` when set, else the demo warehouse of ``make demo``,
    else the project's default database; :class:`NoWarehouse` saying how to get one when none exists."""
    t = translator(lang)
    if settings.db_path:
        path = Path(settings.db_path)
        if not path.is_file():
            raise NoWarehouse(t("nb_db_missing", path=path))
        return path
    for path in (demo, settings.database):
        if path.is_file():
            return path
    raise NoWarehouse(t("nb_no_warehouse", demo=demo, home=settings.database))


def open_warehouse(settings: Settings, *, lang: str = "vi"
                   ) -> tuple[duckdb.DuckDBPyConnection, Path, date | None, date | None]:
    """(read-only connection, its path, first and last day with calls) of :func:`warehouse_path`; the notebook
    (the entry point) builds ``settings`` with ``load_settings()``, as the CLI and the web app do."""
    path = warehouse_path(settings, lang=lang)
    con = db.connect(path, read_only=True)
    start, end = reports.data_period(con)
    return con, path, start, end


_TOPIC_COLUMNS = ("topic", "topics")
_REASON_COLUMNS = ("urgency_reasons", "review_reasons")


def _value(column: str, value, t, labels: dict[str, str], lang: str):
    if column in _TOPIC_COLUMNS:
        return "; ".join(labels.get(k.strip(), k.strip()) for k in (value or "").split(",") if k.strip())
    if column in _REASON_COLUMNS:
        return "; ".join(t(f"reason_{r.strip()}", r.strip()) for r in (value or "").split(",") if r.strip())
    if column == "operator_ext":
        return formats.operator(value, lang)
    if column == "kind" and isinstance(value, str):
        return t(f"kind_{value}", value)
    if isinstance(value, bool):
        return t("rp_yes") if value else t("rp_no")
    return value


def table(rows, columns: list[str] | None = None, *, lang: str = "vi") -> pd.DataFrame:
    """``rows`` (dicts, or tuples named by ``columns``) as a frame a person reads: topic keys as labels, reasons
    in words, the unknown operator as "chưa rõ …", Có/Không, and Vietnamese column names (``nb_col_<name>``)."""
    t, labels = translator(lang), formats.topic_labels(lang)
    rows = [dict(zip(columns, r)) if not isinstance(r, dict) else r for r in rows]
    names = columns or (list(rows[0]) if rows else [])
    out = [{c: _value(c, r.get(c), t, labels, lang) for c in names} for r in rows]
    return pd.DataFrame(out, columns=names).rename(columns=lambda c: t(f"nb_col_{c}", c))


def figures(values: dict, *, lang: str = "vi") -> pd.Series:
    """A dict of figures (``period_totals``, ``review_backlog``) as a series named in Vietnamese."""
    t = translator(lang)
    return pd.Series({t(f"nb_col_{k}", k): v for k, v in values.items()}, dtype=object)
