"""What the web app reads and writes: filtered call lists, one call's detail, QA corrections, exports.

Plain functions over a DuckDB connection, so tests and notebooks call them without a
server; their SQL is in :mod:`pipeline.warehouse.calls`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from pipeline.analysis.routing import route_call
from pipeline.analysis.summary import summarize
from pipeline.casework.cases import on_topic_corrected
from pipeline.casework.categories import rules_in_force
from pipeline.config import REPO_ROOT
from pipeline.errors import HotlineError
from pipeline.intake.ingest import locate
from pipeline.records import Place
from pipeline.report import exports
from pipeline.report.reports import topic_labels
from pipeline.warehouse import calls
from pipeline.warehouse import rules as rule_store
from pipeline.warehouse import search
from pipeline.warehouse.calls import call_mood, call_summary, turn_sentiment
from pipeline.warehouse.cases import case_id_of_call, case_row
from pipeline.warehouse.db import transaction
from pipeline.warehouse.retention import purged_at
from pipeline.warehouse.similar import similar_calls


class BadCorrection(HotlineError):
    """A topic correction for an unknown call or topic, or an unknown action."""


@dataclass(frozen=True)
class CallFilters:
    start: date | None = None  # inclusive, local date of the call
    end: date | None = None  # inclusive
    topic: str | None = None  # taxonomy key, as corrected by QA
    place: str | None = None  # canonical ward/commune name
    operator: str | None = None  # extension
    needs_review: bool = False  # only calls flagged for review
    urgent: bool = False  # only urgent calls
    q: str = ""  # full-text query, with or without diacritics
    queue: bool = False  # only the review queue (mart_review_queue), in its priority order
    hour: int | None = None  # only calls started in this hour of the day (0..23, local time)
    category: str | None = None  # only calls a rule in force matched (rule name, pipeline.analysis.rules)
    line: str | None = None  # only calls on this line (pipeline.lines key); None: every line the user sees
    lines: tuple[str, ...] | None = None  # the user's line scope (user_lines): None every line, () none


# A search term naming a category: "loai:khan-cap-tu-khoa" (also "loại:"), see docs/rules.md.
CATEGORY_TERM = re.compile(r"(?<!\S)lo(?:ai|ại):([a-z0-9][a-z0-9-]{1,62})(?!\S)", re.IGNORECASE)


def category_terms(q: str) -> tuple[str, list[str]]:
    """``q`` without its ``loai:NAME`` terms, and the rule names they gave (lower case)."""
    names = [m.group(1).lower() for m in CATEGORY_TERM.finditer(q)]
    return CATEGORY_TERM.sub(" ", q).strip(), names


def filter_options(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Choices for the filter form: topics (taxonomy order), places and operators present, categories
    (rule name, title) in force."""
    return {"topics": list(topic_labels("vi")), "places": calls.admin_place_names(con),
            "operators": calls.operator_exts(con), "lines": calls.line_keys(con),
            "categories": [(r.name, r.title) for r in rules_in_force(con) if r.enabled]}


def list_calls(con: duckdb.DuckDBPyConnection, f: CallFilters, *, limit: int = 50, offset: int = 0,
               ) -> tuple[list[dict], int]:
    """One page of calls matching ``f`` and the total count.

    With a query, calls are ranked by BM25 (best first) and carry a ``snippet``;
    without, newest first (the review queue: urgent, then least confident). Building a missing or stale search index needs a
    read-write connection.
    """
    scores: dict[str, float] = {}
    ids = None
    text, named = category_terms(f.q)
    if text:
        search.ensure_search_index_built(con)
        hits = search.search_calls(con, text, limit=None, snippets=False)  # snippets of the page's rows only, below
        scores = {h.call_id: h.score for h in hits}
        ids = list(scores)
    conditions = dict(start=f.start, end=f.end, topic=f.topic, place=f.place, operator=f.operator,
                      needs_review=f.needs_review, urgent=f.urgent, queue=f.queue, call_ids=ids, hour=f.hour,
                      category=f.category, line=f.line, lines=f.lines)
    if not scores and not named:  # one page in SQL, and its count (issue 32: the whole list was read for every page)
        page, total = calls.call_rows(con, limit=limit, offset=offset, **conditions), calls.call_count(con, **conditions)
    else:
        rows = calls.call_rows(con, **conditions)
        for name in named:  # each "loai:" term narrows the list, as each word of a search does
            keep = {r["call_id"] for r in calls.call_rows(con, category=name)}
            rows = [r for r in rows if r["call_id"] in keep]
        if scores:
            rows.sort(key=lambda r: -scores[r["call_id"]])
        page, total = rows[offset: offset + limit], len(rows)
        if scores:
            snippets = search.snippets_for(con, [r["call_id"] for r in page], text)
            for r in page:
                r["score"], r["snippet"] = scores[r["call_id"]], snippets.get(r["call_id"], "")
    estimated = calls.start_sources(con, [r["call_id"] for r in page])
    for r in page:
        r["start_source"] = estimated.get(r["call_id"])  # None: the call log's time (or none at all)
    found = rule_store.categories_of_calls(con, [r["call_id"] for r in page])
    for r in page:
        r["categories"] = found.get(r["call_id"], [])
    return page, total


def call_detail(con: duckdb.DuckDBPyConnection, call_id: str, *, raw_text: bool,
                lines: tuple[str, ...] | None = None) -> dict | None:
    """Everything the call page shows; segment text unredacted only when ``raw_text``; similar calls only
    on ``lines`` (the reader's line scope; None: every line)."""
    call = calls.staged_call(con, call_id)
    if call is None:
        return None
    call["start_source"] = calls.start_sources(con, [call_id]).get(call_id)  # an estimated start time: where from
    call["summary"] = call_summary(con, call_id)
    call["mood"] = call_mood(con, call_id)
    call["similar"] = similar_calls(con, call_id, lines=lines)
    mood = turn_sentiment(con, call_id)
    call["segments"] = calls.call_segments(con, call_id, raw_text=raw_text)
    for s in call["segments"]:
        s["mood"] = mood.get(s["seq"])
    call["topics"] = calls.call_topics(con, call_id)
    call["places"] = calls.call_places(con, call_id)
    call["routes"] = calls.call_routes(con, call_id)
    call["metrics"] = calls.call_metrics(con, call_id)
    call["history"] = calls.call_history(con, call_id)
    return call


def correct_topic(con: duckdb.DuckDBPyConnection, call_id: str, topic: str, action: str, user_name: str) -> bool:
    """Add or remove a topic as QA: a ``call_topics`` row with source 'qa' plus an audit row in ``topic_corrections``.

    The QA row overrides the model's decision in ``stg_call_topics`` and survives reloads
    of the call. Raises :class:`BadCorrection` for an unknown call, topic or action.
    Adding a topic the call already has, or removing one it lacks, changes nothing and
    writes no audit row: returns False.
    """
    if action not in ("add", "remove"):
        raise BadCorrection(f"action {action!r} must be add or remove")
    if topic not in topic_labels("vi"):
        raise BadCorrection(f"topic {topic!r} is not in models/taxonomy.json")
    if not calls.call_exists(con, call_id):
        raise BadCorrection(f"no call {call_id!r}")
    if calls.has_topic(con, call_id, topic) == (action == "add"):
        return False
    with transaction(con):
        calls.write_topic_correction(con, call_id, topic, action == "add", user_name, datetime.now())
        rederive_routing_and_summary(con, call_id)
        on_topic_corrected(con, call_id, user_name, labels=topic_labels("vi"), lang="vi")
    return True


def rederive_routing_and_summary(con: duckdb.DuckDBPyConnection, call_id: str) -> None:
    """The call's routing and one-line summary made again from its topics as QA left them (the same
    functions the pipeline used: :func:`pipeline.analysis.routing.route_call`, :func:`pipeline.analysis.summary.summarize`)."""
    got = calls.understanding_inputs(con, call_id)
    places = [Place(start=0, end=0, **p) for p in got["places"]]
    routes = route_call(got["topics"], places, text=got["citizen"])
    summary = summarize(got["topics"], got["citizen"], got["operator"], [p.as_row() for p in places],
                        [{"agency_vi": r.agency_vi} for r in routes], urgent=got["urgent"])
    calls.write_routes_and_summary(con, call_id, [{"agency": r.agency, "agency_vi": r.agency_vi, "reason": r.reason}
                                                  for r in routes], summary)


class _DryRun(Exception):
    """Raised inside :func:`preview_topic_correction`'s transaction to roll it back."""


def preview_topic_correction(con: duckdb.DuckDBPyConnection, call_id: str, topic: str, action: str,
                             user_name: str) -> dict | None:
    """What a topic correction would do to the call's case, without doing it: the correction and the
    re-routing run in one transaction that is rolled back. ``{case_id, unit_before, unit_after,
    status_before, status_after, moves}``; None when the call has no open case or nothing would change."""
    case_id = case_id_of_call(con, call_id)
    before = case_row(con, case_id) if case_id else None
    if before is None:
        return None
    after: dict | None = None
    try:
        with transaction(con):
            if correct_topic(con, call_id, topic, action, user_name):
                after = case_row(con, case_id)
            raise _DryRun
    except _DryRun:
        pass
    if after is None:
        return None
    return {"case_id": case_id, "unit_before": before["unit"], "unit_after": after["unit"],
            "status_before": before["status"], "status_after": after["status"],
            "moves": before["unit"] != after["unit"]}


def call_case(con: duckdb.DuckDBPyConnection, call_id: str) -> dict | None:
    """The case the call belongs to: ``{case_id, unit, status}`` (what the call page shows beside its routing)."""
    case_id = case_id_of_call(con, call_id)
    row = case_row(con, case_id) if case_id else None
    return {"case_id": case_id, "unit": row["unit"], "status": row["status"]} if row else None


def mark_reviewed(con: duckdb.DuckDBPyConnection, call_id: str, user_name: str, *, reviewed: bool = True) -> None:
    """Set or clear the call's reviewed mark, with an audit row in ``review_events``."""
    calls.set_reviewed(con, call_id, user_name, reviewed, datetime.now())


def audio_path(con: duckdb.DuckDBPyConnection, call_id: str) -> Path | None:
    """The call's recording, resolved inside its run's source folder; None when unknown, outside or missing.

    ``calls.source_path`` is relative to ``runs.source_dir``; a path that climbs out
    of that folder (``../``, an absolute path, a symlink) is refused.
    """
    row = calls.recording_location(con, call_id)
    if not row or not row[0] or not row[1]:
        return None
    source_path, source_dir, sha = row
    source_dir = Path(source_dir)
    if not source_dir.is_absolute():
        # A relative source folder is relative to where the run started: usually the repo root.
        candidates = [Path.cwd() / source_dir, REPO_ROOT / source_dir]
        source_dir = next((c for c in candidates if c.is_dir()), candidates[0])
    root = source_dir.resolve()
    path = (root / source_path).resolve()
    if not path.is_relative_to(root):
        return None
    return locate(root, source_path, sha if "***" in source_path else None)


def recording_removed(con: duckdb.DuckDBPyConnection, call_id: str) -> bool:
    """Whether the call's recording is gone because the retention purge removed it (its staged copy):
    the call was purged and its audio is no longer found. A purged call whose recording still lies in
    the PBX's own folder plays on."""
    return purged_at(con, call_id) is not None and audio_path(con, call_id) is None


def export_csv(rows: list[dict], *, lang: str = "vi", caller_reference: bool = False) -> bytes:
    """CSV of :func:`list_calls` rows (enriched by :func:`pipeline.report.exports.enrich`): see :mod:`pipeline.report.exports`."""
    return exports.calls_csv(rows, lang=lang, caller_reference=caller_reference)


def export_xlsx(rows: list[dict], *, lang: str = "vi", start: date | None = None, end: date | None = None,
                filters_text: str = "", caller_reference: bool = False) -> bytes:
    """Formatted Excel workbook (calls + summary sheet) of :func:`list_calls` rows: see :mod:`pipeline.report.exports`."""
    return exports.calls_xlsx(rows, lang=lang, start=start, end=end, filters_text=filters_text,
                              caller_reference=caller_reference)
