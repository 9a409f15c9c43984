"""Case figures for managers: by unit, per-unit weekly list, and a Markdown report section.

Counts say which they count: *incidents* (cases, merged ones counted once in the case
they joined) and *calls* (every call linked to a case). Both are shown side by side.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb

from pipeline.analysis.pii import redacted
from pipeline.i18n import translator
from pipeline.report import documents, formats, sheets
from pipeline.report.formats import topic_labels
from pipeline.warehouse import report_queries as queries

WEEKLY_COLUMNS = ("case_id", "kind", "status", "topic", "place", "urgent", "opened_at", "due_date", "is_overdue",
                  "n_calls", "resolved_at", "result")


def by_unit(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Per unit: incidents, calls, open, overdue, median hours to resolve, reopened share (complaints)."""
    return queries.cases_by_unit(con)


def totals(con: duckdb.DuckDBPyConnection) -> dict:
    """Incidents, calls, answered inquiries, open, overdue, median hours to resolve, reopened share,
    callbacks waiting and merge proposals waiting."""
    return queries.case_totals(con)


def weekly(con: duckdb.DuckDBPyConnection, week: date | None = None, unit: str | None = None) -> list[dict]:
    """Cases opened in the week starting ``week`` (a Monday; any day is moved back to its Monday)."""
    if week is not None:
        week = week - timedelta(days=week.weekday())
    return queries.cases_weekly(con, WEEKLY_COLUMNS, week, unit)


def weekly_table(rows: list[dict], *, raw_text: bool = False, lang: str = "vi") -> tuple[list[str], list[list]]:
    """Header and rows of the weekly list as a person reads them (the ward committee's CSV): headers and
    values in ``lang`` (kind, status, topic as labels, Có/Không, dd/mm/yyyy dates), the units' results
    redacted unless ``raw_text``."""
    t = translator(lang)
    labels = topic_labels(lang)
    columns = ["unit", "week", *WEEKLY_COLUMNS]
    yes, no = t("rp_yes"), t("rp_no")

    def value(r: dict, c: str):
        v = r.get(c)
        if c in ("urgent", "is_overdue"):
            return yes if v else no
        if c in ("week", "due_date"):
            return formats.day(v)
        if c in ("opened_at", "resolved_at"):
            return formats.day_time(v)
        if c == "kind":
            return t(f"case_kind_{v}", default=v or "")
        if c == "status":
            return t(f"case_status_{v}", default=v or "")
        if c == "topic":
            return "; ".join(labels.get(k.strip(), k.strip()) for k in (v or "").split(",") if k.strip())
        if c == "unit":
            return v if v and v != "?" else t("rp_unit_none")
        if c == "result":
            return v if raw_text else redacted(v)
        return v

    return [t(f"csv_case_{c}") for c in columns], [[value(r, c) for c in columns] for r in rows]


def weekly_csv(rows: list[dict], *, raw_text: bool = False, lang: str = "vi") -> str:
    """The weekly list as CSV (:func:`weekly_table`, through :mod:`pipeline.report.sheets`: no cell is a
    formula), with a BOM so that Excel opens UTF-8 Vietnamese correctly. The units' results are redacted
    unless ``raw_text`` (a role of ``HOTLINE_RAW_TEXT_ROLES``: :mod:`pipeline.access`)."""
    return sheets.csv_text(*weekly_table(rows, raw_text=raw_text, lang=lang))


def _hours(value, lang: str) -> str:
    return formats.decimal(value, 1, lang)


def totals_table(t_: dict, *, lang: str = "vi") -> documents.Table:
    """The case totals as a two-column table (report and official document)."""
    t = translator(lang)
    return documents.Table([t("rp_figure"), t("rp_count")], [
        [t("rp_incidents"), t_["n_incidents"]], [t("rp_case_calls"), t_["n_calls"]],
        [t("rp_answered"), t_["n_answered"]], [t("case_open"), t_["n_open"]], [t("case_overdue"), t_["n_overdue"]],
        [t("rp_callbacks"), t_["n_callbacks"]], [t("rp_median_hours"), _hours(t_["median_hours_to_resolve"], lang)],
        [t("rp_reopened"), formats.percent(t_["reopened_share"] or 0, lang=lang)],
        [t("rp_proposals"), t_["n_proposals_waiting"]]])


def units_table(units: list[dict], *, lang: str = "vi") -> documents.Table:
    """Cases per handling unit: incidents, calls, open, overdue, median hours, reopened share."""
    t = translator(lang)
    return documents.Table(
        [t("rp_unit"), t("case_incidents"), t("rp_calls"), t("case_open"), t("case_overdue"), t("rp_median_hours"),
         t("rp_reopened")],
        [[r["unit"] if r["unit"] and r["unit"] != "?" else t("rp_unit_none"), r["n_cases"], r["n_calls"], r["n_open"], r["n_overdue"],
          _hours(r["median_hours_to_resolve"], lang), formats.percent(r["reopened_share"] or 0, lang=lang)]
         for r in units])


def markdown_section(con: duckdb.DuckDBPyConnection, *, lang: str = "vi") -> str:
    """The "Cases" section of a report: totals, then a table per unit (Markdown)."""
    t = translator(lang)

    def md(table: documents.Table) -> list[str]:
        out = ["| " + " | ".join(table.header) + " |",
               "|" + "|".join("---" if i < table.num_from else "---:" for i in range(len(table.header))) + "|"]
        return out + ["| " + " | ".join(str(v) for v in row) + " |" for row in table.rows]

    lines = [f"## {t('case_report')}", "", *md(totals_table(totals(con), lang=lang)), "",
             *md(units_table(by_unit(con), lang=lang))]
    return "\n".join(lines) + "\n"


def case_document(con: duckdb.DuckDBPyConnection, *, agency: str, unit: str | None = None, week: date | None = None,
                  raw_text: bool = False, lang: str = "vi", day: date | None = None) -> documents.Document:
    """The case report for the handling units as an official document (:mod:`pipeline.report.documents`):
    totals, the table by unit, and the list of cases (of ``unit`` and of the week of ``week``, if given)."""
    t = translator(lang)
    day = day or date.today()
    scope = t("doc_case_scope_unit", unit=unit) if unit else ""
    if week is not None:
        week = week - timedelta(days=week.weekday())
        scope += t("doc_case_scope_week", start=formats.day(week), end=formats.day(week + timedelta(days=6)))
    doc = documents.Document(kind=t("doc_kind_report"), kind_code="BC", day=day,
                             summary=t("doc_case_summary", agency=agency, scope=scope))
    units = [u for u in by_unit(con) if unit is None or u["unit"] == unit]
    rows = weekly(con, week, unit)
    header, body = weekly_table(rows, raw_text=raw_text, lang=lang)
    keep = [header.index(t(f"csv_case_{c}")) for c in ("case_id", "status", "topic", "place", "opened_at", "due_date",
                                                         "result")]
    if unit is None:
        keep.insert(0, header.index(t("csv_case_unit")))
    listed = documents.Table([header[i] for i in keep], [[row[i] for i in keep] for row in body], num_from=99)
    doc.blocks += [("p", t("doc_case_intro", agency=agency, day=formats.day(day))),
                   ("h", t("doc_ch_totals")), totals_table(totals(con) if unit is None else _unit_totals(units), lang=lang),
                   ("h", t("doc_ch_units")),
                   units_table(units, lang=lang) if units else ("p", t("doc_no_cases")),
                   ("h", t("doc_ch_list")), listed if rows else ("p", t("doc_no_cases")),
                   ("p", t("doc_closing", agency=agency))]
    return doc


def _unit_totals(units: list[dict]) -> dict:
    """Totals of one unit's row(s), in :func:`totals`' keys (what a unit's row does not hold is "—")."""
    n = lambda k: sum(u.get(k) or 0 for u in units)  # noqa: E731
    med = units[0]["median_hours_to_resolve"] if len(units) == 1 else None
    return {"n_incidents": n("n_cases"), "n_calls": n("n_calls"), "n_answered": "—", "n_open": n("n_open"),
            "n_overdue": n("n_overdue"), "n_callbacks": "—", "median_hours_to_resolve": med,
            "reopened_share": units[0]["reopened_share"] if len(units) == 1 else None, "n_proposals_waiting": "—"}
