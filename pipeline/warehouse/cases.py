"""The rows of cases (migration 012): the SQL of :mod:`pipeline.casework.cases` (bind parameters only).

:mod:`pipeline.casework.cases` holds the rules (grouping, routing, the lifecycle, who may see
and do what) and the transactions; these functions read and write the rows and run
inside the caller's :func:`pipeline.warehouse.db.transaction` where it has one.
Column names in SQL text come from the callers' constants, never from input.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb


def _dicts(cur) -> list[dict]:
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


# ---------------------------------------------------------------- unit users

def user_unit(con: duckdb.DuckDBPyConnection, user_name: str) -> str | None:
    row = con.execute("SELECT unit FROM user_units WHERE user_name = ?", [user_name]).fetchone()
    return row[0] if row else None


def set_user_unit(con: duckdb.DuckDBPyConnection, user_name: str, unit: str) -> None:
    con.execute("INSERT OR REPLACE INTO user_units VALUES (?, ?)", [user_name, unit])


# ---------------------------------------------------------------- facts of calls

def done_calls(con: duckdb.DuckDBPyConnection, call_ids: Sequence[str] | None = None) -> list[tuple]:
    """(call_id, started or processed at, urgent, caller_hash, transcript, one-line summary) of loaded calls,
    oldest first."""
    where, params = "", []
    if call_ids is not None:
        where, params = "AND call_id IN (SELECT unnest(?))", [list(call_ids)]
    return con.execute(
        f"""SELECT call_id, coalesce(started_at, processed_at), coalesce(urgent, FALSE), caller_hash, transcript,
                   summary
            FROM calls WHERE status = 'done' {where} ORDER BY coalesce(started_at, processed_at), call_id""",
        params).fetchall()


def call_topics(con: duckdb.DuckDBPyConnection, call_ids: list[str]) -> list[tuple[str, str]]:
    """(call_id, topic) now (QA corrections applied), each call's best model score first."""
    return con.execute(
        "SELECT call_id, topic FROM stg_call_topics WHERE call_id IN (SELECT unnest(?)) "
        "ORDER BY call_id, model_score DESC NULLS FIRST, topic", [call_ids]).fetchall()


def call_places(con: duckdb.DuckDBPyConnection, call_ids: list[str]) -> list[tuple[str, str, str]]:
    """(call_id, kind, place_name) in the order said."""
    return con.execute(
        "SELECT call_id, kind, place_name FROM stg_call_places WHERE call_id IN (SELECT unnest(?)) ORDER BY call_id, seq",
        [call_ids]).fetchall()


def first_routes(con: duckdb.DuckDBPyConnection, call_ids: list[str]) -> dict[str, str]:
    """call_id → the first routed agency's Vietnamese name."""
    return dict(con.execute(
        "SELECT call_id, agency_vi FROM call_routes WHERE call_id IN (SELECT unnest(?)) AND seq = 0", [call_ids]).fetchall())


def citizen_sentences(con: duckdb.DuckDBPyConnection, call_ids: list[str]) -> list[tuple[str, str]]:
    """(call_id, text) of the citizen's sentences (redacted), in order."""
    return con.execute(
        "SELECT call_id, text FROM segments WHERE call_id IN (SELECT unnest(?)) AND role = 'citizen' "
        "AND text IS NOT NULL ORDER BY call_id, seq", [call_ids]).fetchall()


# ---------------------------------------------------------------- building

def insert_event(con: duckdb.DuckDBPyConnection, case_id: str, at: datetime, user: str, action: str,
                 from_status: str | None = None, to_status: str | None = None, note: str | None = None) -> None:
    con.execute("INSERT INTO case_events VALUES (?, ?, ?, ?, ?, ?, ?)",
                [case_id, at, user, action, from_status, to_status, note])


def open_complaints_since(con: duckdb.DuckDBPyConnection, since: datetime, said_chars: int = 240) -> list[tuple]:
    """(case_id, opened_at, caller_hash, topics, place, place_detail, summary, said) of complaints still open
    to grouping; ``said``: the first ``said_chars`` characters of what the citizen said in the case's first call
    (redacted), which grouping compares (the summary is the call's one-line summary)."""
    return con.execute(
        """WITH open_cases AS (
               SELECT case_id, opened_at, caller_hash, topics, place, place_detail, summary FROM cases
               WHERE kind = 'complaint' AND status NOT IN ('merged', 'closed') AND opened_at >= $since
           ), first_call AS (
               SELECT cc.case_id, arg_min(cc.call_id, coalesce(c.started_at, c.processed_at)) AS call_id
               FROM case_calls cc JOIN calls c USING (call_id) WHERE cc.case_id IN (SELECT case_id FROM open_cases)
               GROUP BY cc.case_id
           ), said AS (
               SELECT f.case_id, left(string_agg(s.text, ' ' ORDER BY s.seq), $n) AS said
               FROM first_call f JOIN segments s USING (call_id) WHERE s.role = 'citizen' AND s.text IS NOT NULL
               GROUP BY f.case_id
           )
           SELECT o.*, s.said FROM open_cases o LEFT JOIN said s USING (case_id)""",
        {"since": since, "n": said_chars}).fetchall()


def incident_links_since(con: duckdb.DuckDBPyConnection, since: datetime) -> list[tuple[str, str]]:
    """(case_id, into_case_id): proposals not split apart, and merges, of cases opened since."""
    return con.execute(
        "SELECT p.case_id, p.into_case_id FROM case_merge_proposals p JOIN cases c ON c.case_id = p.case_id "
        "WHERE p.decision IS DISTINCT FROM 'split' AND c.opened_at >= $since "
        "UNION ALL SELECT case_id, merged_into FROM cases WHERE merged_into IS NOT NULL AND opened_at >= $since",
        {"since": since}).fetchall()


def place_details_since(con: duckdb.DuckDBPyConnection, since: datetime) -> list[tuple[str, str]]:
    """(case_id, place_detail) of cases opened since that name a street, alley or hamlet."""
    return con.execute("SELECT case_id, place_detail FROM cases WHERE place_detail IS NOT NULL "
                       "AND opened_at >= ?", [since]).fetchall()


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    """Bulk insert (by column name) into ``table``: cases, case_calls, case_events or case_merge_proposals."""
    if not rows:
        return
    if table not in ("cases", "case_calls", "case_events", "case_merge_proposals"):
        raise ValueError(f"not a case table: {table!r}")
    import pandas as pd

    frame = pd.DataFrame(rows)
    con.register("_case_rows", frame)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _case_rows")
    finally:
        con.unregister("_case_rows")


def insert_case(con: duckdb.DuckDBPyConnection, case: dict, link: dict, events: list[dict]) -> None:
    """One case row (its keys are column names), its call link and its events."""
    con.execute(f"INSERT INTO cases ({', '.join(case)}) VALUES ({', '.join('?' * len(case))})", list(case.values()))
    con.execute("INSERT INTO case_calls VALUES (?, ?, ?, ?)", list(link.values()))
    for e in events:
        con.execute("INSERT INTO case_events VALUES (?, ?, ?, ?, ?, ?, ?)", list(e.values()))


def linked_call_ids(con: duckdb.DuckDBPyConnection, call_ids: list[str]) -> set[str]:
    """Those of ``call_ids`` already in a case."""
    return {r[0] for r in con.execute("SELECT call_id FROM case_calls WHERE call_id IN (SELECT unnest(?))",
                                      [call_ids]).fetchall()}


def case_of_call(con: duckdb.DuckDBPyConnection, call_id: str) -> tuple[str, str] | None:
    """(case_id, status) of the case holding the call, or None."""
    return con.execute("SELECT c.case_id, c.status FROM case_calls l JOIN cases c USING (case_id) WHERE l.call_id = ?",
                       [call_id]).fetchone()


# ---------------------------------------------------------------- reading

def case_row(con: duckdb.DuckDBPyConnection, case_id: str) -> dict | None:
    rows = _dicts(con.execute("SELECT * FROM cases WHERE case_id = ?", [case_id]))
    return rows[0] if rows else None


def case_calls(con: duckdb.DuckDBPyConnection, case_id: str) -> list[dict]:
    """The case's calls, oldest first, with the caller references and who linked each; ``transcript`` is what
    people read (the readable text where made, migration 014)."""
    keys = ("call_id", "started_at", "transcript", "urgent", "caller_last3", "caller_initials", "pbx_call_id", "linked_by")
    return [dict(zip(keys, r)) for r in con.execute(
        """SELECT c.call_id, c.started_at, coalesce(c.transcript_readable, c.transcript), c.urgent, c.caller_last3, c.caller_initials, c.pbx_call_id,
                  l.linked_by FROM case_calls l JOIN calls c USING (call_id) WHERE l.case_id = ? ORDER BY c.started_at""",
        [case_id]).fetchall()]


def case_events(con: duckdb.DuckDBPyConnection, case_id: str) -> list[dict]:
    return [dict(zip(("acted_at", "user_name", "action", "from_status", "to_status", "note"), r)) for r in con.execute(
        "SELECT acted_at, user_name, action, from_status, to_status, note FROM case_events WHERE case_id = ? "
        "ORDER BY acted_at, action = 'opened' DESC", [case_id]).fetchall()]


def proposals(con: duckdb.DuckDBPyConnection, case_id: str | None = None, *, waiting_only: bool = False) -> list[dict]:
    """Merge proposals (of or into ``case_id``), newest first, with both cases' summaries."""
    where, params = [], []
    if case_id:
        where.append("(p.case_id = ? OR p.into_case_id = ?)")
        params += [case_id, case_id]
    if waiting_only:
        where.append("p.decision IS NULL")
    return _dicts(con.execute(
        f"""SELECT p.case_id, p.into_case_id, p.reason, p.proposed_at, p.decision, p.decided_by, p.decided_at,
                   a.summary AS summary, b.summary AS into_summary, a.place, a.topic, a.opened_at, b.opened_at AS into_opened_at
            FROM case_merge_proposals p JOIN cases a ON a.case_id = p.case_id JOIN cases b ON b.case_id = p.into_case_id
            {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY p.proposed_at DESC, p.case_id""", params))


def case_list(con: duckdb.DuckDBPyConnection, *, units: Sequence[str] = (), status: str | None = None,
              overdue: bool = False, kind: str | None = None, limit: int = 500,
              lines: Sequence[str] | None = None) -> list[dict]:
    """Incidents (``stg_cases``) in every one of ``units``, open first, then urgent, then by due date.

    ``status``: ``open``, ``done`` or one status (the caller checks it is one). ``lines``: only cases
    whose calls are all on these lines (None: every case).
    """
    where, params = ["status <> 'merged'"], []
    if lines is not None:
        where.append("case_id NOT IN (SELECT k.case_id FROM case_calls k JOIN calls c USING (call_id) "
                     "WHERE c.line IS NULL OR c.line NOT IN (SELECT unnest(?::VARCHAR[])))")
        where.append("case_id IN (SELECT case_id FROM case_calls)")
        params.append(list(lines))
    for unit in units:
        where.append("unit = ?")
        params.append(unit)
    if status == "open":
        where.append("is_open")
    elif status == "done":
        where.append("status IN ('resolved', 'informed', 'closed', 'answered')")
    elif status:
        where.append("status = ?")
        params.append(status)
    if overdue:
        where.append("is_overdue")
    if kind:
        where.append("kind = ?")
        params.append(kind)
    return _dicts(con.execute(
        f"""SELECT case_id, kind, status, topic, place, summary, unit, urgent, priority, opened_at, due_date, is_overdue,
                   n_calls, resolved_at, n_reopened FROM stg_cases WHERE {' AND '.join(where)}
            ORDER BY is_open DESC, priority, due_date NULLS LAST, opened_at LIMIT ?""", [*params, limit]))


def unit_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every unit named by a case or a unit user, sorted."""
    return [r[0] for r in con.execute(
        "SELECT DISTINCT unit FROM (SELECT unit FROM cases UNION SELECT unit FROM user_units) WHERE unit IS NOT NULL ORDER BY 1"
    ).fetchall()]


def callback_rows(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """``mart_case_callbacks`` with the first call's caller references (PBX id, last 3 digits, initials)."""
    return _dicts(con.execute(
        """SELECT k.case_id, k.unit, k.topic, k.place, k.resolved_at, k.result, k.n_calls,
                  first(c.pbx_call_id ORDER BY c.started_at) AS pbx_call_id,
                  first(c.caller_last3 ORDER BY c.started_at) AS caller_last3,
                  first(c.caller_initials ORDER BY c.started_at) AS caller_initials,
                  first(c.started_at ORDER BY c.started_at) AS called_at
           FROM mart_case_callbacks k JOIN case_calls l USING (case_id) JOIN calls c USING (call_id)
           GROUP BY ALL ORDER BY k.resolved_at"""))


# ---------------------------------------------------------------- changing

def update_case(con: duckdb.DuckDBPyConnection, case_id: str, sets: dict) -> None:
    """Set columns of one case; the keys of ``sets`` are column names chosen by the caller's code."""
    con.execute(f"UPDATE cases SET {', '.join(f'{k} = ?' for k in sets)} WHERE case_id = ?", [*sets.values(), case_id])


def case_call_ids(con: duckdb.DuckDBPyConnection, case_id: str) -> list[str]:
    """The case's calls in the order they were linked."""
    return [r[0] for r in con.execute("SELECT call_id FROM case_calls WHERE case_id = ? ORDER BY linked_at",
                                      [case_id]).fetchall()]


def case_id_of_call(con: duckdb.DuckDBPyConnection, call_id: str) -> str | None:
    row = con.execute("SELECT case_id FROM case_calls WHERE call_id = ?", [call_id]).fetchone()
    return row[0] if row else None


def n_case_calls(con: duckdb.DuckDBPyConnection, case_id: str) -> int:
    return con.execute("SELECT count(*) FROM case_calls WHERE case_id = ?", [case_id]).fetchone()[0]


def proposal(con: duckdb.DuckDBPyConnection, case_id: str, into_case_id: str) -> tuple[str | None] | None:
    """(decision,) of the proposal to merge ``case_id`` into ``into_case_id``, or None when there is none."""
    return con.execute("SELECT decision FROM case_merge_proposals WHERE case_id = ? AND into_case_id = ?",
                       [case_id, into_case_id]).fetchone()


def decide_proposal(con: duckdb.DuckDBPyConnection, case_id: str, into_case_id: str, decision: str, user: str,
                    now: datetime) -> None:
    con.execute("UPDATE case_merge_proposals SET decision = ?, decided_by = ?, decided_at = ? "
                "WHERE case_id = ? AND into_case_id = ?", [decision, user, now, case_id, into_case_id])


def merge_rows(con: duckdb.DuckDBPyConnection, case_id: str, into: str, user: str, now: datetime, urgent: bool,
               priority: int) -> None:
    """Move the case's calls into ``into``, mark it merged, and give ``into`` its urgency and priority if higher."""
    con.execute("UPDATE case_calls SET case_id = ?, linked_at = ?, linked_by = ? WHERE case_id = ?", [into, now, user, case_id])
    con.execute("UPDATE cases SET status = 'merged', merged_into = ? WHERE case_id = ?", [into, case_id])
    con.execute("UPDATE cases SET urgent = urgent OR ?, priority = least(priority, ?) WHERE case_id = ?",
                [urgent, priority, into])


def unlink_call(con: duckdb.DuckDBPyConnection, call_id: str) -> None:
    con.execute("DELETE FROM case_calls WHERE call_id = ?", [call_id])


def bring_back(con: duckdb.DuckDBPyConnection, case_id: str, call_id: str, user: str, now: datetime) -> None:
    """A merged case becomes ``new`` again, holding ``call_id``."""
    con.execute("UPDATE cases SET status = 'new', merged_into = NULL WHERE case_id = ?", [case_id])
    con.execute("INSERT INTO case_calls VALUES (?, ?, ?, ?)", [call_id, case_id, now, user])


def mark_split(con: duckdb.DuckDBPyConnection, case_id: str, into_case_id: str, user: str, now: datetime) -> None:
    """A proposal to merge ``case_id`` into ``into_case_id`` (if any) is decided ``split``."""
    con.execute("UPDATE case_merge_proposals SET decision = 'split', decided_by = ?, decided_at = ? "
                "WHERE case_id = ? AND into_case_id = ?", [user, now, case_id, into_case_id])


def insert_unit_move(con: duckdb.DuckDBPyConnection, case_id: str, from_unit: str, to_unit: str | None, user: str,
                     at: datetime, call_id: str | None = None) -> None:
    """A case re-routed away from ``from_unit`` (migration 017): the notice that unit's case list shows."""
    con.execute("INSERT INTO case_unit_moves VALUES (?, ?, ?, ?, ?, ?)", [case_id, from_unit, to_unit, user, at, call_id])


def unit_moves_away(con: duckdb.DuckDBPyConnection, unit: str, since: datetime) -> list[dict]:
    """(case_id, moved_at) of the cases taken from ``unit`` since ``since`` that it does not hold again, newest first."""
    return [dict(zip(("case_id", "moved_at"), r)) for r in con.execute(
        """SELECT m.case_id, max(m.moved_at) FROM case_unit_moves m JOIN cases c USING (case_id)
           WHERE m.from_unit = ? AND m.moved_at >= ? AND c.unit IS DISTINCT FROM m.from_unit
           GROUP BY m.case_id ORDER BY 2 DESC""", [unit, since]).fetchall()]
