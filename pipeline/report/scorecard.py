"""The evaluation scorecard (issue 29): QA's evaluation form answers per operator and per criterion over a
period, for the web page (``/scorecard``) and a section of the period report.

A cell counts the latest answer of each evaluated call of the period (a call's date, as every period figure):
met, not met, N/A; its share is met over met + not met (N/A left out), None when nothing was answered.
The SQL is in :mod:`pipeline.warehouse.qa_workspace`.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import duckdb

from pipeline.i18n import translator
from pipeline.report import formats
from pipeline.report.formats import operator as operator_name
from pipeline.warehouse import qa_workspace as ws

ITEMS = ws.EVAL_ITEMS


@dataclass(frozen=True)
class Cell:
    evaluated: int = 0  # calls with an answer for the criterion
    met: int = 0
    not_met: int = 0
    na: int = 0

    @property
    def share(self) -> float | None:
        """Met over met + not met (0..1); None when none of the two."""
        answered = self.met + self.not_met
        return self.met / answered if answered else None

    def __add__(self, other: Cell) -> Cell:
        return Cell(self.evaluated + other.evaluated, self.met + other.met, self.not_met + other.not_met,
                    self.na + other.na)


@dataclass(frozen=True)
class OperatorRow:
    operator: str  # PBX extension ("?" when the call log did not say)
    cells: dict[str, Cell]  # criterion -> its cell
    total: Cell  # over every criterion


def scorecard(con: duckdb.DuckDBPyConnection, start, end) -> tuple[list[OperatorRow], dict[str, Cell]]:
    """Per operator (weakest overall first), and per criterion over every operator, for calls of [start, end]."""
    cells: dict[str, dict[str, Cell]] = {}
    for op, item, n, met, not_met, na in ws.evaluation_by_operator(con, start, end):
        cells.setdefault(op, {})[item] = Cell(n, met, not_met, na)
    rows = [OperatorRow(op, c, sum(c.values(), Cell())) for op, c in cells.items()]
    rows.sort(key=lambda r: (r.total.share if r.total.share is not None else 2.0, r.operator))
    totals = {item: sum((r.cells.get(item, Cell()) for r in rows), Cell()) for item in ITEMS}
    return rows, totals


def evaluated_calls(con: duckdb.DuckDBPyConnection, start, end, *, operator: str | None = None,
                    item: str | None = None, answer: str | None = None) -> list[dict]:
    """The answers behind a cell: call, time, operator, criterion, answer, evaluator, when; newest calls first."""
    keys = ("call_id", "started_at", "operator_ext", "item", "answer", "user_name", "evaluated_at")
    return [dict(zip(keys, r)) for r in ws.evaluated_calls(con, start, end, operator=operator, item=item,
                                                             answer=answer)]


def percent(share: float | None, lang: str = "vi") -> str:
    """``0.5`` → ``50%`` (no space, as every other figure: :func:`pipeline.report.formats.percent`); ``—`` for None."""
    return formats.percent(share, 0, lang)


def report_section(con: duckdb.DuckDBPyConnection, start, end, *, lang: str = "vi") -> str:
    """The period report's scorecard section: one self-contained ``<section>`` (a table, or a line saying
    no call of the period was evaluated)."""
    t = translator(lang)
    rows, totals = scorecard(con, start, end)
    head = f"<section id=\"scorecard\"><h2>{escape(t('sc_title'))}</h2>"
    if not rows:
        return head + f"<p class=\"note\">{escape(t('sc_none'))}</p></section>"

    def cell(c: Cell) -> str:
        return f"{percent(c.share, lang)} ({c.met}/{c.met + c.not_met})" if c.evaluated else "—"

    ths = "".join(f"<th class=\"num\">{escape(t('eval_' + i))}</th>" for i in ITEMS)
    body = "".join(
        f"<tr><td>{escape(operator_name(r.operator, lang))}</td>" + "".join(f"<td class=\"num\">{cell(r.cells.get(i, Cell()))}</td>"
                                                       for i in ITEMS)
        + f"<td class=\"num\">{cell(r.total)}</td></tr>" for r in rows)
    foot = (f"<tr><th>{escape(t('sc_all_operators'))}</th>"
            + "".join(f"<td class=\"num\">{cell(totals[i])}</td>" for i in ITEMS)
            + f"<td class=\"num\">{cell(sum(totals.values(), Cell()))}</td></tr>")
    return (head + f"<table><thead><tr><th>{escape(t('sc_operator'))}</th>{ths}"
            f"<th class=\"num\">{escape(t('sc_overall'))}</th></tr></thead><tbody>{body}{foot}</tbody></table>"
            f"<p class=\"note\">{escape(t('sc_note'))}</p></section>")
