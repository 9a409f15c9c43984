"""Cases (phiếu phản ánh): a call that reports a problem opens one; units handle it to the end.

- A loaded call opens a case (:func:`build_cases`, called by the loader): topics, place,
  summary (redacted), the unit routing chose (:mod:`pipeline.analysis.routing`, editable), urgency,
  the due date (:mod:`pipeline.casework.workdays`). A question answered on the line (only
  "administrative procedures", not urgent) is closed at once as ``answered``.
- Lifecycle, every change in ``case_events`` (who, when, note)::

      new → forwarded → in_progress → resolved → informed → closed
      new → answered;  forwarded → new (returned by the unit)
      resolved | informed | closed → in_progress (reopen);  answered → new (reopen)

- One incident, many calls: a new case is *proposed* for an earlier one (same caller
  hash, or same topic and place within :data:`WINDOW_DAYS`); a person confirms (the
  calls move, the later case becomes ``merged``) or splits (they stay apart).
- Reloading a call never duplicates or reopens its case; a QA topic correction or a
  place edit re-routes an open case (audited) unless a person chose its unit.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from pipeline import access
from pipeline.analysis.pii import redacted
from pipeline.analysis.places import KIND_WORDS
from pipeline.analysis.routing import route_call
from pipeline.casework import workdays
from pipeline.casework.units import renamed
from pipeline.errors import HotlineError
from pipeline.i18n import translator
from pipeline.textnorm import fold_accents
from pipeline.warehouse import cases as rows
from pipeline.warehouse import users as unit_rows
from pipeline.warehouse.db import transaction

STATUSES = ("new", "forwarded", "in_progress", "resolved", "informed", "closed", "answered", "merged")
OPEN = ("new", "forwarded", "in_progress")
DONE = ("resolved", "informed", "closed", "answered")
STAFF = ("qa", "admin")  # operators and QA: create, forward, merge, inform, close
READ_ALL = ("qa", "manager", "admin")
UNIT_ROLE = "unit"
PIPELINE_USER = "pipeline"

# (from, to) -> roles allowed. Anything else is refused.
TRANSITIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("new", "forwarded"): STAFF,
    ("new", "answered"): STAFF,
    ("forwarded", "in_progress"): (UNIT_ROLE, *STAFF),
    ("forwarded", "new"): (UNIT_ROLE, *STAFF),  # "not ours": back to the operators
    ("in_progress", "resolved"): (UNIT_ROLE, *STAFF),
    ("resolved", "informed"): STAFF,
    ("informed", "closed"): STAFF,
    ("resolved", "in_progress"): STAFF,  # reopen
    ("informed", "in_progress"): STAFF,  # reopen
    ("closed", "in_progress"): STAFF,  # reopen
    ("answered", "new"): STAFF,  # reopen: it was a complaint after all
}
REOPENS = {("resolved", "in_progress"), ("informed", "in_progress"), ("closed", "in_progress"), ("answered", "new")}
ANSWERED_TOPICS = frozenset({"administrative_procedures"})  # questions the operator answers on the line
WINDOW_DAYS = 7  # calls this close in time may be one incident
DETAIL_KINDS = ("street", "alley", "hamlet")  # finer places: two different streets are two incidents
SUMMARY_CHARS = 240


class CaseError(HotlineError):
    """A case action that the rules refuse (unknown case, wrong step, missing result)."""

    exit_code = 2


class NotAllowed(CaseError):
    """The user's role may not do this to this case."""


@dataclass(frozen=True)
class Actor:
    name: str
    role: str  # qa | manager | admin | unit | pipeline
    unit: str | None = None  # for role unit
    lines: tuple[str, ...] | None = None  # the user's line scope (user_lines, issue 32); None: every line


def case_id_for(call_id: str) -> str:
    return f"PA-{call_id}"


def unit_of_user(con: duckdb.DuckDBPyConnection, user_name: str) -> str | None:
    return rows.user_unit(con, user_name)


def set_user_unit(con: duckdb.DuckDBPyConnection, user_name: str, unit: str) -> None:
    """Tie an account (role ``unit``) to one handling unit, named as routing names it (agency_vi)."""
    if not unit.strip():
        raise CaseError("a unit user needs --unit NAME (the unit's name as in routing.csv, e.g. 'UBND phường Tân Lập')")
    rows.set_user_unit(con, user_name.strip().lower(), unit.strip())


def actor_for(con: duckdb.DuckDBPyConnection, name: str, role: str) -> Actor:
    return Actor(name, role, unit_of_user(con, name) if role == UNIT_ROLE else None)


# ---------------------------------------------------------------- facts of calls

def _place_label(kind: str, name: str) -> str:
    return f"{KIND_WORDS[kind]} {name}" if kind in KIND_WORDS else name


def _kind_of_label(label: str) -> tuple[str, str]:
    for kind in ("town", "ward", "commune"):
        word = KIND_WORDS[kind] + " "
        if label.startswith(word):
            return kind, label[len(word):]
    return "ward", label


def call_facts(con: duckdb.DuckDBPyConnection, call_ids: Sequence[str] | None = None) -> list[dict]:
    """What a case needs from each loaded call (status done), oldest first."""
    if call_ids is not None and not call_ids:
        return []
    calls = rows.done_calls(con, call_ids)
    ids = [r[0] for r in calls]
    topics: dict[str, list[str]] = {}
    for cid, topic in rows.call_topics(con, ids):
        topics.setdefault(cid, []).append(topic)
    places: dict[str, list[tuple[str, str]]] = {}
    for cid, kind, name in rows.call_places(con, ids):
        places.setdefault(cid, []).append((kind, name))
    renames = unit_rows.unit_renames(con)  # issue 29: an admin renamed or merged units
    routes = {cid: renamed(renames, unit) for cid, unit in rows.first_routes(con, ids).items()}
    citizen: dict[str, str] = {}
    for cid, text in rows.citizen_sentences(con, ids):
        if len(citizen.get(cid, "")) < SUMMARY_CHARS:
            citizen[cid] = (citizen.get(cid, "") + " " + text).strip()
    out = []
    for cid, started, urgent, caller, transcript, call_summary in calls:
        ps = places.get(cid, [])
        admin = next(((k, n) for k, n in ps if k in ("ward", "commune", "town")), None)
        detail = next((n for k, n in ps if k in DETAIL_KINDS), None)
        said = (citizen.get(cid) or transcript or "")[:SUMMARY_CHARS]
        # What the unit reads as "Nội dung": the call's one-line summary (issue 29), not a transcript
        # fragment; what the citizen said only when the call has none. Grouping compares ``said``.
        summary = call_summary or said
        out.append({"call_id": cid, "started_at": started, "urgent": bool(urgent), "caller_hash": caller,
                    "topics": [t for t in topics.get(cid, []) if t != "other"] or topics.get(cid, []),
                    "place": _place_label(*admin) if admin else None, "place_detail": detail,
                    "unit": routes.get(cid), "renames": renames, "summary": summary[:SUMMARY_CHARS], "said": said,
                    "transcript": transcript or ""})
    return out


def is_inquiry(facts: dict) -> bool:
    """A question answered on the line: only procedure topics, and nothing urgent."""
    return bool(facts["topics"]) and set(facts["topics"]) <= ANSWERED_TOPICS and not facts["urgent"]


# ---------------------------------------------------------------- grouping

@functools.lru_cache(maxsize=65536)
def _norm(text: str | None) -> str | None:
    return fold_accents(text).lower().strip() if text else None


# Folded syllables that say nothing about *what* the problem is (function words, pronouns, "lose", "broken").
_STOP = frozenset("""
a o co khong bi la cua va cho toi nha duong phuong xa thi tran hem khu gan da roi ma lam qua nay hom may ca van lai ra
vao tu voi cac nhung mot nay do nguoi dan ta anh chi em a da xin goi phan anh hoi nhieu to lon gio luc nao chua duoc
mat hong sang chieu toi dem sao the nhu bao ai minh chung con ben trong ngoai tren duoi
""".split())


def content_words(text: str | None, exclude: Iterable[str | None] = ()) -> set[str]:
    """Folded syllables of ``text`` that may name the problem: no function words, no place names in ``exclude``."""
    return set(_content_words(text, tuple(exclude)))


@functools.lru_cache(maxsize=4096)
def _content_words(text: str | None, exclude: tuple) -> frozenset[str]:
    if not text:
        return frozenset()
    drop = set(_STOP)
    for e in exclude:
        drop |= set(re.findall(r"\w+", _norm(e) or ""))
    return frozenset(w for w in re.findall(r"\w+", _norm(text) or "") if w not in drop and not w.isdigit())


def same_incident(earlier: dict, later: dict, window_days: float = WINDOW_DAYS) -> str | None:
    """Why ``later`` (a case or a call's facts) looks like the same incident as ``earlier``; None if not.

    Both carry ``opened_at``/``started_at``, ``caller_hash``, ``topics``, ``place``, ``place_detail``.
    """
    t0 = earlier.get("opened_at") or earlier.get("started_at")
    t1 = later.get("opened_at") or later.get("started_at")
    if t0 is None or t1 is None or not timedelta(0) <= t1 - t0 <= timedelta(days=window_days):
        return None
    topics0, topics1 = set(earlier["topics"]), set(later["topics"])
    shared = topics0 & topics1
    same_caller = bool(earlier.get("caller_hash")) and earlier["caller_hash"] == later.get("caller_hash") and (
        bool(shared) or not topics0 or not topics1)
    same_place = bool(shared) and bool(earlier.get("place")) and _norm(earlier["place"]) == _norm(later.get("place"))
    if not (same_caller or same_place):
        return None
    details0 = {_norm(d) for d in (earlier.get("details") or {earlier.get("place_detail")}) if d}
    d1 = _norm(later.get("place_detail"))
    if d1 and details0 and d1 not in details0:
        return None  # two different streets (of one ward): two incidents
    same_street = bool(d1) and d1 in details0
    places = (earlier.get("place"), later.get("place"), earlier.get("place_detail"), later.get("place_detail"))
    w0 = content_words(earlier.get("said") or earlier.get("summary"), places)
    w1 = content_words(later.get("said") or later.get("summary"), places)
    says_same = bool(w0 & w1)  # one shared word for the problem ("rác", "đèn", "nước")
    # A repeat caller: same topic and the same problem word (or too little text to tell); the street may match
    # while the problem differs (water today, electricity tomorrow).
    if same_caller and (says_same or not w0 or not w1):
        return "same_caller"
    # Neighbours: same topic and ward, and the same street or the same problem word.
    if same_place and (says_same or same_street):
        return "same_place_topic"
    return None


def propose_for(candidates: Iterable[dict], later: dict, window_days: float = WINDOW_DAYS) -> tuple[dict, str] | None:
    """The earlier case ``later`` should join, and why: a same-caller match first, then the most recent."""
    best = None
    for c in candidates:
        why = same_incident(c, later, window_days)
        if why is None:
            continue
        same_street = bool(later.get("place_detail")) and _norm(later["place_detail"]) == _norm(c.get("place_detail"))
        key = (why == "same_caller", same_street, c.get("opened_at") or c.get("started_at"))
        if best is None or key > best[0]:
            best = (key, c, why)
    return (best[1], best[2]) if best else None


# ---------------------------------------------------------------- building from loaded calls

def _event(con, case_id, user, action, from_status=None, to_status=None, note=None, at=None):
    rows.insert_event(con, case_id, at or datetime.now(), user, action, from_status, to_status, note)


class _Incidents:
    """Open complaints in memory for one build: looked up by caller and by place; union-find over
    proposals and merges, so that ``details`` holds the streets said anywhere in a proposed incident."""

    def __init__(self, con, since: datetime):
        complaints = rows.open_complaints_since(con, since)
        self.parent: dict[str, str] = {}
        self.details: dict[str, set[str]] = {}
        self.by_caller: dict[str, list[dict]] = {}
        self.by_place: dict[str, list[dict]] = {}
        for a, b in rows.incident_links_since(con, since):
            self.join(a, b)
        for case_id, detail in rows.place_details_since(con, since):
            self.details.setdefault(self.find(case_id), set()).add(detail)
        for r in complaints:
            self.add({"case_id": r[0], "opened_at": r[1], "caller_hash": r[2],
                      "topics": (r[3] or "").split(",") if r[3] else [], "place": r[4], "place_detail": r[5],
                      "summary": r[6], "said": r[7]}, detail_known=True)

    def find(self, x: str) -> str:
        while self.parent.get(x, x) != x:
            x = self.parent[x]
        return x

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb
            self.details.setdefault(rb, set()).update(self.details.pop(ra, set()))

    def add(self, case: dict, *, detail_known: bool = False) -> None:
        if case.get("place_detail") and not detail_known:
            self.details.setdefault(self.find(case["case_id"]), set()).add(case["place_detail"])
        if case.get("caller_hash"):
            self.by_caller.setdefault(case["caller_hash"], []).append(case)
        if case.get("place"):
            self.by_place.setdefault(_norm(case["place"]), []).append(case)

    def candidates(self, facts: dict, window_days: float = WINDOW_DAYS) -> list[dict]:
        """Cases that could hold ``facts``' incident. Calls come oldest first, so older cases are dropped for good."""
        t = facts.get("started_at")
        seen, out = set(), []
        pools = []
        for index, key in ((self.by_caller, facts.get("caller_hash")), (self.by_place, _norm(facts.get("place")))):
            if key and key in index:
                if t is not None:
                    index[key] = [c for c in index[key] if c["opened_at"] >= t - timedelta(days=window_days)]
                pools.append(index[key])
        for c in (c for pool in pools for c in pool):
            if c["case_id"] not in seen:
                seen.add(c["case_id"])
                out.append(c | {"details": self.details.get(self.find(c["case_id"]), set())})
        return out


def _route_unit(topics: Sequence[str], place: str | None, text: str) -> str | None:
    """The first agency routing gives (the call's stored route is preferred; this is for calls without one)."""
    places = [dict(zip(("kind", "name"), _kind_of_label(place)))] if place else []
    routes = route_call(list(topics), places, text=text)
    return routes[0].agency_vi if routes else None


_CASE_COLUMNS = ("case_id", "kind", "status", "topic", "topics", "place", "place_detail", "summary", "unit", "urgent",
                 "priority", "caller_hash", "opened_at", "due_date", "closed_at")


def _new_case_rows(facts: dict, user: str, now: datetime) -> tuple[dict, dict, list[dict]]:
    """The ``cases``, ``case_calls`` and ``case_events`` rows that open the case of one call."""
    cid = case_id_for(facts["call_id"])
    opened = facts["started_at"] or now
    inquiry = is_inquiry(facts)
    topic = facts["topics"][0] if facts["topics"] else None
    unit = facts["unit"] or renamed(facts.get("renames") or {},
                                    _route_unit(facts["topics"], facts["place"], facts["transcript"]))
    case = dict(zip(_CASE_COLUMNS, (
        cid, "inquiry" if inquiry else "complaint", "answered" if inquiry else "new", topic, ",".join(facts["topics"]),
        facts["place"], facts["place_detail"], facts["summary"], unit, facts["urgent"],
        1 if facts["urgent"] else (3 if inquiry else 2), facts["caller_hash"], opened,
        None if inquiry else workdays.due_date(opened, topic, unit, facts["urgent"]), opened if inquiry else None)))
    link = {"call_id": facts["call_id"], "case_id": cid, "linked_at": now, "linked_by": user}
    events = [_event_row(cid, now, user, "opened", None, "new", f"call {facts['call_id']}")]
    if inquiry:
        events.append(_event_row(cid, now, user, "status", "new", "answered", "question answered on the line"))
    return case, link, events


def _event_row(case_id, at, user, action, from_status=None, to_status=None, note=None) -> dict:
    return {"case_id": case_id, "acted_at": at, "user_name": user, "action": action, "from_status": from_status,
            "to_status": to_status, "note": note}


def open_case(con: duckdb.DuckDBPyConnection, facts: dict, *, user: str = PIPELINE_USER, now: datetime | None = None) -> str:
    """Insert the case for one call (no transaction of its own). Returns its id."""
    case, link, events = _new_case_rows(facts, user, now or datetime.now())
    rows.insert_case(con, case, link, events)
    return case["case_id"]


def build_cases(con: duckdb.DuckDBPyConnection, call_ids: Sequence[str] | None = None, *,
                window_days: float = WINDOW_DAYS, now: datetime | None = None) -> dict[str, int]:
    """Open a case for every loaded call that has none, and propose merges. Idempotent.

    A call already in a case is left alone: re-running never duplicates or reopens.
    Calls are taken oldest first and compared with the open complaints of the window
    before them (in memory; rows are written in bulk, in one transaction).
    Returns counts: ``opened``, ``answered``, ``proposed``.
    """
    facts = call_facts(con, call_ids)
    have = rows.linked_call_ids(con, [f["call_id"] for f in facts])
    todo = [f for f in facts if f["call_id"] not in have]
    counts = {"opened": 0, "answered": 0, "proposed": 0}
    if not todo:
        return counts
    now = now or datetime.now()
    first = min(f["started_at"] or now for f in todo)
    incidents = _Incidents(con, first - timedelta(days=window_days))
    case_rows, links, events, proposal_rows = [], [], [], []
    for f in todo:
        case, link, evs = _new_case_rows(f, PIPELINE_USER, now)
        case_rows.append(case)
        links.append(link)
        events += evs
        if case["kind"] == "inquiry":
            counts["answered"] += 1
            continue
        counts["opened"] += 1
        hit = propose_for(incidents.candidates(f, window_days), f, window_days)
        if hit:
            into, why = hit
            proposal_rows.append({"case_id": case["case_id"], "into_case_id": into["case_id"], "reason": why,
                                  "proposed_at": now})
            events.append(_event_row(case["case_id"], now, PIPELINE_USER, "proposal", None, None,
                                     f"{why}: may be the incident of {into['case_id']}"))
            incidents.join(case["case_id"], into["case_id"])
            counts["proposed"] += 1
        incidents.add({"case_id": case["case_id"], "opened_at": case["opened_at"], "caller_hash": case["caller_hash"],
                       "topics": f["topics"], "place": case["place"], "place_detail": case["place_detail"],
                       "summary": case["summary"]})
    with transaction(con):
        rows.insert_rows(con, "cases", case_rows)
        rows.insert_rows(con, "case_calls", links)
        rows.insert_rows(con, "case_events", events)
        rows.insert_rows(con, "case_merge_proposals", proposal_rows)
    return counts


def sync_call(con: duckdb.DuckDBPyConnection, call_id: str) -> None:
    """After a call's (re)load: open its case if it has none; else re-route it while it is still ``new``."""
    row = rows.case_of_call(con, call_id)
    if row is None:
        build_cases(con, [call_id])
    elif row[1] == "new":
        refresh_routing(con, row[0], PIPELINE_USER, note="call reloaded")


# ---------------------------------------------------------------- reading, with unit isolation

def _case_row(con, case_id: str) -> dict | None:
    return rows.case_row(con, case_id)


def can_see(actor: Actor, case: dict) -> bool:
    if actor.role in READ_ALL:
        return True
    return actor.role == UNIT_ROLE and actor.unit is not None and case.get("unit") == actor.unit


# Events that hand a case to a unit: a forward, or a person choosing the unit.
def _hands_over(event: dict) -> bool:
    return (event["action"] == "status" and event["to_status"] == "forwarded") or event["action"] == "unit"


def unit_part(events: list[dict]) -> list[dict]:
    """The part of a case's history that is the unit's: from the last time the case was handed to
    it (forwarded, or its unit chosen) on; only the opening when it was never handed over."""
    start = max((i for i, e in enumerate(events) if _hands_over(e)), default=None)
    if start is None:
        return [e for e in events if e["action"] == "opened"][:1]
    return events[start:]


def get_case(con: duckdb.DuckDBPyConnection, case_id: str, actor: Actor, *, raw_text: bool = False) -> dict | None:
    """A case with its calls, events and proposals, or None when it does not exist *or* the actor may not see it.

    What each role sees is :mod:`pipeline.access`: the caller reference (last three digits, initials,
    PBX call id, caller hash) only for roles that may see it; notes and the result unredacted only
    with ``raw_text`` (the web app passes it for ``HOTLINE_RAW_TEXT_ROLES``); a unit gets only its
    own part of the history (:func:`unit_part`) and no merge proposals.
    """
    case = _case_row(con, case_id)
    if case is None or not can_see(actor, case):
        return None
    view = access.of(actor.role)
    raw_text = raw_text and view.raw_text_allowed
    today = datetime.now().date()
    case["is_overdue"] = case["status"] in OPEN and case["due_date"] is not None and case["due_date"] < today
    cal = workdays.default_calendar()
    case["working_days_taken"] = (cal.working_days_between(case["opened_at"], case["resolved_at"])
                                  if case["resolved_at"] else None)
    case["calls"] = [access.without_caller_reference(c, actor.role) for c in rows.case_calls(con, case_id)]
    access.without_caller_reference(case, actor.role)
    events = rows.case_events(con, case_id)
    if view.case_history != "all":
        events = unit_part(events)
        if not any(e["action"] == "status" and e["to_status"] == "resolved" for e in events):
            case["result"] = None  # another unit's result, from before the case was handed to this one
    if not raw_text:
        for e in events:
            e["note"] = redacted(e["note"])
        case["result"] = redacted(case["result"])
    case["events"] = events
    case["proposals"] = proposals(con, case_id) if view.cases == "all" else []
    case["allowed"] = [to for (frm, to), roles in TRANSITIONS.items() if frm == case["status"] and actor.role in roles]
    case["reopens"] = [to for to in case["allowed"] if (case["status"], to) in REOPENS]  # need a confirmation
    return case


def proposals(con: duckdb.DuckDBPyConnection, case_id: str | None = None, *, waiting_only: bool = False) -> list[dict]:
    return rows.proposals(con, case_id, waiting_only=waiting_only)


def list_cases(con: duckdb.DuckDBPyConnection, actor: Actor, *, status: str | None = None, unit: str | None = None,
               overdue: bool = False, kind: str | None = None, limit: int = 500) -> list[dict]:
    """Cases the actor may see, urgent first, then by due date. ``status``: a status, ``open`` or ``done``."""
    units_in: list[str] = []
    if actor.role == UNIT_ROLE:
        units_in.append(actor.unit or "\x00no unit")
    elif actor.role not in READ_ALL:
        return []
    if unit:
        units_in.append(unit)
    return rows.case_list(con, units=units_in, lines=actor.lines,
                          status=status if status in ("open", "done") or status in STATUSES else None,
                          overdue=overdue, kind=kind if kind in ("complaint", "inquiry") else None, limit=limit)


def units(con: duckdb.DuckDBPyConnection) -> list[str]:
    return rows.unit_names(con)


def callbacks(con: duckdb.DuckDBPyConnection, actor: Actor, *, raw_text: bool = False) -> list[dict]:
    """Resolved cases whose citizen has not been told: with the caller reference for the roles
    :mod:`pipeline.access` gives it (QA, admins).

    The reference is what finds the caller in the switchboard's log (PBX call id, last 3
    digits, initials); the number itself is never stored in clear. Managers see the list
    without it; unit users get nothing. The unit's result is redacted unless ``raw_text``.
    """
    if actor.role not in READ_ALL:
        return []
    found = [access.without_caller_reference(r, actor.role) for r in rows.callback_rows(con)]
    if not raw_text:
        for r in found:
            r["result"] = redacted(r["result"])
    return found


# ---------------------------------------------------------------- changing

def _load_for_change(con, case_id: str, actor: Actor) -> dict:
    case = _case_row(con, case_id)
    if case is None or not can_see(actor, case):
        raise CaseError(f"no case {case_id!r}")
    return case


def transition(con: duckdb.DuckDBPyConnection, case_id: str, to: str, actor: Actor, note: str = "",
               result: str | None = None, now: datetime | None = None) -> dict:
    """Move a case one allowed step, recording who, when and the note. Returns the updated row.

    Raises :class:`NotAllowed` for a step the rules or the actor's role do not allow,
    and :class:`CaseError` for an unknown (or, to a unit, foreign) case or a resolution
    without a result.
    """
    now = now or datetime.now()
    case = _load_for_change(con, case_id, actor)
    frm = case["status"]
    roles = TRANSITIONS.get((frm, to))
    if roles is None:
        raise NotAllowed(f"a case cannot go from {frm} to {to}; allowed: "
                         f"{', '.join(t for (f, t) in TRANSITIONS if f == frm) or 'nothing'}")
    if actor.role not in roles:
        raise NotAllowed(f"role {actor.role} may not move a case from {frm} to {to}")
    if to == "forwarded" and not case["unit"]:
        raise CaseError("choose the handling unit before forwarding")
    result = (result or "").strip()
    if to == "resolved" and not result:
        raise CaseError("write the result the unit reports before marking the case resolved")
    sets = {"status": to}
    if to == "forwarded":
        sets["forwarded_at"] = now
    elif to == "resolved":
        sets.update(resolved_at=now, result=result)
    elif to == "informed":
        sets["informed_at"] = now
    elif to in ("closed", "answered"):
        sets["closed_at"] = now
    if (frm, to) in REOPENS:
        sets.update(n_reopened=case["n_reopened"] + 1, closed_at=None, informed_at=None)
        if to == "new" and case["kind"] == "inquiry":
            sets["kind"] = "complaint"
            sets["due_date"] = workdays.due_date(now, case["topic"], case["unit"], case["urgent"])
    with transaction(con):
        rows.update_case(con, case_id, sets)
        _event(con, case_id, actor.name, "reopen" if (frm, to) in REOPENS else "status", frm, to,
               "; ".join(x for x in (note.strip(), f"result: {result}" if to == "resolved" else "") if x) or None, at=now)
    return _case_row(con, case_id)


def _require_staff(actor: Actor, what: str) -> None:
    if actor.role not in STAFF:
        raise NotAllowed(f"role {actor.role} may not {what}")


def set_unit(con: duckdb.DuckDBPyConnection, case_id: str, unit: str, actor: Actor, note: str = "") -> None:
    """A person chooses the handling unit (routing will not change it again)."""
    _require_staff(actor, "change a case's unit")
    case = _load_for_change(con, case_id, actor)
    unit = unit.strip()
    if not unit:
        raise CaseError("the unit name is empty")
    if case["status"] not in ("new", "forwarded", "in_progress"):
        raise NotAllowed(f"the unit of a {case['status']} case cannot change (reopen it first)")
    due = workdays.due_date(case["opened_at"], case["topic"], unit, case["urgent"])
    with transaction(con):
        rows.update_case(con, case_id, {"unit": unit, "unit_locked": True, "due_date": due})
        _event(con, case_id, actor.name, "unit", note="; ".join(x for x in (f"{case['unit']} → {unit}", note.strip()) if x))


def set_place(con: duckdb.DuckDBPyConnection, case_id: str, place: str, actor: Actor, note: str = "") -> None:
    """QA corrects the case's place ("phường Tân Lập"); an open case is re-routed (audited)."""
    _require_staff(actor, "correct a case's place")
    case = _load_for_change(con, case_id, actor)
    place = place.strip() or None
    with transaction(con):
        rows.update_case(con, case_id, {"place": place})
        _event(con, case_id, actor.name, "place", note="; ".join(x for x in (f"{case['place']} → {place}", note.strip()) if x))
    if case["status"] in OPEN:
        refresh_routing(con, case_id, actor.name, note="place corrected")


def refresh_routing(con: duckdb.DuckDBPyConnection, case_id: str, user: str, note: str = "", *,
                    qa_call: str | None = None, labels: dict[str, str] | None = None, lang: str = "vi") -> bool:
    """Recompute an open case's topics and unit from its calls (QA corrections included) and its place.

    A changed unit (unless a person chose it) moves a forwarded or in-progress case back to
    ``new``, to be forwarded to the right unit, and leaves the unit that lost it a notice
    (``case_unit_moves``). Every change is an event; after a QA topic correction (``qa_call``) its
    note is a sentence in ``lang`` naming topics by their ``labels``. Returns True if anything changed.
    """
    case = _case_row(con, case_id)
    if case is None or case["status"] not in OPEN:
        return False
    ids = rows.case_call_ids(con, case_id)
    facts = call_facts(con, ids)
    if not facts:
        return False
    topics: list[str] = []
    for f in facts:
        topics += [t for t in f["topics"] if t not in topics]
    routed = renamed(unit_rows.unit_renames(con),
                     _route_unit(topics, case["place"], " ".join(f["transcript"] for f in facts)))
    unit = case["unit"] if case["unit_locked"] else (routed or case["unit"])
    topic = topics[0] if topics else None
    changed_topics = ",".join(topics) != (case["topics"] or "")
    changed_unit = unit != case["unit"]
    if not (changed_topics or changed_unit):
        return False
    sets = {"topic": topic, "topics": ",".join(topics), "unit": unit,
            "due_date": workdays.due_date(case["opened_at"], topic, unit, case["urgent"])}
    back = changed_unit and case["status"] in ("forwarded", "in_progress")
    if back:
        sets["status"] = "new"
    if qa_call is not None:
        t = translator(lang)
        named = lambda keys: ", ".join((labels or {}).get(k, k) for k in keys) or "—"  # noqa: E731
        why_text = t("qa_reroute_note", old=named((case["topics"] or "").split(",") if case["topics"] else []),
                     new=named(topics), unit_old=case["unit"] or "—", unit_new=unit or "—",
                     back=t("qa_reroute_back") if back else "", call=qa_call)
    else:
        why = []
        if changed_topics:
            why.append(f"topics {case['topics'] or '—'} → {','.join(topics) or '—'}")
        if changed_unit:
            why.append(f"unit {case['unit'] or '—'} → {unit or '—'}" + (" (forward again)" if back else ""))
        if note:
            why.append(note)
        why_text = "; ".join(why)
    now = datetime.now()
    with transaction(con):
        rows.update_case(con, case_id, sets)
        _event(con, case_id, user, "rerouted", case["status"], sets.get("status", case["status"]), why_text, at=now)
        if changed_unit and case["unit"]:
            rows.insert_unit_move(con, case_id, case["unit"], unit, user, now, qa_call)
    return True


def on_topic_corrected(con: duckdb.DuckDBPyConnection, call_id: str, user: str, *,
                       labels: dict[str, str] | None = None, lang: str = "vi") -> None:
    """Called after QA adds or removes a call's topic: re-route the call's open case (the event's note in ``lang``)."""
    case_id = rows.case_id_of_call(con, call_id)
    if case_id:
        refresh_routing(con, case_id, user, qa_call=call_id, labels=labels, lang=lang)


def moved_away_notices(con: duckdb.DuckDBPyConnection, actor: Actor, days: int = 30) -> list[dict]:
    """For a unit's member: the cases re-routed away from their unit in the last ``days`` days (id and when)."""
    if actor.role != UNIT_ROLE or not actor.unit:
        return []
    return rows.unit_moves_away(con, actor.unit, datetime.now() - timedelta(days=days))


def decide_proposal(con: duckdb.DuckDBPyConnection, case_id: str, into_case_id: str, decision: str, actor: Actor,
                    now: datetime | None = None) -> None:
    """``confirmed``: the case's calls join ``into_case_id`` (the case becomes ``merged``); ``split``: they stay apart."""
    _require_staff(actor, "merge or split cases")
    if decision not in ("confirmed", "split"):
        raise CaseError(f"decision {decision!r} must be confirmed or split")
    now = now or datetime.now()
    row = rows.proposal(con, case_id, into_case_id)
    if row is None:
        raise CaseError(f"no proposal to merge {case_id} into {into_case_id}")
    if row[0] is not None:
        raise CaseError(f"that proposal was already {row[0]}")
    with transaction(con):
        rows.decide_proposal(con, case_id, into_case_id, decision, actor.name, now)
        if decision == "confirmed":
            _merge(con, case_id, into_case_id, actor.name, now)
        else:
            _event(con, case_id, actor.name, "split", note=f"not the incident of {into_case_id}", at=now)


def merge(con: duckdb.DuckDBPyConnection, case_id: str, into_case_id: str, actor: Actor) -> None:
    """Merge a case into another by hand (no proposal needed)."""
    _require_staff(actor, "merge cases")
    for c in (case_id, into_case_id):
        _load_for_change(con, c, actor)
    with transaction(con):
        _merge(con, case_id, into_case_id, actor.name, datetime.now())


def _merge(con, case_id: str, into: str, user: str, now: datetime) -> None:
    a, b = _case_row(con, case_id), _case_row(con, into)
    if a is None or b is None or case_id == into:
        raise CaseError(f"cannot merge {case_id} into {into}")
    if a["status"] == "merged" or b["status"] == "merged":
        raise CaseError("one of the two cases is already merged into another")
    rows.merge_rows(con, case_id, into, user, now, a["urgent"], a["priority"])
    _event(con, case_id, user, "merged", a["status"], "merged", f"into {into}", at=now)
    _event(con, into, user, "merged", note=f"calls of {case_id} joined", at=now)


def split_call(con: duckdb.DuckDBPyConnection, case_id: str, call_id: str, actor: Actor) -> str:
    """Take one call out of a case into a case of its own (new). Returns that case's id."""
    _require_staff(actor, "split cases")
    if rows.case_id_of_call(con, call_id) != case_id:
        raise CaseError(f"call {call_id} is not in case {case_id}")
    if rows.n_case_calls(con, case_id) < 2:
        raise CaseError("a case's only call cannot be split off")
    new_id = case_id_for(call_id)
    if new_id == case_id:
        raise CaseError(f"call {call_id} opened {case_id}: split the other calls off instead")
    facts = call_facts(con, [call_id])[0]
    now = datetime.now()
    with transaction(con):
        rows.unlink_call(con, call_id)
        if _case_row(con, new_id) is not None:  # it was merged in: bring it back
            rows.bring_back(con, new_id, call_id, actor.name, now)
        else:
            open_case(con, facts, user=actor.name, now=now)
        rows.mark_split(con, new_id, case_id, actor.name, now)
        _event(con, case_id, actor.name, "split", note=f"call {call_id} → {new_id}", at=now)
        _event(con, new_id, actor.name, "split", None, "new", f"split from {case_id}", at=now)
    return new_id
