"""The run book: what a run writes in the warehouse around the stages' work.

The warehouse stores; the run book decides what is stored when: a loaded call opens
or updates its case and is tagged by the category rules (:func:`store_call`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from pipeline.casework import cases, categories
from pipeline.config import Settings, ensure_dir
from pipeline.errors import DatabaseBusy, HotlineError
from pipeline.records import CallResult
from pipeline.warehouse import db, load

log = logging.getLogger(__name__)


def store_call(con: duckdb.DuckDBPyConnection, result: CallResult, run_id: str, *, keep_raw_text: bool = True) -> float:
    """Load one call (:func:`pipeline.warehouse.load.load_call`, one transaction) and open or update its case.

    Returns the load's wall seconds. A case that cannot be built leaves the call loaded
    (``hotline cases build`` catches up).
    """
    load_s = load.load_call(con, result, run_id, keep_raw_text=keep_raw_text)
    sync_case(con, result.recording.call_id)
    tag_call(con, result.recording.call_id)
    return load_s


def tag_call(con: duckdb.DuckDBPyConnection, call_id: str) -> None:
    """Apply the category rules to the call (hits, alerts of urgent rules); a failure is logged and leaves the call."""
    try:
        categories.apply_rules(con, [call_id])
    except Exception as exc:  # the call is committed; `hotline rules apply` catches up
        log.warning("call %s: rules not applied (%s); run `hotline rules apply`", call_id, type(exc).__name__)


def sync_case(con: duckdb.DuckDBPyConnection, call_id: str) -> None:
    """Open (or, while new, re-route) the call's case; a failure is logged and leaves the call as it is."""
    try:
        cases.sync_call(con, call_id)
    except Exception as exc:  # the call is committed; its case can be built later
        log.warning("call %s: case not built (%s: %s); run `hotline cases build`", call_id, type(exc).__name__, exc)


def check_run_inputs(settings: Settings, *, source_dir: Path | None = None, calls_csv: Path | None = None) -> None:
    """Everything that can be checked before a run starts (and before Prefect does), each failure one line naming the path:
    the source folder and call log exist, the home, database and model-cache folders can be
    created and written, and an existing database file is a DuckDB database."""
    if source_dir is not None and not Path(source_dir).is_dir():
        raise HotlineError(f"{source_dir}: source folder does not exist")
    if calls_csv is not None and "://" not in str(calls_csv) and not Path(calls_csv).is_file():
        raise HotlineError(f"{calls_csv}: no such call log (--calls-csv)")
    db.check_warehouse_path(settings.database, create=True)
    ensure_dir(settings.home, "home")
    ensure_dir(settings.database.parent, "database")
    ensure_dir(settings.model_cache, "model cache")
    if settings.database.exists():
        try:  # WarehouseError for a file that is not a DuckDB database
            db.connect(settings.database, read_only=True, create=False).close()
        except DatabaseBusy:  # held by another writer: the run's --wait handles that
            pass
