"""Call categories by rule in reports (issue 30 #1): calls per rule in force in a period.

Self-contained so each report format (the HTML period report today) adds it as one section;
the counts are :func:`pipeline.warehouse.rules.category_counts` (each rule's version in force).
"""

from __future__ import annotations

from datetime import date

import duckdb

from pipeline.i18n import translator
from pipeline.warehouse import rules as rule_store


def category_table(con: duckdb.DuckDBPyConnection, start: date, end: date, *, lang: str = "vi"
                   ) -> tuple[str, list[str], list[list]]:
    """(heading, header, rows) of the period's calls per category, most first: title, calls, urgent or not."""
    t = translator(lang)
    rows = [[r["title"], r["n"], t("urgent") if r["urgent"] else ""]
            for r in rule_store.category_counts(con, start, end)]
    return t("categories_by_count"), [t("category"), t("calls"), t("urgent")], rows
