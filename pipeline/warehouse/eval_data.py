"""What evaluations and retraining read from (or write into) a warehouse.

The SQL of ``hotline export rttm`` (speaker turns per call), of ``hotline topics train
--from-db`` (QA's topic corrections with the calls' segments) and of ``hotline eval
search`` (filling a synthetic warehouse) lives here, so that ``pipeline/eval/`` and the
commands hold none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from pipeline.errors import HotlineError
from pipeline.records import Segment, SpeakerTurn


def speaker_turns(con: duckdb.DuckDBPyConnection, call_ids: Sequence[str] | None = None) -> dict[str, list[SpeakerTurn]]:
    """{call_id: turns in ``seq`` order} from ``segments``; ``call_ids`` None: every call
    with segments. A segment without a speaker label is ``unknown``."""
    query = "SELECT call_id, start_s, end_s, speaker FROM segments"
    params: list = []
    if call_ids is not None:
        query += " WHERE call_id IN (SELECT unnest(?))"
        params.append(list(call_ids))
    rows = con.execute(query + " ORDER BY call_id, seq", params).fetchall()
    by_call: dict[str, list[SpeakerTurn]] = {}
    for call_id, start, end, speaker in rows:
        by_call.setdefault(call_id, []).append(SpeakerTurn(float(start), float(end), speaker or "unknown"))
    return by_call


@dataclass(frozen=True)
class CorrectedCall:
    """A call whose topics QA corrected, as the warehouse holds it."""

    call_id: str
    model_topics: tuple[str, ...]  # topics the model assigned (call_topics, source 'model'), sorted
    corrections: tuple[tuple[str, str], ...]  # (topic, 'add' | 'remove') in time order
    segments: tuple[Segment, ...]  # the call's segments in seq order (text as stored: redacted)


def corrected_calls(con: duckdb.DuckDBPyConnection, *, source: str = "warehouse") -> list[CorrectedCall]:
    """Every call with rows in ``topic_corrections``, in call_id order.

    Raises HotlineError (naming ``source``) when the tables cannot be read: not a
    hotline warehouse.
    """
    try:
        corrections = con.execute(
            "SELECT call_id, topic, action FROM topic_corrections ORDER BY corrected_at, call_id"
        ).fetchall()
        called = sorted({c for c, _, _ in corrections})
        model_topics = con.execute(
            "SELECT call_id, topic FROM call_topics "
            "WHERE source = 'model' AND assigned AND call_id IN (SELECT unnest($ids)) ORDER BY call_id, topic",
            {"ids": called},
        ).fetchall()
        segments = con.execute(
            "SELECT call_id, start_s, end_s, role, text FROM segments "
            "WHERE call_id IN (SELECT unnest($ids)) ORDER BY call_id, seq",
            {"ids": called},
        ).fetchall()
    except duckdb.Error as exc:
        raise HotlineError(f"{source}: cannot read topic corrections ({exc}); is it a hotline warehouse?") from exc
    topics: dict[str, list[str]] = {c: [] for c in called}
    for call_id, topic in model_topics:
        topics[call_id].append(topic)
    fixes: dict[str, list[tuple[str, str]]] = {c: [] for c in called}
    for call_id, topic, action in corrections:
        fixes[call_id].append((topic, action))
    segs: dict[str, list[Segment]] = {c: [] for c in called}
    for call_id, start, end, role, text in segments:
        segs[call_id].append(Segment(start=float(start), end=float(end), text=text or "", role=role))
    return [CorrectedCall(c, tuple(topics[c]), tuple(fixes[c]), tuple(segs[c])) for c in called]


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict]) -> None:
    """Append ``rows`` (dicts keyed by column name) to ``table`` of a migrated warehouse."""
    import pandas as pd

    if table not in ("calls", "segments", "call_routes"):
        raise ValueError(f"insert_rows: not a table evaluations fill: {table!r}")
    con.register("_rows", pd.DataFrame(list(rows)))
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
    finally:
        con.unregister("_rows")
