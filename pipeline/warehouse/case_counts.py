"""Counts of cases for ``hotline cases build`` (cases' other SQL is in :mod:`pipeline.casework.cases`)."""

from __future__ import annotations

import duckdb


def n_incidents(con: duckdb.DuckDBPyConnection) -> int:
    """Incidents (cases) in the warehouse, whatever their status (``stg_cases``)."""
    return int(con.execute("SELECT count(*) FROM stg_cases").fetchone()[0])
